using KerasStyle.Models;
using KerasStyle.Tests.Training;
using KerasStyle.Training;
using KerasStyle.Training.Callbacks;

namespace KerasStyle.Tests.Models;

/// <summary>
/// Fit's data handling. The "counting" data has x = 0 and y = i for sample i, and the model outputs 0 whatever its
/// weights (which never change, as the gradient is 0), so a batch's mse loss is the mean of i² over its samples: the
/// losses show exactly which samples each batch and each validation pass saw.
/// </summary>
public class ModelFitSemanticsTests
{
    [SetUp]
    public void Seed()
    {
        Backend.ClearSession();
        Utils.SetRandomSeed(11);
    }

    [Test]
    public void ShuffleFalse_KeepsSampleOrder()
    {
        var recorder = new RecordingCallback();
        FitCounting(10, batchSize: 1, shuffle: false, callbacks: new[] { recorder });
        Assert.That(recorder.BatchLosses, Is.EqualTo(Enumerable.Range(0, 10).Select(i => (double)(i * i))));
    }

    [Test]
    public void ShuffleTrue_VisitsEverySampleOnceInAnotherOrderEachEpoch()
    {
        var recorder = new RecordingCallback();
        FitCounting(10, batchSize: 1, epochs: 2, callbacks: new[] { recorder });
        var squares = Enumerable.Range(0, 10).Select(i => (double)(i * i)).ToArray();
        var first = recorder.BatchLosses.Take(10).ToArray();
        var second = recorder.BatchLosses.Skip(10).ToArray();
        Assert.That(first, Is.EquivalentTo(squares));
        Assert.That(second, Is.EquivalentTo(squares));
        Assert.That(first, Is.Not.EqualTo(squares));
        Assert.That(second, Is.Not.EqualTo(first));
    }

    [Test]
    public void ValidationSplit_TakesTheLastFractionBeforeShuffling()
    {
        var recorder = new RecordingCallback();
        var history = FitCounting(10, batchSize: 1, validationSplit: 0.2, callbacks: new[] { recorder });
        // Samples 8 and 9 validate: (64 + 81) / 2; training sees 0..7 only, shuffled.
        Assert.That(history["val_loss"][0], Is.EqualTo(72.5).Within(1e-4));
        Assert.That(recorder.BatchLosses, Is.EquivalentTo(Enumerable.Range(0, 8).Select(i => (double)(i * i))));
        Assert.That(history.Params["samples"], Is.EqualTo(8L));
    }

    [Test]
    public void ValidationSplit_UsesKerasFloorOfTrainingFraction()
    {
        // Keras: split_at = int(n * (1 - validation_split)); 7 * 0.7 = 4.9 -> 4 training samples, 3 validation.
        var history = FitCounting(7, batchSize: 2, validationSplit: 0.3);
        Assert.That(history.Params["samples"], Is.EqualTo(4L));
        Assert.That(history["val_loss"][0], Is.EqualTo((16.0 + 25 + 36) / 3).Within(1e-4));
    }

    [Test]
    public void ValidationData_WinsOverValidationSplit()
    {
        var recorder = new RecordingCallback();
        var validation = (new float[3, 1], new float[] { 10, 10, 10 });
        var history = FitCounting(10, batchSize: 1, validationSplit: 0.5, validationData: validation, callbacks: new[] { recorder });
        Assert.That(history["val_loss"][0], Is.EqualTo(100).Within(1e-4));
        Assert.That(recorder.BatchLosses, Has.Count.EqualTo(10), "all samples train");
        Assert.That(history.Params["samples"], Is.EqualTo(10L));
    }

    [Test]
    public void LastBatch_IsSmaller_AndEpochLossIsSampleWeighted()
    {
        var recorder = new RecordingCallback();
        var history = FitCounting(10, batchSize: 4, shuffle: false, callbacks: new[] { recorder });
        Assert.That(history.Params["steps"], Is.EqualTo(3));
        Assert.That(recorder.BatchSizes, Is.EqualTo(new[] { 4, 4, 2 }));
        Assert.That(recorder.BatchLosses, Is.EqualTo(new[] { 3.5, 31.5, 72.5 }).Within(1e-4));
        // Mean of i² over 0..9, not the mean of the three batch losses (35.83).
        Assert.That(history["loss"][0], Is.EqualTo(28.5).Within(1e-4));
    }

