using KerasStyle.Training.Callbacks;

namespace KerasStyle.Tests.Training.Callbacks;

/// <summary>Keras semantics of ModelCheckpoint: path placeholders, save-best-only, messages.</summary>
public class ModelCheckpointBehaviourTests
{
    private string directory = null!;

    [SetUp]
    public void Setup()
    {
        Backend.ClearSession();
        Utils.SetRandomSeed(31);
        directory = Directory.CreateTempSubdirectory("ks-checkpoint-").FullName;
    }

    [TearDown]
    public void RemoveFiles() => Directory.Delete(directory, recursive: true);

    [TestCase("w.{epoch:02d}-{val_loss:.2f}.weights.h5", 4, "w.05-0.12.weights.h5")]
    [TestCase("w.{epoch}.weights.h5", 9, "w.10.weights.h5")]
    [TestCase("w.{epoch:03d}.weights.h5", 0, "w.001.weights.h5")]
    [TestCase("w-{val_loss:.3e}.weights.h5", 0, "w-1.235e-01.weights.h5")]
    [TestCase("w-{val_loss}.weights.h5", 0, "w-0.12345.weights.h5")]
    [TestCase("plain.weights.h5", 3, "plain.weights.h5")]
    public void FormatPath_FillsKerasPlaceholders_WithOneBasedEpoch(string pattern, int epoch, string expected)
    {
        var logs = new Dictionary<string, double> { ["val_loss"] = 0.12345, ["loss"] = 0.5 };
        Assert.That(ModelCheckpoint.FormatPath(pattern, epoch, logs), Is.EqualTo(expected));
    }

    [Test]
    public void FormatPath_UnknownKey_NamesItAndTheAvailableKeys()
    {
        var e = Assert.Throws<ArgumentException>(() => ModelCheckpoint.FormatPath("w-{val_acc:.2f}.weights.h5", 0, new Dictionary<string, double> { ["loss"] = 1 }));
        Assert.That(e!.Message, Does.Contain("{val_acc}").And.Contain("(loss)"));
    }

    [Test]
    public void FormatPath_UnsupportedFormat_Throws()
    {
        Assert.Throws<ArgumentException>(() => ModelCheckpoint.FormatPath("w-{loss:x}.weights.h5", 0, new Dictionary<string, double> { ["loss"] = 1 }));
    }

    [Test]
    public void EveryEpoch_WritesAFileThatLoadsBackToThatEpochsWeights()
    {
        var recorder = new RecordingCallback();
        var checkpoint = new ModelCheckpoint(Path.Combine(directory, "w-{epoch:02d}.weights.h5"), saveBestOnly: false, saveWeightsOnly: true);
        using var model = CallbackTesting.CompiledMlp();
        CallbackTesting.Fit(model, 3, recorder, checkpoint);
        Assert.That(checkpoint.Saved.Select(Path.GetFileName), Is.EqualTo(new[] { "w-01.weights.h5", "w-02.weights.h5", "w-03.weights.h5" }));
        for (var epoch = 0; epoch < 3; epoch++)
        {
            model.LoadWeights(checkpoint.Saved[epoch]);
            Assert.That(TinyModels.Flat(model), Is.EqualTo(recorder.EpochWeights[epoch]), $"epoch {epoch}");
        }
    }

    [Test]
    public void SaveBestOnly_WritesOnlyWhenTheMonitoredValueImproves()
    {
        var recorder = new RecordingCallback("score", 3, 2, 2.5, 1, 1);
        var checkpoint = new ModelCheckpoint(Path.Combine(directory, "best-{epoch:02d}.weights.h5"), monitor: "score", saveBestOnly: true, saveWeightsOnly: true);
        using var model = CallbackTesting.CompiledMlp();
        CallbackTesting.Fit(model, 5, recorder, checkpoint);
        Assert.That(checkpoint.Saved.Select(Path.GetFileName), Is.EqualTo(new[] { "best-01.weights.h5", "best-02.weights.h5", "best-04.weights.h5" }));
        Assert.That(Directory.GetFiles(directory).Select(Path.GetFileName), Is.EquivalentTo(new[] { "best-01.weights.h5", "best-02.weights.h5", "best-04.weights.h5" }));
        model.LoadWeights(Path.Combine(directory, "best-04.weights.h5"));
        Assert.That(TinyModels.Flat(model), Is.EqualTo(recorder.EpochWeights[3]));
    }

    [Test]
    public void SaveBestOnly_OneFile_HoldsTheBestEpoch()
    {
        var recorder = new RecordingCallback("val_accuracy", 0.5, 0.8, 0.7, 0.6);
        var path = Path.Combine(directory, "best.weights.h5");
        var checkpoint = new ModelCheckpoint(path, monitor: "val_accuracy", saveBestOnly: true, saveWeightsOnly: true);
        using var model = CallbackTesting.CompiledMlp();
        CallbackTesting.Fit(model, 4, recorder, checkpoint);
        Assert.That(checkpoint.Saved, Has.Count.EqualTo(2));
        model.LoadWeights(path);
        Assert.That(TinyModels.Flat(model), Is.EqualTo(recorder.EpochWeights[1]));
    }

    [Test]
    public void Verbose_PrintsKerasMessages_WithPythonNumbersInAnyCulture()
    {
        var path = Path.Combine(directory, "best.weights.h5");
        var recorder = new RecordingCallback("score", 0.5, 0.7, 0.25);
        using var model = CallbackTesting.CompiledMlp();
        using var console = new ConsoleCapture();
        var culture = System.Globalization.CultureInfo.CurrentCulture;
        System.Globalization.CultureInfo.CurrentCulture = new System.Globalization.CultureInfo("de-DE");
        try
        {
            CallbackTesting.Fit(model, 3, recorder, new ModelCheckpoint(path, monitor: "score", saveBestOnly: true, saveWeightsOnly: true, verbose: 1));
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = culture;
        }

        var nl = Environment.NewLine;
        Assert.That(console.Text, Is.EqualTo(
            $"\nEpoch 00001: score improved from inf to 0.50000, saving model to {path}{nl}" +
            $"\nEpoch 00002: score did not improve from 0.50000{nl}" +
            $"\nEpoch 00003: score improved from 0.50000 to 0.25000, saving model to {path}{nl}"));
    }
}
