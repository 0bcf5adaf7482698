using System.Globalization;
using KerasStyle.Training.Callbacks;
using KerasStyle.Training.Optimizers;

namespace KerasStyle.Tests.Training.Callbacks;

public class LearningRateSchedulerTests
{
    [SetUp]
    public void Seed()
    {
        Backend.ClearSession();
        Utils.SetRandomSeed(71);
    }

    [Test]
    public void Schedule_GetsTheEpochAndCurrentRate_AndSetsTheRateBeforeTheEpochsBatches()
    {
        using var model = CallbackTesting.CompiledMlp(learningRate: 0.1);
        var calls = new List<(int Epoch, double Rate)>();
        var seenByBatches = new List<double>();
        var scheduler = new LearningRateScheduler((epoch, lr) =>
        {
            calls.Add((epoch, lr));
            return lr / 2;
        });
        var history = CallbackTesting.Fit(model, 3, scheduler, new LambdaCallback(onBatchBegin: (_, _) => seenByBatches.Add(model.Optimizer!.LearningRate)));

        Assert.That(calls, Is.EqualTo(new[] { (0, 0.1), (1, 0.05), (2, 0.025) }));
        Assert.That(seenByBatches, Is.EqualTo(new[] { 0.05, 0.025, 0.0125 }));
        Assert.That(model.Optimizer!.LearningRate, Is.EqualTo(0.0125));
        Assert.That(history["learning_rate"], Is.EqualTo(new[] { 0.05, 0.025, 0.0125 }), "Keras 3 logs the rate as learning_rate at epoch end");
    }

    [Test]
    public void ScheduledRate_IsTheRateTheUpdateUses()
    {
        // No shuffling: each model has its own shuffle generator, and the sample order changes the gradient's rounding.
        var (x, y) = TinyModels.Blobs(16);
        using var scheduled = CallbackTesting.CompiledMlp(learningRate: 0.01);
        var weights = scheduled.GetWeights();
        scheduled.Fit(x, y, batchSize: 8, epochs: 1, verbose: 0, shuffle: false, callbacks: new[] { new LearningRateScheduler((_, _) => 0.3) });

        using var fixedRate = TinyModels.Mlp();
        fixedRate.SetWeights(weights);
        fixedRate.Compile(new SGD(learningRate: 0.3), "binary_crossentropy", new[] { "accuracy" });
        fixedRate.Fit(x, y, batchSize: 8, epochs: 1, verbose: 0, shuffle: false);

        Assert.That(TinyModels.Flat(scheduled), Is.EqualTo(TinyModels.Flat(fixedRate)));
        Assert.That(TinyModels.Flat(scheduled), Is.Not.EqualTo(weights.SelectMany(w => w.Data).ToArray()));
    }

    [TestCase(double.NaN, "nan")]
    [TestCase(0.0, "0.0")]
    [TestCase(-1.0, "-1.0")]
    [TestCase(double.PositiveInfinity, "inf")]
    public void ARateThatIsNotPositiveAndFinite_ThrowsNamingTheEpochAndValue_BeforeTheOptimizerChanges(double bad, string printed)
    {
        using var model = CallbackTesting.CompiledMlp(learningRate: 0.1);
        var epochs = new List<int>();
        var scheduler = new LearningRateScheduler((epoch, lr) => epoch < 2 ? lr : bad);
        var error = Assert.Throws<InvalidOperationException>(() => CallbackTesting.Fit(model, 4, scheduler, new LambdaCallback(onEpochEnd: (epoch, _) => epochs.Add(epoch))));

        Assert.That(error!.Message, Is.EqualTo($"LearningRateScheduler: the schedule returned {printed} for epoch 2 (counted from 0); expected a positive, finite learning rate. The optimizer keeps 0.1."));
        Assert.That(model.Optimizer!.LearningRate, Is.EqualTo(0.1));
        Assert.That(epochs, Is.EqualTo(new[] { 0, 1 }));
        Assert.That(model.Optimizer.Iterations, Is.EqualTo(2), "no batch of epoch 2 ran");
    }

    [Test]
    public void Verbose_PrintsEachRateAsKerasDoes_InAnyCulture()
    {
        using var model = CallbackTesting.CompiledMlp(learningRate: 0.1);
        var culture = CultureInfo.CurrentCulture;
        using var console = new ConsoleCapture();
        CultureInfo.CurrentCulture = new CultureInfo("de-DE");
        try
        {
            CallbackTesting.Fit(model, 2, new LearningRateScheduler((epoch, lr) => epoch == 0 ? 0.25 : 1e-5, verbose: 1));
        }
        finally
        {
            CultureInfo.CurrentCulture = culture;
        }

        var nl = Environment.NewLine;
        Assert.That(console.Text, Is.EqualTo($"\nEpoch 1: LearningRateScheduler setting learning rate to 0.25.{nl}\nEpoch 2: LearningRateScheduler setting learning rate to 1e-05.{nl}"));
    }

    [Test]
    public void Ctor_RefusesANullSchedule()
    {
        Assert.That(() => new LearningRateScheduler(null!), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("schedule"));
        Assert.That(() => new LearningRateScheduler((_, lr) => lr, verbose: -1), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }
}
