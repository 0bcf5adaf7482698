using KerasStyle.Training;

namespace KerasStyle.Tests.Training;

public class HistoryTests
{
    [SetUp]
    public void Seed()
    {
        Backend.ClearSession();
        Utils.SetRandomSeed(5);
    }

    [Test]
    public void Values_HoldOneEntryPerEpochForLossMetricsAndValidation()
    {
        var (history, recorder) = Fit(epochs: 3, validation: true);
        Assert.That(history.Values.Keys, Is.EqualTo(new[] { "loss", "accuracy", "val_loss", "val_accuracy" }));
        Assert.That(history.Values.Values.Select(v => v.Count), Is.All.EqualTo(3));
        for (var epoch = 0; epoch < 3; epoch++)
        {
            foreach (var key in history.Values.Keys)
            {
                Assert.That(history[key][epoch], Is.EqualTo(recorder.EpochLogs[epoch][key]), $"{key} at epoch {epoch}");
            }
        }
    }

    [Test]
    public void Values_WithoutValidation_HaveNoValKeys()
    {
        var (history, _) = Fit(epochs: 2, validation: false);
        Assert.That(history.Values.Keys, Is.EqualTo(new[] { "loss", "accuracy" }));
    }

    [Test]
    public void Epoch_ListsTheEpochIndicesFromZero()
    {
        var (history, _) = Fit(epochs: 3, validation: false);
        Assert.That(history.Epoch, Is.EqualTo(new[] { 0, 1, 2 }));
    }

    [Test]
    public void Params_AreKerasParams()
    {
        var (history, recorder) = Fit(epochs: 2, validation: true, batchSize: 8);
        Assert.That(history.Params["batch_size"], Is.EqualTo(8));
        Assert.That(history.Params["epochs"], Is.EqualTo(2));
        Assert.That(history.Params["steps"], Is.EqualTo(3));
        Assert.That(history.Params["samples"], Is.EqualTo(20L));
        Assert.That(history.Params["verbose"], Is.EqualTo(0));
        Assert.That(history.Params["do_validation"], Is.EqualTo(true));
        Assert.That(history.Params["metrics"], Is.EqualTo(new[] { "loss", "accuracy", "val_loss", "val_accuracy" }));
        Assert.That(recorder.SeenParams, Is.SameAs(history.Params));
    }

    [Test]
    public void Indexer_UnknownKey_ListsTheKeys()
    {
        var (history, _) = Fit(epochs: 1, validation: false);
        var e = Assert.Throws<KeyNotFoundException>(() => _ = history["val_loss"]);
        Assert.That(e!.Message, Does.Contain("'val_loss'").And.Contain("loss, accuracy"));
    }

    [Test]
    public void EachFit_ReturnsItsOwnHistory()
    {
        var (x, y) = TinyModels.Blobs(20);
        using var model = TinyModels.Mlp();
        model.Compile("adam", "binary_crossentropy");
        var first = model.Fit(x, y, epochs: 2, verbose: 0);
        var second = model.Fit(x, y, epochs: 1, verbose: 0);
        Assert.That(first.Epoch, Is.EqualTo(new[] { 0, 1 }));
        Assert.That(second.Epoch, Is.EqualTo(new[] { 0 }));
        Assert.That(second["loss"], Has.Count.EqualTo(1));
    }

    [Test]
    public void Loss_IsTheSampleWeightedMeanOfTheEpochsBatchLosses()
    {
        var (history, recorder) = Fit(epochs: 1, validation: false, batchSize: 8);
        // 20 samples: batches of 8, 8 and 4.
        var expected = ((recorder.BatchLosses[0] * 8) + (recorder.BatchLosses[1] * 8) + (recorder.BatchLosses[2] * 4)) / 20;
        Assert.That(history["loss"][0], Is.EqualTo(expected).Within(1e-6));
    }

    private static (History History, RecordingCallback Recorder) Fit(int epochs, bool validation, int batchSize = 32)
    {
        var (x, y) = TinyModels.Blobs(20);
        var (vx, vy) = TinyModels.Blobs(6, seed: 9);
        using var model = TinyModels.Mlp();
        model.Compile("adam", "binary_crossentropy", new[] { "accuracy" });
        var recorder = new RecordingCallback();
        var history = model.Fit(x, y, batchSize: batchSize, epochs: epochs, verbose: 0,
            validationData: validation ? (vx, vy) : null, callbacks: new[] { recorder });
        return (history, recorder);
    }
}
