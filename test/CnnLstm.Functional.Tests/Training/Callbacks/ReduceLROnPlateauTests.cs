using KerasStyle.Training.Callbacks;

namespace KerasStyle.Tests.Training.Callbacks;

public class ReduceLROnPlateauTests
{
    [SetUp]
    public void Seed()
    {
        Backend.ClearSession();
        Utils.SetRandomSeed(51);
    }

    [Test]
    public void Plateau_MultipliesTheRateByFactorAfterPatienceEpochs_AndLogsTheRateBeforeReducing()
    {
        var (history, model) = Fit(new ReduceLROnPlateau(monitor: "score", factor: 0.5, patience: 2), "score", 6, 1, 1, 1, 1, 1, 1);
        using (model)
        {
            Assert.That(history["learning_rate"], Is.EqualTo(new[] { 0.1, 0.1, 0.1, 0.05, 0.05, 0.025 }).Within(1e-12));
            Assert.That(model.Optimizer!.LearningRate, Is.EqualTo(0.025).Within(1e-12));
        }
    }

    [Test]
    public void Improvements_KeepTheRate()
    {
        var (history, model) = Fit(new ReduceLROnPlateau(monitor: "score", patience: 1), "score", 4, 4, 3, 2, 1);
        model.Dispose();
        Assert.That(history["learning_rate"], Is.All.EqualTo(0.1));
    }

    [Test]
    public void MinDelta_SmallImprovementsCountAsPlateau()
    {
        var (history, model) = Fit(new ReduceLROnPlateau(monitor: "score", factor: 0.5, patience: 1, minDelta: 0.1), "score", 3, 1, 0.95, 0.9);
        model.Dispose();
        Assert.That(history["learning_rate"], Is.EqualTo(new[] { 0.1, 0.1, 0.05 }).Within(1e-12));
    }

    [Test]
    public void Cooldown_WaitsBeforeCountingAgain()
    {
        var (history, model) = Fit(new ReduceLROnPlateau(monitor: "score", factor: 0.5, patience: 2, cooldown: 2), "score", 7, 1, 1, 1, 1, 1, 1, 1);
        using (model)
        {
            // Reduced at the end of epoch 2; epochs 3 and 4 cool down (wait restarts at epoch 4), so the next cut is at epoch 5.
            Assert.That(history["learning_rate"], Is.EqualTo(new[] { 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025 }).Within(1e-12));
        }
    }

    [Test]
    public void MinLr_BoundsTheRate()
    {
        var (history, model) = Fit(new ReduceLROnPlateau(monitor: "score", factor: 0.1, patience: 1, minLr: 0.05), "score", 5, 1, 1, 1, 1, 1);
        using (model)
        {
            Assert.That(history["learning_rate"], Is.EqualTo(new[] { 0.1, 0.1, 0.05, 0.05, 0.05 }).Within(1e-12));
            Assert.That(model.Optimizer!.LearningRate, Is.EqualTo(0.05));
        }
    }

    [Test]
    public void AutoMode_TreatsAccuracyAsHigherIsBetter()
    {
        var (history, model) = Fit(new ReduceLROnPlateau(monitor: "val_accuracy", factor: 0.5, patience: 1), "val_accuracy", 3, 0.5, 0.6, 0.7);
        model.Dispose();
        Assert.That(history["learning_rate"], Is.All.EqualTo(0.1));
    }

    [Test]
    public void RealTraining_ReducesTheRateTheOptimizerUses()
    {
        using var model = CallbackTesting.CompiledMlp(learningRate: 0.1);
        var history = CallbackTesting.Fit(model, 4, new RecordingCallback("score", 1, 1, 1, 1), new ReduceLROnPlateau(monitor: "score", factor: 0.2, patience: 1));
        Assert.That(model.Optimizer!.LearningRate, Is.EqualTo(0.1 * 0.2 * 0.2 * 0.2).Within(1e-12));
        Assert.That(history.Values.Keys, Does.Contain("learning_rate"));
    }

    [Test]
    public void Verbose_PrintsTheNewRateInInvariantForm()
    {
        using var console = new ConsoleCapture();
        var culture = System.Globalization.CultureInfo.CurrentCulture;
        System.Globalization.CultureInfo.CurrentCulture = new System.Globalization.CultureInfo("de-DE");
        try
        {
            Fit(new ReduceLROnPlateau(monitor: "score", factor: 0.5, patience: 1, verbose: 1), "score", 2, 1, 1).Model.Dispose();
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = culture;
        }

        Assert.That(console.Text, Is.EqualTo($"\nEpoch 00002: ReduceLROnPlateau reducing learning rate to 0.05.{Environment.NewLine}"));
    }

    [TestCase(1.0)]
    [TestCase(0.0)]
    [TestCase(1.5)]
    public void Ctor_FactorOutsideZeroToOne_Throws(double factor)
    {
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => new ReduceLROnPlateau(factor: factor))!.ParamName, Is.EqualTo("factor"));
    }

    [Test]
    public void Ctor_NegativeCounts_Throw()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReduceLROnPlateau(patience: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReduceLROnPlateau(cooldown: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReduceLROnPlateau(minLr: -1));
    }

    /// <summary>Trains from learning rate 0.1 with <paramref name="script"/>[epoch] written as <paramref name="key"/> before the callback runs.</summary>
    private static (KerasStyle.Training.History History, KerasStyle.Models.Model Model) Fit(ReduceLROnPlateau reduce, string key, int epochs, params double[] script)
    {
        var model = CallbackTesting.CompiledMlp(learningRate: 0.1);
        var history = CallbackTesting.Fit(model, epochs, new RecordingCallback(key, script), reduce);
        return (history, model);
    }
}
