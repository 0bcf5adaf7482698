using KerasStyle.Training.Callbacks;

namespace KerasStyle.Tests.Training.Callbacks;

public class EarlyStoppingTests
{
    [SetUp]
    public void Seed()
    {
        Backend.ClearSession();
        Utils.SetRandomSeed(21);
    }

    [Test]
    public void StopsWhenNoImprovementForPatienceEpochs()
    {
        // Best 4 at epoch 1; epochs 2 and 3 do not improve, so training stops at the end of epoch 3.
        var stopping = new EarlyStopping(monitor: "score", patience: 2);
        var history = Fit(10, stopping, "score", 5, 4, 4.5, 4.2, 3, 2);
        Assert.That(history.Epoch, Is.EqualTo(new[] { 0, 1, 2, 3 }));
        Assert.That(stopping.StoppedEpoch, Is.EqualTo(3));
        Assert.That(stopping.Best, Is.EqualTo(4));
    }

    [Test]
    public void Patience0_StopsAtTheFirstEpochThatDoesNotImprove()
    {
        var stopping = new EarlyStopping(monitor: "score", patience: 0);
        var history = Fit(10, stopping, "score", 5, 4, 3, 3.5, 2);
        Assert.That(history.Epoch, Is.EqualTo(new[] { 0, 1, 2, 3 }));
    }

    [Test]
    public void ImprovingEveryEpoch_NeverStops_EvenWithPatience0()
    {
        var stopping = new EarlyStopping(monitor: "score", patience: 0);
        var history = Fit(4, stopping, "score", 5, 4, 3, 2);
        Assert.That(history.Epoch, Is.EqualTo(new[] { 0, 1, 2, 3 }));
        Assert.That(stopping.StoppedEpoch, Is.EqualTo(0));
    }

    [Test]
    public void MinDelta_ImprovementsSmallerThanItDoNotCount()
    {
        var stopping = new EarlyStopping(monitor: "score", minDelta: 0.1, patience: 2);
        var history = Fit(10, stopping, "score", 1.0, 0.95, 0.92, 0.5);
        Assert.That(history.Epoch, Is.EqualTo(new[] { 0, 1, 2 }));
        Assert.That(stopping.Best, Is.EqualTo(1.0));
    }

    [Test]
    public void AutoMode_MaximisesAccuracy()
    {
        var stopping = new EarlyStopping(monitor: "val_acc", patience: 2);
        var history = Fit(10, stopping, "val_acc", 0.5, 0.6, 0.55, 0.58, 0.9);
        Assert.That(history.Epoch, Is.EqualTo(new[] { 0, 1, 2, 3 }));
        Assert.That(stopping.Best, Is.EqualTo(0.6));
    }

    [Test]
    public void MaxMode_MaximisesAnyQuantity()
    {
        var stopping = new EarlyStopping(monitor: "score", patience: 1, mode: "max");
        var history = Fit(10, stopping, "score", 1, 2, 1.5, 3);
        Assert.That(history.Epoch, Is.EqualTo(new[] { 0, 1, 2 }));
    }

    [Test]
    public void RestoreBestWeights_RestoresTheBestEpochsWeightsWhenStopping()
    {
        var recorder = new RecordingCallback("score", 3, 1, 2, 2.5, 0.5);
        var stopping = new EarlyStopping(monitor: "score", patience: 2, restoreBestWeights: true);
        using var model = CallbackTesting.CompiledMlp();
        CallbackTesting.Fit(model, 10, recorder, stopping);
        Assert.That(recorder.Epochs, Is.EqualTo(new[] { 0, 1, 2, 3 }));
        Assert.That(recorder.EpochWeights[1], Is.Not.EqualTo(recorder.EpochWeights[3]), "training changed the weights");
        Assert.That(TinyModels.Flat(model), Is.EqualTo(recorder.EpochWeights[1]));
    }

