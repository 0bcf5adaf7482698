using KerasStyle.Models;
using KerasStyle.Training.Callbacks;
using KerasStyle.Training.Data;
using TorchSharp;

namespace KerasStyle.Tests.Training.Data;

/// <summary>
/// What a DataSource may get wrong (bad batches, a Count that throws, changes or is huge, an OnEpochEnd that throws)
/// gives a DataSourceException naming the batch or the member, after the weights of the last completed step.
/// </summary>
public class DataSourceCheckTests
{
    [SetUp]
    public void Seed()
    {
        Backend.ClearSession();
        Utils.SetRandomSeed(5);
    }

    /// <summary>Batch 1 of a source, each wrong in one way.</summary>
    private static IEnumerable<TestCaseData> BadBatches()
    {
        static float[,] X(int samples = 4, int features = 2) => new float[samples, features];
        static float[] Y(int samples = 4) => new float[samples];
        TestCaseData Case(string name, string mentions, Func<DataBatch?> batch) => new TestCaseData(batch, mentions).SetName($"BadBatch_{name}_GivesDataSourceExceptionNamingTheBatch");

        yield return Case("Null", "returned null", () => null);
        yield return Case("NullX", "DataBatch.X is null", () => new DataBatch(null!, Y()));
        yield return Case("DisposedInputTensor", "has been disposed", () =>
        {
            var x = torch.zeros(4, 2);
            x.Dispose();
            return new DataBatch(x, Y());
        });
        yield return Case("ComplexInputTensor", "ComplexFloat32", () => new DataBatch(torch.zeros(4, 2, dtype: torch.ScalarType.ComplexFloat32), Y()));
        yield return Case("WrongFeatureCount", "(4, 3)", () => new DataBatch(X(features: 3), Y()));
        yield return Case("WrongRank", "input", () => new DataBatch(new float[4], Y()));
        yield return Case("ScalarTensor", "input", () => new DataBatch(torch.tensor(1f), Y()));
        yield return Case("TwoInputsForOne", "2 were given", () => new DataBatch(new Array[] { X(), X() }, Y()));
        yield return Case("NaNInput", "NaN", () =>
        {
            var x = X();
            x[2, 1] = float.NaN;
            return new DataBatch(x, Y());
        });
        yield return Case("StringArray", "input", () => new DataBatch(new string[4, 2], Y()));
    }

    /// <summary>Batch 1's targets or weights wrong (Fit and Evaluate only).</summary>
    private static IEnumerable<TestCaseData> BadTargets()
    {
        TestCaseData Case(string name, string mentions, Func<DataBatch?> batch) => new TestCaseData(batch, mentions).SetName($"BadTargets_{name}_GivesDataSourceExceptionNamingTheBatch");

        yield return Case("NoTargets", "no targets", () => new DataBatch(new float[4, 2]));
        yield return Case("DisposedTargetTensor", "has been disposed", () =>
        {
            var y = torch.zeros(4);
            y.Dispose();
            return new DataBatch(new float[4, 2], y);
        });
        yield return Case("TargetCountDiffers", "3", () => new DataBatch(new float[4, 2], new float[3]));
        yield return Case("WeightCountDiffers", "sampleWeight", () => new DataBatch(new float[4, 2], new float[4], new float[2]));
        yield return Case("NegativeWeight", "sampleWeight", () => new DataBatch(new float[4, 2], new float[4], new[] { 1f, -1f, 1f, 1f }));
        yield return Case("Empty", "empty", () => new DataBatch(new float[0, 2], new float[0]));
    }

    [TestCaseSource(nameof(BadBatches))]
    [TestCaseSource(nameof(BadTargets))]
    public void FitAndEvaluate(Func<DataBatch?> bad, string mentions)
    {
        using var model = Compiled();
        var afterStep = new List<float[]>();
        var record = new LambdaCallback(onBatchEnd: (_, _) => afterStep.Add(TinyModels.Flat(model)));

        var fit = Assert.Throws<DataSourceException>(() => model.Fit(new OneBadBatch(bad), verbose: 0, shuffle: false, callbacks: new[] { record }));
        var evaluate = Assert.Throws<DataSourceException>(() => model.Evaluate(new OneBadBatch(bad)));

        foreach (var error in new[] { fit!, evaluate! })
        {
            Assert.That(error.BatchIndex, Is.EqualTo(1));
            Assert.That(error.InnerException, Is.InstanceOf<ArgumentException>(), error.ToString());
            Assert.That(error.Message, Does.Contain("batch 1").And.Contain(mentions));
        }

        Assert.That(afterStep, Has.Count.EqualTo(1));
        Assert.That(TinyModels.Flat(model), Is.EqualTo(afterStep[0]), "the weights of batch 0's step");
    }