    [TestCase(1, 10)]
    [TestCase(3, 4)]
    [TestCase(10, 1)]
    [TestCase(32, 1)]
    public void Steps_AreCeilingOfSamplesOverBatchSize(int batchSize, int steps)
    {
        var recorder = new RecordingCallback();
        var history = FitCounting(10, batchSize: batchSize, callbacks: new[] { recorder });
        Assert.That(history.Params["steps"], Is.EqualTo(steps));
        Assert.That(recorder.BatchSizes, Has.Count.EqualTo(steps));
        Assert.That(recorder.BatchSizes.Sum(), Is.EqualTo(10));
    }

    [Test]
    public void InitialEpoch_RunsFromItToEpochsMinusOne()
    {
        var recorder = new RecordingCallback();
        using var console = new ConsoleCapture();
        var history = FitCounting(4, batchSize: 2, epochs: 4, initialEpoch: 2, verbose: 2, callbacks: new[] { recorder });
        Assert.That(history.Epoch, Is.EqualTo(new[] { 2, 3 }));
        Assert.That(recorder.Epochs, Is.EqualTo(new[] { 2, 3 }));
        Assert.That(console.Text, Does.StartWith("Epoch 3/4" + Environment.NewLine).And.Contain("Epoch 4/4" + Environment.NewLine));
        Assert.That(console.Text, Does.Not.Contain("Epoch 1/4"));
    }

    [Test]
    public void InitialEpochAtOrAfterEpochs_TrainsNothing()
    {
        var recorder = new RecordingCallback();
        var history = FitCounting(4, epochs: 2, initialEpoch: 2, callbacks: new[] { recorder });
        Assert.That(history.Epoch, Is.Empty);
        Assert.That(recorder.Events, Is.EqualTo(new[] { "train_begin", "train_end" }));
    }

    [Test]
    public void Callbacks_SeeKerasOrderOfHooks()
    {
        var recorder = new RecordingCallback();
        FitCounting(3, batchSize: 2, epochs: 2, callbacks: new[] { recorder });
        Assert.That(recorder.Events, Is.EqualTo(new[]
        {
            "train_begin",
            "epoch_begin 0", "batch_begin 0", "batch_end 0", "batch_begin 1", "batch_end 1", "epoch_end 0",
            "epoch_begin 1", "batch_begin 0", "batch_end 0", "batch_begin 1", "batch_end 1", "epoch_end 1",
            "train_end",
        }));
    }

    [Test]
    public void ICallback_ImplementedDirectly_GetsContextAndEveryHook()
    {
        var counter = new HookCounter();
        FitCounting(5, batchSize: 2, epochs: 2, callbacks: new[] { counter });
        Assert.That(counter.Model, Is.Not.Null);
        Assert.That(counter.Parameters!["steps"], Is.EqualTo(3));
        Assert.That(counter.Counts, Is.EqualTo(new[] { 1, 1, 2, 2, 6, 6 }));
    }

    [Test]
    public void StopTraining_SetInABatch_EndsAfterThatBatchAndEpoch()
    {
        var recorder = new RecordingCallback();
        var stopper = new StopAtBatch(1);
        var history = FitCounting(10, batchSize: 2, epochs: 5, callbacks: new ICallback[] { stopper, recorder });
        Assert.That(recorder.BatchSizes, Has.Count.EqualTo(2));
        Assert.That(history.Epoch, Is.EqualTo(new[] { 0 }));
    }

    [Test]
    public void TrainingProgress_FiresAfterEveryBatchAndEveryEpoch()
    {
        using var model = CountingModel();
        var events = new List<TrainingProgressEventArgs>();
        model.TrainingProgress += (_, e) => events.Add(e);
        var (x, y) = Counting(10);
        model.Fit(x, y, batchSize: 4, epochs: 2, verbose: 0, validationSplit: 0.2);
        Assert.That(events.Select(e => (e.Epoch, e.Batch, e.EpochEnd)), Is.EqualTo(new[]
        {
            (0, 0, false), (0, 1, false), (0, 1, true),
            (1, 0, false), (1, 1, false), (1, 1, true),
        }));
        Assert.That(events.All(e => e.Epochs == 2 && e.Steps == 2));
        Assert.That(events[0].Logs.Keys, Is.EquivalentTo(new[] { "batch", "size", "loss" }));
        Assert.That(events[2].Logs.Keys, Is.EquivalentTo(new[] { "loss", "val_loss" }));
        Assert.That(events[2].Logs["val_loss"], Is.EqualTo(72.5).Within(1e-4));
    }

