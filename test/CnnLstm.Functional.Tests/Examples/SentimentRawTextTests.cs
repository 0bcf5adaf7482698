using System.Globalization;
using System.IO.Compression;
using System.Text.RegularExpressions;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;

namespace KerasStyle.Tests.Examples;

/// <summary>
/// <c>sentiment --raw-text</c> (issue 26) on a tiny subset of IMDB: the seed's CNN-LSTM behind a string Input and an
/// adapted TextVectorization, saved as one <c>.keras</c> file (vocabulary in its assets) that predicts the same from
/// text after reload, in this process and through <c>predict model.keras "text"</c> with no data folder.
/// </summary>
public class SentimentRawTextTests
{
    private static readonly string[] Reviews = { "A wonderful, moving film. Great acting!", "a dull boring film; a waste of time" };

    private DirectoryInfo scratch = null!;

    [OneTimeSetUp]
    public void CreateScratch() => scratch = Directory.CreateTempSubdirectory("kerasstyle-rawtext-");

    [OneTimeTearDown]
    public void DeleteScratch() => scratch.Delete(recursive: true);

    [Test]
    public void RawText_TinySubset_SavesOneFileThatPredictsTheSameFromTextAfterReload()
    {
        var model = Path.Combine(scratch.FullName, "raw.keras");

        var run = ExamplesProgram.Run(ExamplesProgram.Dll, scratch.FullName, null,
            "sentiment", "--raw-text", "--limit", "60", "--epochs", "1", "--verbose", "0", "--output", model, "--data", TestPaths.SharedData);

        Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
        Assert.That(run.StdoutLines, Does.Contain("60 train texts").And.Contain("60 test texts"), run.ToString());
        Assert.That(run.StdoutLines, Has.Some.Match(@"^text_vectorization \(TextVect.*\(None, 100\)"), run.ToString());
        Assert.That(run.StdoutLines, Has.Some.Match(@"^Total params: 2,638,895$"), "the seed's weights; the vocabulary is no weight");
        Assert.That(run.StdoutLines, Has.One.Match(@"^result task=sentiment architecture=seed input=raw_text adapt_seconds=\d+\.\d test_loss=\d+\.\d{4} test_accuracy=\d\.\d{4} train_seconds=\d+\.\d seconds_per_epoch=\d+\.\d samples_per_second=\d+\.\d data=memory peak_working_set_mb=\d+$"), run.ToString());
        var reload = run.StdoutLines.Select(l => Regex.Match(l, @"^Reloaded raw\.keras: 60 test reviews predicted from text, largest difference from the trained model (?<d>\S+)$")).Single(m => m.Success);
        Assert.That(double.Parse(reload.Groups["d"].Value, CultureInfo.InvariantCulture), Is.LessThanOrEqualTo(1e-6), run.ToString());

        using (var archive = ZipFile.OpenRead(model))
        {
            Assert.That(archive.Entries.Select(e => e.FullName), Does.Contain("assets/layers/text_vectorization/vocabulary.txt"));
        }

        Backend.ClearSession();
        using var loaded = Model.Load(model, compile: false);
        Assert.That(loaded.Inputs[0].DType, Is.EqualTo(DType.String));
        var vectorize = loaded.Layers.OfType<TextVectorization>().Single();
        var vocabulary = vectorize.GetVocabulary();
        Assert.That(vocabulary.Take(2), Is.EqualTo(new[] { string.Empty, "[UNK]" }));
        Assert.That(vocabulary, Has.Count.InRange(100, 20000).And.Contains("film"), "learned from 60 reviews, at most maxTokens");
        var probabilities = loaded.Predict<float[,]>(Reviews);

        // The model file alone: KERASSTYLE_DATA names a folder that does not exist, which any read of the data would report.
        var predict = ExamplesProgram.Run(ExamplesProgram.Dll, scratch.FullName, Path.Combine(scratch.FullName, "no-data"), "predict", model, Reviews[0], Reviews[1]);

        Assert.That(predict.ExitCode, Is.EqualTo(0), predict.ToString());
        Assert.That(predict.StdoutLines, Has.Length.EqualTo(2), predict.ToString());
        for (var i = 0; i < Reviews.Length; i++)
        {
            var line = Regex.Match(predict.StdoutLines[i], @"^(?<p>[01]\.\d{4})\t(?<label>positive|negative)\t(?<text>.*)$");
            Assert.That(line.Success, Is.True, predict.StdoutLines[i]);
            Assert.That(double.Parse(line.Groups["p"].Value, CultureInfo.InvariantCulture), Is.EqualTo(probabilities[i, 0]).Within(5.1e-5), "printed with 4 decimals");
            Assert.That(line.Groups["label"].Value, Is.EqualTo(probabilities[i, 0] > 0.5 ? "positive" : "negative"));
            Assert.That(line.Groups["text"].Value, Is.EqualTo(Reviews[i]));
        }
    }

    [TestCase("--architecture attention", "--raw-text builds the seed's architecture only, but --architecture attention was given.")]
    [TestCase("--stream", "--raw-text trains in memory on one process; it cannot be combined with --stream.")]
    public void RawText_WithAnOptionItCannotHonour_RefusedBeforeRunning(string option, string expected)
    {
        var run = ExamplesProgram.Run(ExamplesProgram.Dll, scratch.FullName, TestPaths.SharedData, new[] { "sentiment", "--raw-text" }.Concat(option.Split(' ')).ToArray());

        Assert.That(run.ExitCode, Is.EqualTo(2), run.ToString());
        Assert.That(run.Stderr, Does.Contain(expected), run.ToString());
        Assert.That(run.Stdout, Is.Empty);
    }
}