    [TestCaseSource(nameof(BadBatches))]
    public void Predict(Func<DataBatch?> bad, string mentions)
    {
        using var model = Compiled();

        var error = Assert.Throws<DataSourceException>(() => model.Predict(new OneBadBatch(bad)));

        Assert.That(error!.BatchIndex, Is.EqualTo(1));
        Assert.That(error.InnerException, Is.InstanceOf<ArgumentException>(), error.ToString());
        Assert.That(error.Message, Does.Contain("batch 1").And.Contain(mentions));
    }

    [Test]
    public void Fit_OnASourceOfIntMaxValueBatches_WithStepsPerEpoch_AllocatesNothingPerBatchOfCount()
    {
        using var model = Compiled();
        var allocated = GC.GetTotalAllocatedBytes(precise: true);

        var history = model.Fit(new HugeSource(int.MaxValue), epochs: 2, verbose: 0, stepsPerEpoch: 3);
        model.Fit(new HugeSource(300_000_000), epochs: 2, verbose: 0, stepsPerEpoch: 3, shuffle: false);
        Assert.That(model.Evaluate(new HugeSource(int.MaxValue), steps: 2)["loss"], Is.GreaterThan(0));

        Assert.That(history.Values["loss"], Has.Count.EqualTo(2));
        Assert.That(GC.GetTotalAllocatedBytes(precise: true) - allocated, Is.LessThan(100_000_000), "a shuffle order of 300M batches alone was 1.2 GB");
    }

    [Test]
    public void Order_ShufflesAsRandomShuffle_DrawnBatchByBatch()
    {
        foreach (var count in new[] { 1, 2, 5, 37 })
        {
            var expected = Enumerable.Range(0, count).ToArray();
            new Random(count).Shuffle(expected);
            Assert.That(new HugeSource(count).Order(count, shuffle: true, new Random(count), count), Is.EqualTo(expected), $"{count} batches");
        }

        // Carried across epochs: two passes of 10 in steps of 4, as two shuffles of one generator.
        var source = new HugeSource(10);
        var random = new Random(7);
        var taken = Enumerable.Range(0, 5).SelectMany(_ => source.Order(4, shuffle: true, random, 10, carryOn: true).ToArray()).ToArray();
        var reference = new Random(7);
        var first = Enumerable.Range(0, 10).ToArray();
        var second = Enumerable.Range(0, 10).ToArray();
        reference.Shuffle(first);
        reference.Shuffle(second);
        Assert.That(taken, Is.EqualTo(first.Concat(second)));
    }

    [Test]
    public void Fit_WhenCountThrowsOrIsNegative_ThrowsDataSourceException()
    {
        using var model = Compiled();

        var threw = Assert.Throws<DataSourceException>(() => model.Fit(new CountingSource(_ => throw new IOException("index file missing")), verbose: 0));
        Assert.That(threw!.Message, Does.Contain("Count threw").And.Contain("index file missing"));
        Assert.That(threw.InnerException, Is.InstanceOf<IOException>());
        Assert.That(threw.BatchIndex, Is.EqualTo(-1));

        Assert.That(Assert.Throws<DataSourceException>(() => model.Predict(new CountingSource(_ => -3)))!.Message, Does.Contain("Count is -3"));
        Assert.That(model.Optimizer!.Iterations, Is.Zero);
    }

    [Test]
    public void Fit_WhenCountChangesBetweenEpochs_ThrowsDataSourceException_KeepingTheFirstEpochsWeights()
    {
        using var model = Compiled();
        var source = new CountingSource(read => read < 2 ? 4 : 5);
        var afterEpoch = new List<float[]>();

        var error = Assert.Throws<DataSourceException>(() => model.Fit(source, epochs: 3, verbose: 0, callbacks: new[] { new LambdaCallback(onEpochEnd: (_, _) => afterEpoch.Add(TinyModels.Flat(model))) }));

        Assert.That(error!.Message, Does.Contain("Count changed from 4 to 5"));
        Assert.That(afterEpoch, Has.Count.EqualTo(1));
        Assert.That(TinyModels.Flat(model), Is.EqualTo(afterEpoch[0]));
    }