    [Test]
    public void Verbose0_PrintsNothing()
    {
        using var console = new ConsoleCapture();
        FitCounting(6, batchSize: 2, epochs: 2, verbose: 0, validationSplit: 0.5);
        Assert.That(console.Text, Is.Empty);
    }

    [Test]
    public void Verbose2_PrintsEpochHeaderAndOneLinePerEpoch()
    {
        using var console = new ConsoleCapture();
        FitCounting(6, batchSize: 2, epochs: 2, verbose: 2, validationSplit: 0.5);
        var lines = console.Text.Split(Environment.NewLine);
        Assert.That(lines, Has.Length.EqualTo(5));
        Assert.That(lines[0], Is.EqualTo("Epoch 1/2"));
        Assert.That(lines[1], Does.Match(@"^2/2 - \d+s - loss: 1\.6667 - val_loss: 16\.6667 - \d+(s|ms|us)/epoch - \d+(s|ms|us)/step$"));
    }

    [Test]
    public void Verbose1_RedirectedOutput_PrintsTheFinalBarOncePerEpoch()
    {
        using var console = new ConsoleCapture();
        FitCounting(6, batchSize: 2, epochs: 2, verbose: 1, validationSplit: 0.5);
        if (!Console.IsOutputRedirected)
        {
            // Only when the test host writes to a terminal: the bar is redrawn in place.
            Assert.That(console.Text, Does.Contain("\r2/2 [=============================="));
            return;
        }

        var lines = console.Text.Split(Environment.NewLine);
        Assert.That(lines, Has.Length.EqualTo(5));
        Assert.That(lines[1], Does.Match(@"^2/2 \[={30}\] - \d+s \d+(s|ms|us)/step - loss: 1\.6667 - val_loss: 16\.6667$"));
        Assert.That(lines[3], Does.StartWith("2/2 [=============================="));
    }

    [Test]
    public void Epochs0_TrainsNothingAndReturnsEmptyHistory()
    {
        using var model = TinyModels.Mlp();
        model.Compile("sgd", "mse");
        var before = TinyModels.Flat(model);
        var (x, y) = TinyModels.Blobs(8);
        var history = model.Fit(x, y, epochs: 0, verbose: 0);
        Assert.That(history.Epoch, Is.Empty);
        Assert.That(history.Values, Is.Empty);
        Assert.That(TinyModels.Flat(model), Is.EqualTo(before));
    }

    private static (float[,] X, float[] Y) Counting(int count) =>
        (new float[count, 1], Enumerable.Range(0, count).Select(i => (float)i).ToArray());

    private static Model CountingModel()
    {
        var model = TinyModels.Linear(new float[,] { { 0f } });
        model.Compile("sgd", "mse");
        return model;
    }

    private static History FitCounting(int count, int batchSize = 32, int epochs = 1, bool shuffle = true, double validationSplit = 0,
        (ModelData, ModelData)? validationData = null, IEnumerable<ICallback>? callbacks = null, int initialEpoch = 0, int verbose = 0)
    {
        using var model = CountingModel();
        var (x, y) = Counting(count);
        return model.Fit(x, y, batchSize, epochs, verbose, validationData, validationSplit, shuffle, callbacks, initialEpoch);
    }

    private sealed class HookCounter : ICallback
    {
        public Model? Model { get; private set; }

        public IReadOnlyDictionary<string, object>? Parameters { get; private set; }

        /// <summary>Calls of train begin, train end, epoch begin, epoch end, batch begin, batch end.</summary>
        public int[] Counts { get; } = new int[6];

        public void SetContext(Model model, IReadOnlyDictionary<string, object> parameters) => (Model, Parameters) = (model, parameters);

        public void OnTrainBegin(Dictionary<string, double> logs) => Counts[0]++;

        public void OnTrainEnd(Dictionary<string, double> logs) => Counts[1]++;

        public void OnEpochBegin(int epoch, Dictionary<string, double> logs) => Counts[2]++;

        public void OnEpochEnd(int epoch, Dictionary<string, double> logs) => Counts[3]++;

        public void OnBatchBegin(int batch, Dictionary<string, double> logs) => Counts[4]++;

        public void OnBatchEnd(int batch, Dictionary<string, double> logs) => Counts[5]++;
    }

    private sealed class StopAtBatch(int batch) : Callback
    {
        public override void OnBatchEnd(int index, Dictionary<string, double> logs)
        {
            if (index == batch)
            {
                Model!.StopTraining = true;
            }
        }
    }
}