    [Test]
    public void RestoreBestWeights_ValueNeverImproving_RestoresTheFirstEpochsWeights()
    {
        // NaN from the first epoch never improves; tf.keras 2 and Keras 3 still restore epoch 1's weights.
        var recorder = new RecordingCallback("score", double.NaN, double.NaN, double.NaN);
        var stopping = new EarlyStopping(monitor: "score", patience: 1, restoreBestWeights: true);
        using var model = CallbackTesting.CompiledMlp();
        CallbackTesting.Fit(model, 10, recorder, stopping);
        Assert.That(recorder.Epochs, Is.EqualTo(new[] { 0, 1 }));
        Assert.That(recorder.EpochWeights[0], Is.Not.EqualTo(recorder.EpochWeights[1]), "training changed the weights");
        Assert.That(TinyModels.Flat(model), Is.EqualTo(recorder.EpochWeights[0]));
    }

    [Test]
    public void WithoutRestoreBestWeights_KeepsTheLastWeights()
    {
        var recorder = new RecordingCallback("score", 3, 1, 2, 2.5, 0.5);
        using var model = CallbackTesting.CompiledMlp();
        CallbackTesting.Fit(model, 10, recorder, new EarlyStopping(monitor: "score", patience: 2));
        Assert.That(TinyModels.Flat(model), Is.EqualTo(recorder.EpochWeights[3]));
    }

    [Test]
    public void ValLoss_StopsRealTrainingWhenItRises()
    {
        // Validation labels are the training labels flipped: the better the model fits, the higher val_loss, so
        // real training must stop after patience 1 (with a seed-independent reason, unlike a diverging learning rate).
        using var model = CallbackTesting.CompiledMlp(learningRate: 0.5);
        var stopping = new EarlyStopping(patience: 1);
        var (x, y) = TinyModels.Blobs(16);
        var flipped = y.Select(v => 1 - v).ToArray();
        var history = model.Fit(x, y, batchSize: 16, epochs: 50, verbose: 0, validationData: (x, flipped), callbacks: new[] { stopping });
        Assert.That(history.Epoch, Has.Count.LessThan(50));
        Assert.That(history.Values["val_loss"][1], Is.GreaterThan(history.Values["val_loss"][0]));
        Assert.That(stopping.StoppedEpoch, Is.EqualTo(history.Epoch[^1]));
    }

    [Test]
    public void MissingMonitor_WarnsOnStandardErrorAndDoesNotStop()
    {
        var original = Console.Error;
        using var error = new StringWriter();
        Console.SetError(error);
        try
        {
            var history = Fit(3, new EarlyStopping(monitor: "nope", patience: 0), "score", 1, 1, 1);
            Assert.That(history.Epoch, Has.Count.EqualTo(3));
        }
        finally
        {
            Console.SetError(original);
        }

        Assert.That(error.ToString(), Does.Contain("'nope' is not in the logs"));
    }

    [Test]
    public void Verbose_PrintsRestoringAndTheStoppedEpoch()
    {
        using var console = new ConsoleCapture();
        Fit(10, new EarlyStopping(monitor: "score", patience: 1, restoreBestWeights: true, verbose: 1), "score", 2, 1, 3);
        var nl = Environment.NewLine;
        Assert.That(console.Text, Is.EqualTo($"Restoring model weights from the end of the best epoch.{nl}Epoch 00003: early stopping{nl}"));
    }

    [Test]
    public void Ctor_BadArguments_Throw()
    {
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => new EarlyStopping(patience: -1))!.ParamName, Is.EqualTo("patience"));
        Assert.That(Assert.Throws<ArgumentException>(() => new EarlyStopping(mode: "lowest"))!.ParamName, Is.EqualTo("mode"));
    }

    /// <summary>Trains with a callback that writes <paramref name="script"/>[epoch] as <paramref name="key"/> before EarlyStopping runs.</summary>
    private static KerasStyle.Training.History Fit(int epochs, EarlyStopping stopping, string key, params double[] script)
    {
        using var model = CallbackTesting.CompiledMlp();
        return CallbackTesting.Fit(model, epochs, new RecordingCallback(key, script), stopping);
    }
}
