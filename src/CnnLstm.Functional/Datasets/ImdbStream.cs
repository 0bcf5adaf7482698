using System.Runtime.InteropServices;
using KerasStyle.Preprocessing;
using KerasStyle.Training.Data;
using Microsoft.Win32.SafeHandles;

namespace KerasStyle.Datasets;

/// <summary>
/// The IMDB reviews of a split file as a <see cref="DataSource"/>, read batch by batch: no array of all reviews or
/// all token ids is ever made in memory. Opening reads the <c>.tsv.gz</c> once, in one streaming pass, encoding and
/// padding each review as Keras' imdb example does (<see cref="ImdbEncoder"/>, <see cref="Sequences.PadSequences"/>)
/// and appending its <c>maxLen</c> token ids to a spool file in the temporary folder (4 bytes a token, like a
/// <c>tf.data</c> file cache; on Linux it is unlinked once open, so nothing is left behind even if the process is
/// killed); only the labels stay in memory (one byte a review). Each batch then reads its reviews' ids from the spool. The reviews are in a random order (from <c>seed</c>), reshuffled after every epoch, as the files
/// are sorted by label. Dispose deletes the spool.
/// </summary>
public sealed class ImdbStream : DataSource, IDisposable
{
    private readonly int batchSize;
    private readonly int maxLen;
    private readonly string spool;
    private readonly SafeFileHandle handle;
    private readonly byte[] labels;
    private readonly int[] order;
    private readonly Random random;
    private bool disposed;

    /// <summary>Opens a split file.</summary>
    /// <param name="path">The <c>.tsv.gz</c> (or plain <c>.tsv</c>) file, as <see cref="ImdbReviews.Read"/> reads it.</param>
    /// <param name="encoder">The word encoding (e.g. the IMDB word index with 20,000 words).</param>
    /// <param name="batchSize">Reviews per batch (the last batch may be smaller).</param>
    /// <param name="maxLen">Tokens kept per review (the last ones), padded at the front (Keras' <c>maxlen</c>).</param>
    /// <param name="seed">The seed of the review order.</param>
    /// <param name="limit">Use this many reviews (a random subset, as the in-memory examples take), or all.</param>
    /// <param name="workers">Threads that read and encode batches ahead of training.</param>
    /// <param name="maxQueueSize">Batches prepared ahead at most.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">A line is malformed (file and line named), or the file holds no review.</exception>
    public ImdbStream(string path, ImdbEncoder encoder, int batchSize = 32, int maxLen = 100, int seed = 0, int? limit = null, int workers = 1, int maxQueueSize = 10)
        : base(workers, maxQueueSize)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLen, 1);
        if (limit is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(limit), limit, "ImdbStream: limit must be at least 1.");
        }

        this.batchSize = batchSize;
        this.maxLen = maxLen;
        spool = Path.Combine(Path.GetTempPath(), $"kerasstyle-imdb-{Environment.ProcessId}-{Guid.NewGuid():N}.ids");
        var classes = new List<byte>();
        try
        {
            using (var writer = new FileStream(spool, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                ImdbReviews.ForEach(path, review =>
                {
                    var ids = Sequences.PadSequences(new[] { encoder.Encode(review.Text) }, maxLen: maxLen);
                    writer.Write(MemoryMarshal.AsBytes(MemoryMarshal.CreateReadOnlySpan(ref ids[0, 0], maxLen)));
                    classes.Add((byte)review.Label);
                });
            }

            if (classes.Count == 0)
            {
                throw new InvalidDataException($"{path}: the file holds no review.");
            }

            handle = File.OpenHandle(spool, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, FileOptions.RandomAccess | FileOptions.DeleteOnClose);
            if (!OperatingSystem.IsWindows())
            {
                // Unlinked now, read through the open handle: a killed process leaves no spool behind.
                File.Delete(spool);
            }
        }
        catch
        {
            File.Delete(spool);
            throw;
        }

        labels = classes.ToArray();
        random = new Random(seed);
        var all = Enumerable.Range(0, labels.Length).ToArray();
        random.Shuffle(all);
        order = limit is int n && n < all.Length ? all[..n] : all;
    }

    /// <summary>The number of reviews used.</summary>
    public int Reviews => order.Length;

    /// <inheritdoc/>
    public override int? Count => (order.Length + batchSize - 1) / batchSize;

    /// <summary>The labels of the reviews in their current order (0 negative, 1 positive), e.g. to check predictions.</summary>
    public float[] Labels => order.Select(i => (float)labels[i]).ToArray();

    /// <summary>Reads the token ids of the reviews of batch <paramref name="index"/> from the spool: ids (batch, maxLen) as int, labels (batch,) as float.</summary>
    /// <param name="index">The batch, 0 to <see cref="Count"/> - 1.</param>
    /// <exception cref="ArgumentOutOfRangeException">An index outside the batches.</exception>
    public override DataBatch GetBatch(int index)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count!.Value);
        var start = index * batchSize;
        var size = Math.Min(batchSize, order.Length - start);
        var x = new int[size, maxLen];
        var y = new float[size];
        var record = (long)maxLen * sizeof(int);
        for (var i = 0; i < size; i++)
        {
            var review = order[start + i];
            var row = MemoryMarshal.AsBytes(MemoryMarshal.CreateSpan(ref x[i, 0], maxLen));
            if (RandomAccess.Read(handle, row, review * record) != row.Length)
            {
                throw new IOException($"ImdbStream: the spool file '{spool}' ends before review {review}.");
            }

            y[i] = labels[review];
        }

        return new DataBatch(x, y);
    }

    /// <summary>Reshuffles the reviews (Keras' <c>on_epoch_end</c> idiom), so each epoch's batches mix differently.</summary>
    public override void OnEpochEnd() => random.Shuffle(order);

    /// <summary>Closes and deletes the spool file.</summary>
    public void Dispose()
    {
        if (!disposed)
        {
            disposed = true;
            handle.Dispose();
        }
    }
}
