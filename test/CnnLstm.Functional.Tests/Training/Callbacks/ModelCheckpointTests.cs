using KerasStyle.Models;
using KerasStyle.Tests.Models;
using KerasStyle.Tests.Saving;
using KerasStyle.Training.Callbacks;

namespace KerasStyle.Tests.Training.Callbacks;

/// <summary>ModelCheckpoint writes whole .keras models by default, weights files with saveWeightsOnly.</summary>
public class ModelCheckpointTests : SavingTestBase
{
    [Test]
    public void Default_SavesLoadableKerasModelsPerEpoch()
    {
        var (x, y) = ModelFitTests.SineWindows(24);
        using var model = CnnLstmModels.Regression();
        model.Compile("adam", "mse");
        var checkpoint = new ModelCheckpoint(PathOf("model.{epoch:02d}.keras"), monitor: "loss");
        Assert.That(checkpoint.SaveWeightsOnly, Is.False);
        model.Fit(x, y, batchSize: 8, epochs: 2, verbose: 0, callbacks: new[] { checkpoint });

        Assert.That(checkpoint.Saved, Is.EqualTo(new[] { PathOf("model.01.keras"), PathOf("model.02.keras") }));
        using var loaded = Model.Load(PathOf("model.02.keras"));
        Assert.That(Bits(loaded), Is.EqualTo(Bits(model)));
        Assert.That(loaded.Optimizer!.Iterations, Is.EqualTo(6));
    }

    [TestCase("w.weights.h5")]
    [TestCase("w.h5")]
    public void SaveWeightsOnly_WritesWeightsFiles(string name)
    {
        var (x, y) = ModelFitTests.SineWindows(16);
        using var model = CnnLstmModels.Regression();
        model.Compile("adam", "mse");
        var checkpoint = new ModelCheckpoint(PathOf(name), monitor: "loss", saveBestOnly: true, saveWeightsOnly: true);
        model.Fit(x, y, batchSize: 8, epochs: 1, verbose: 0, callbacks: new[] { checkpoint });

        Backend.ClearSession();
        using var fresh = CnnLstmModels.Regression();
        fresh.LoadWeights(PathOf(name));
        Assert.That(Bits(fresh), Is.EqualTo(Bits(model)));
    }

    [Test]
    public void PathsThatDoNotMatchTheFormat_AreRefused()
    {
        Assert.That(() => new ModelCheckpoint(PathOf("m.h5")), Throws.ArgumentException.With.Message.Contains(".keras"));
        Assert.That(() => new ModelCheckpoint(PathOf("m.keras"), saveWeightsOnly: true), Throws.ArgumentException.With.Message.Contains(".weights.h5"));
        Assert.That(() => new ModelCheckpoint(PathOf("m.ksw"), saveWeightsOnly: true), Throws.ArgumentException);
    }
}