    [Test]
    public void Fit_WhenTheSourcesOnEpochEndThrows_ThrowsDataSourceException()
    {
        using var model = Compiled();

        var error = Assert.Throws<DataSourceException>(() => model.Fit(new CountingSource(_ => 2, failOnEpochEnd: true), epochs: 2, verbose: 0));

        Assert.That(error!.Message, Does.Contain("OnEpochEnd threw").And.Contain("reshuffle failed"));
        Assert.That(error.InnerException, Is.InstanceOf<InvalidOperationException>());
    }

    [TestCase("SetContext")]
    [TestCase("OnTrainBegin")]
    [TestCase("OnEpochBegin")]
    [TestCase("OnBatchBegin")]
    [TestCase("OnBatchEnd")]
    [TestCase("OnEpochEnd")]
    [TestCase("OnTrainEnd")]
    public void Fit_WhenACallbackThrowsInAHook_ThrowsItsException_WithNoGetBatchRunning_AndTheLastStepsWeights(string hook)
    {
        using var model = Compiled();
        var source = new CountingSource(_ => 6, workers: 2);
        var afterStep = new List<float[]> { TinyModels.Flat(model) };
        var record = new LambdaCallback(onBatchEnd: (_, _) => afterStep.Add(TinyModels.Flat(model)));

        var error = Assert.Throws<InvalidOperationException>(() => model.Fit(source, epochs: 2, verbose: 0, callbacks: new ICallback[] { record, new ThrowingCallback(hook) }));

        Assert.That(error!.Message, Is.EqualTo($"{hook} failed"));
        Assert.That(source.Running, Is.Zero, "no GetBatch runs after Fit returned");
        Assert.That(TinyModels.Flat(model), Is.EqualTo(afterStep[^1]));
        Assert.That(model.Fit(source, epochs: 1, verbose: 0).Values["loss"], Has.Count.EqualTo(1), "the model and the source are usable again");
    }

    private static Model Compiled()
    {
        var model = TinyModels.Mlp();
        model.Compile("sgd", "binary_crossentropy");
        return model;
    }

    private static DataBatch Good() => new(new float[4, 2] { { 1, 1 }, { -1, -1 }, { 1, 0.5f }, { -0.5f, -1 } }, new float[] { 1, 0, 1, 0 });

    /// <summary>Three batches; batch 1 is the one given.</summary>
    private sealed class OneBadBatch(Func<DataBatch?> bad) : DataSource
    {
        public override int? Count => 3;

        public override DataBatch GetBatch(int index) => index == 1 ? bad()! : Good();
    }

    /// <summary>A count as large as asked, every batch the same.</summary>
    private sealed class HugeSource(int count) : DataSource
    {
        public override int? Count => count;

        public override DataBatch GetBatch(int index) => Good();
    }

    /// <summary>A count from a function of how many times it was read; optionally an OnEpochEnd that throws.</summary>
    private sealed class CountingSource(Func<int, int> count, bool failOnEpochEnd = false, int workers = 1) : DataSource(workers)
    {
        private int reads;
        private int running;

        public int Running => Volatile.Read(ref running);

        public override int? Count => count(reads++);

        public override DataBatch GetBatch(int index)
        {
            Interlocked.Increment(ref running);
            try
            {
                return Good();
            }
            finally
            {
                Interlocked.Decrement(ref running);
            }
        }

        public override void OnEpochEnd()
        {
            if (failOnEpochEnd)
            {
                throw new InvalidOperationException("reshuffle failed");
            }
        }
    }

    /// <summary>Throws in one hook, the first time it is called.</summary>
    private sealed class ThrowingCallback(string hook) : Callback
    {
        private bool thrown;

        public override void SetContext(Model model, IReadOnlyDictionary<string, object> parameters)
        {
            base.SetContext(model, parameters);
            Throw(nameof(SetContext));
        }

        public override void OnTrainBegin(Dictionary<string, double> logs) => Throw(nameof(OnTrainBegin));

        public override void OnEpochBegin(int epoch, Dictionary<string, double> logs) => Throw(nameof(OnEpochBegin));

        public override void OnBatchBegin(int batch, Dictionary<string, double> logs) => Throw(nameof(OnBatchBegin));

        public override void OnBatchEnd(int batch, Dictionary<string, double> logs) => Throw(nameof(OnBatchEnd));

        public override void OnEpochEnd(int epoch, Dictionary<string, double> logs) => Throw(nameof(OnEpochEnd));

        public override void OnTrainEnd(Dictionary<string, double> logs) => Throw(nameof(OnTrainEnd));

        private void Throw(string name)
        {
            if (name == hook && !thrown)
            {
                thrown = true;
                throw new InvalidOperationException($"{name} failed");
            }
        }
    }
}
