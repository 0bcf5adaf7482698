using System.IO.Compression;
using KerasStyle.Datasets;
using KerasStyle.Preprocessing;

namespace KerasStyle.Tests.Datasets;

/// <summary>The streaming IMDB reader: the same encoding as the in-memory path, a reshuffle per epoch, its spool removed, bad files refused.</summary>
public class ImdbStreamTests
{
    private static ImdbEncoder Encoder() => new(ImdbEncoder.LoadWordIndex(TestPaths.DataFile("imdb/imdb_word_index.json")), numWords: 20000);

    [Test]
    public void Batches_HoldTheReviewsEncodedAsInMemory_InAShuffledOrderCoveringEveryReviewOnce()
    {
        var path = TestPaths.DataFile("imdb/imdb_test.tsv.gz");
        var encoder = Encoder();
        using var stream = new ImdbStream(path, encoder, batchSize: 64, seed: 3, limit: 300);
        var reviews = ImdbReviews.Read(path);

        Assert.That(stream.Count, Is.EqualTo(5));
        var tokens = new List<int[]>();
        var labels = new List<float>();
        for (var b = 0; b < stream.Count; b++)
        {
            var batch = stream.GetBatch(b);
            var x = (int[,])batch.X.Arrays![0];
            Assert.That(x.GetLength(1), Is.EqualTo(100));
            tokens.AddRange(Enumerable.Range(0, x.GetLength(0)).Select(i => Enumerable.Range(0, 100).Select(t => x[i, t]).ToArray()));
            labels.AddRange((float[])batch.Y!.Arrays![0]);
        }

        Assert.That(tokens, Has.Count.EqualTo(300));
        Assert.That(labels, Is.EqualTo(stream.Labels));
        Assert.That(labels.Distinct().Order(), Is.EqualTo(new[] { 0f, 1f }), "both labels among the first 300 of a label-sorted file");
        // Every batch row is the in-memory encoding of some review with that label (two reviews can share their last 100 tokens).
        var encoded = reviews.GroupBy(r => string.Join(',', Sequences.PadSequences(new[] { encoder.Encode(r.Text) }, maxLen: 100).Cast<int>()))
            .ToDictionary(g => g.Key, g => g.Select(r => r.Label).ToHashSet());
        for (var i = 0; i < tokens.Count; i++)
        {
            Assert.That(encoded.TryGetValue(string.Join(',', tokens[i]), out var labelsOfText), Is.True, $"row {i} is a review's encoding");
            Assert.That(labelsOfText, Does.Contain((int)labels[i]));
        }

        var before = stream.Labels;
        stream.OnEpochEnd();
        Assert.That(stream.Labels.Order(), Is.EqualTo(before.Order()));
        Assert.That(stream.Labels, Is.Not.EqualTo(before), "reshuffled after the epoch");
    }

    [Test]
    public void Open_LeavesNoSpoolFileBehind_AndDisposeEndsReading()
    {
        // The spool is opened delete-on-close: on Linux it leaves the folder at once, and its data goes with the handle.
        var before = Spools();
        var stream = new ImdbStream(TestPaths.DataFile("imdb/imdb_test.tsv.gz"), Encoder(), limit: 10);
        Assert.That(Spools().Except(before), Is.Empty);
        Assert.That(((int[,])stream.GetBatch(0).X.Arrays![0]).GetLength(0), Is.EqualTo(10));
        stream.Dispose();
        Assert.Throws<ObjectDisposedException>(() => stream.GetBatch(0));
    }

    [Test]
    public void Open_MalformedLine_ThrowsNamingFileAndLine_AndLeavesNoSpool()
    {
        var path = Path.Combine(Path.GetTempPath(), $"ks-bad-imdb-{Guid.NewGuid():N}.tsv.gz");
        try
        {
            using (var gz = new GZipStream(File.Create(path), CompressionLevel.Fastest))
            using (var writer = new StreamWriter(gz))
            {
                writer.Write($"{ImdbReviews.Header}\n1\t5\t9\tfine film\n2\tx\t1\tbroken\n");
            }

            var before = Spools();
            var error = Assert.Throws<InvalidDataException>(() => new ImdbStream(path, Encoder()));
            Assert.That(error!.Message, Does.Contain(path + ":3"));
            Assert.That(Spools().Except(before), Is.Empty);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static string[] Spools() => Directory.GetFiles(Path.GetTempPath(), $"kerasstyle-imdb-{Environment.ProcessId}-*.ids");
}
