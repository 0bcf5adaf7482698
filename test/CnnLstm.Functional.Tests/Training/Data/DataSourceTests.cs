using System.Collections.Concurrent;
using KerasStyle.Models;
using KerasStyle.Training.Callbacks;
using KerasStyle.Training.Data;
using TorchSharp;

namespace KerasStyle.Tests.Training.Data;

/// <summary>Fit, Evaluate and Predict on a DataSource: the same numbers as on arrays, prefetching, shuffling, errors and memory.</summary>
public class DataSourceTests
{
    private readonly List<string> warnings = new();

    [SetUp]
    public void Seed()
    {
        Backend.ClearSession();
        Utils.SetRandomSeed(5);
        warnings.Clear();
        Warnings.Raised += Listen;
    }

    [TearDown]
    public void StopListening() => Warnings.Raised -= Listen;

    private void Listen(object? sender, string message) => warnings.Add(message);

    [Test]
    public void Fit_OnIndexedSource_TrainsAsFitOnTheSameArrayBatches()
    {
        var (x, y) = TinyModels.Blobs(40);
        using var fromArrays = TinyModels.Mlp();
        using var fromSource = TinyModels.Mlp();
        fromSource.SetWeights(fromArrays.GetWeights());
        fromArrays.Compile("adam", "binary_crossentropy", new[] { "accuracy" });
        fromSource.Compile("adam", "binary_crossentropy", new[] { "accuracy" });

        var arrays = fromArrays.Fit(x, y, batchSize: 8, epochs: 3, verbose: 0, shuffle: false);
        var source = fromSource.Fit(new ArraySource(x, y, 8), epochs: 3, verbose: 0, shuffle: false);

        Assert.That(source.Values["loss"], Is.EqualTo(arrays.Values["loss"]).Within(1e-6));
        Assert.That(source.Values["accuracy"], Is.EqualTo(arrays.Values["accuracy"]).Within(1e-9));
        Assert.That(fromSource.GetWeights().SelectMany(w => w.Data), Is.EqualTo(fromArrays.GetWeights().SelectMany(w => w.Data)).Within(1e-6));
    }

    [Test]
    public void EvaluateAndPredict_OnSource_EqualThemOnArrays()
    {
        var (x, y) = TinyModels.Blobs(30);
        using var model = TinyModels.Mlp();
        model.Compile("adam", "binary_crossentropy", new[] { "accuracy", "auc" });
        var source = new ArraySource(x, y, 7);

        var onSource = model.Evaluate(source);
        var onArrays = model.Evaluate(x, y, batchSize: 7);
        foreach (var (key, value) in onArrays)
        {
            Assert.That(onSource[key], Is.EqualTo(value).Within(1e-6), key);
        }

        Assert.That(model.Predict(source)[0].Cast<float>(), Is.EqualTo(model.Predict(x).Cast<float>()).Within(1e-6));
    }

    [Test]
    public void Fit_WithShuffle_VisitsEveryBatchOnceInANewOrderEachEpoch_AndCallsOnEpochEnd()
    {
        var (x, y) = TinyModels.Blobs(48);
        using var model = TinyModels.Mlp();
        model.Compile("sgd", "binary_crossentropy");
        var source = new ArraySource(x, y, 4);

        model.Fit(source, epochs: 2, verbose: 0, shuffle: true);

        var epochs = source.Requested.Chunk(12).ToArray();
        Assert.That(epochs, Has.Length.EqualTo(2));
        Assert.That(epochs.Select(e => e.Order()), Has.All.EqualTo(Enumerable.Range(0, 12)));
        Assert.That(epochs[0], Is.Not.EqualTo(epochs[1]), "a new order each epoch");
        Assert.That(epochs[0], Is.Not.EqualTo(Enumerable.Range(0, 12)));
        Assert.That(source.EpochEnds, Is.EqualTo(2));
    }

    [Test]
    public void Fit_PreparesBatchesAheadOfTheStep_BoundedByMaxQueueSize()
    {
        var (x, y) = TinyModels.Blobs(80);
        using var model = TinyModels.Mlp();
        model.Compile("sgd", "binary_crossentropy");
        var source = new ArraySource(x, y, 4, maxQueueSize: 3);
        var aheadAtStepEnd = new List<int>();
        var callback = new LambdaCallback(onBatchEnd: (batch, _) => aheadAtStepEnd.Add(source.Fetched - (batch + 1)));

        model.Fit(source, epochs: 1, verbose: 0, shuffle: false, callbacks: new[] { callback });

        Assert.That(aheadAtStepEnd.Max(), Is.GreaterThan(0), "some batches were ready before the step that needs them");
        Assert.That(aheadAtStepEnd.Max(), Is.LessThanOrEqualTo(3 + 1), "at most maxQueueSize waiting, plus the one being prepared");
    }

    [Test]
    public void Fit_WhenTheSourceThrows_ThrowsNamingTheBatch_AndLeavesNoWorkerRunning()
    {
        var (x, y) = TinyModels.Blobs(80);
        using var model = TinyModels.Mlp();
        model.Compile("sgd", "binary_crossentropy");
        var source = new ArraySource(x, y, 4, failAt: 6, workers: 2);

        var error = Assert.Throws<DataSourceException>(() => model.Fit(source, epochs: 1, verbose: 0, shuffle: false));

        Assert.That(error!.BatchIndex, Is.EqualTo(6));
        Assert.That(error.Message, Does.Contain("batch 6").And.Contain("disk went away"));
        Assert.That(source.InFlight, Is.EqualTo(0), "no GetBatch still running");
        var fetched = source.Fetched;
        Thread.Sleep(200);
        Assert.That(source.Fetched, Is.EqualTo(fetched), "nothing fetches after Fit returned");
    }

    [Test]
    public void Fit_StoppedByACallbackWhileWorkersPrepareBatches_ReturnsOnlyWhenNoGetBatchRuns()
    {
        // Two workers and a queue of one: when training stops, a batch has been started but not queued yet. Found in
        // review: it went on running after Fit returned.
        var (x, y) = TinyModels.Blobs(80);
        using var model = TinyModels.Mlp();
        model.Compile("sgd", "binary_crossentropy");
        var source = new ArraySource(x, y, 4, workers: 2, maxQueueSize: 1, delayMs: 150);
        var stop = new LambdaCallback(onBatchEnd: (_, _) => model.StopTraining = true);

        model.Fit(source, epochs: 1, verbose: 0, shuffle: false, callbacks: new[] { stop });

        Assert.That(source.InFlight, Is.EqualTo(0), "no GetBatch still running");
        var fetched = source.Fetched;
        Thread.Sleep(400);
        Assert.That(source.Fetched, Is.EqualTo(fetched), "nothing fetches after Fit returned");
    }

    [Test]
    public void Fit_WithFewerStepsPerEpochThanBatches_GoesOnThroughAllBatchesAcrossEpochs()
    {
        var (x, y) = TinyModels.Blobs(80);
        using var model = TinyModels.Mlp();
        model.Compile("sgd", "binary_crossentropy");
        var source = new ArraySource(x, y, 4);

        model.Fit(source, epochs: 4, verbose: 0, shuffle: true, stepsPerEpoch: 5);

        Assert.That(source.Requested.Order(), Is.EqualTo(Enumerable.Range(0, 20)), "each of the 20 batches once over 4 epochs of 5 steps (Keras' epoch iterator)");
    }

    [Test]
    public void Fit_StoppedMidEpoch_StillValidatesThatEpoch()
    {
        var (x, y) = TinyModels.Blobs(40);
        using var model = TinyModels.Mlp();
        model.Compile("sgd", "binary_crossentropy");
        var stop = new LambdaCallback(onBatchEnd: (batch, _) => model.StopTraining = batch == 1);

        var fromSource = model.Fit(new ArraySource(x, y, 4), epochs: 3, verbose: 0, validationData: new ArraySource(x, y, 8), callbacks: new[] { stop });
        var fromArrays = model.Fit(x, y, batchSize: 4, epochs: 3, verbose: 0, validationSplit: 0.25, callbacks: new[] { stop });

        Assert.That(fromSource.Values["val_loss"], Has.Count.EqualTo(1), "Keras validates the stopped epoch");
        Assert.That(fromArrays.Values["val_loss"], Has.Count.EqualTo(1));
    }

    [Test]
    public void ValidationSequenceWithoutSteps_AndEvaluateOnAnEmptySequence_AreRefused()
    {
        var (x, y) = TinyModels.Blobs(8);
        using var model = TinyModels.Mlp();
        model.Compile("sgd", "binary_crossentropy");

        Assert.That(Assert.Throws<ArgumentException>(() => model.Fit(new ArraySource(x, y, 4), epochs: 1, verbose: 0, validationData: DataSource.FromEnumerable(new ArraySource(x, y, 4).All())))!.Message,
            Does.Contain("validationSteps"));
        Assert.That(Assert.Throws<ArgumentException>(() => model.Evaluate(DataSource.FromEnumerable(Array.Empty<DataBatch>())))!.Message, Does.Contain("no batches"));
    }

    [Test]
    public void Fit_WithABatchThatDoesNotFitTheModel_ThrowsNamingBatchAndShapes()
    {
        var (x, y) = TinyModels.Blobs(16);
        using var model = TinyModels.Mlp();
        model.Compile("sgd", "binary_crossentropy");
        var source = new ArraySource(x, y, 4, badShapeAt: 2);

        var error = Assert.Throws<DataSourceException>(() => model.Fit(source, epochs: 1, verbose: 0, shuffle: false));

        Assert.That(error!.BatchIndex, Is.EqualTo(2));
        Assert.That(error.InnerException, Is.InstanceOf<ArgumentException>());
        Assert.That(error.Message, Does.Contain("(4, 3)"));
    }

    [Test]
    public void Fit_OnEnumerable_TakesStepsPerEpoch_AndStopsWithAWarningWhenItRunsOut()
    {
        var (x, y) = TinyModels.Blobs(40);
        using var model = TinyModels.Mlp();
        model.Compile("sgd", "binary_crossentropy");
        // 10 batches in all: 2 full epochs of 4, then 2 batches into the third.
        var source = DataSource.FromEnumerable(new ArraySource(x, y, 4).All());
        var history = model.Fit(source, epochs: 5, verbose: 0, stepsPerEpoch: 4);
        Assert.That(history.Values["loss"], Has.Count.EqualTo(3));
        Assert.That(warnings, Has.Some.Contains("ran out of data"));
        Assert.Throws<ArgumentException>(() => model.Fit(DataSource.FromEnumerable(new ArraySource(x, y, 4).All()), epochs: 1, verbose: 0));
    }

    [Test]
    public void EvaluateAndPredict_OnASequenceWithoutSteps_ReadToItsEnd_AndWarnWhenStepsRunOut()
    {
        var (x, y) = TinyModels.Blobs(12);
        using var model = TinyModels.Mlp();
        model.Compile("sgd", "binary_crossentropy", new[] { "accuracy" });
        var onArrays = model.Evaluate(x, y, batchSize: 4);
        Assert.That(model.Evaluate(DataSource.FromEnumerable(new ArraySource(x, y, 4).All()))["loss"], Is.EqualTo(onArrays["loss"]).Within(1e-6));
        Assert.That(model.Predict(DataSource.FromEnumerable(new ArraySource(x, y, 4).All()))[0].Length, Is.EqualTo(12));
        Assert.That(warnings, Is.Empty, "reading to the end without steps is silent");

        // Keras: evaluate(gen, steps=5) on 3 batches warns and returns the result of the 3.
        Assert.That(model.Evaluate(DataSource.FromEnumerable(new ArraySource(x, y, 4).All()), steps: 5)["loss"], Is.EqualTo(onArrays["loss"]).Within(1e-6));
        Assert.That(model.Predict(DataSource.FromEnumerable(new ArraySource(x, y, 4).All()), steps: 5)[0].Length, Is.EqualTo(12));
        Assert.That(warnings, Has.Count.EqualTo(2).And.All.Contains("after 3 of 5 batches"));
    }

    [Test]
    public void Fit_WithAValidationSequenceThatRunsOut_FinishesEveryEpochWithAWarning()
    {
        var (x, y) = TinyModels.Blobs(24);
        using var model = TinyModels.Mlp();
        model.Compile("sgd", "binary_crossentropy");
        // Three validation batches for two per epoch: the second epoch's validation gets one, the third none.
        var history = model.Fit(new ArraySource(x, y, 4), epochs: 3, verbose: 0,
            validationData: DataSource.FromEnumerable(new ArraySource(x, y, 4).All().Take(3)), validationSteps: 2);

        Assert.That(history.Values["loss"], Has.Count.EqualTo(3), "training is not interrupted by its validation data");
        Assert.That(warnings, Has.Some.Contains("validationData: the input ran out of data after 1 of 2 batches"));
    }

    [Test]
    public void Fit_OnSourceWithClassWeight_TrainsAsOnArraysWithClassWeight()
    {
        var (x, y) = TinyModels.Blobs(16);
        using var fromArrays = TinyModels.Mlp();
        using var fromSource = TinyModels.Mlp();
        fromSource.SetWeights(fromArrays.GetWeights());
        fromArrays.Compile("sgd", "binary_crossentropy");
        fromSource.Compile("sgd", "binary_crossentropy");
        var classWeight = new Dictionary<int, double> { [1] = 3.0 };

        fromArrays.Fit(x, y, batchSize: 4, epochs: 2, verbose: 0, shuffle: false, classWeight: classWeight);
        fromSource.Fit(new ArraySource(x, y, 4), epochs: 2, verbose: 0, shuffle: false, classWeight: classWeight);

        Assert.That(fromSource.GetWeights().SelectMany(w => w.Data), Is.EqualTo(fromArrays.GetWeights().SelectMany(w => w.Data)).Within(1e-6));
    }

    [Test]
    public void Fit_WithValidationSourceAndSampleWeights_LogsValidationAsEvaluate()
    {
        var (x, y) = TinyModels.Blobs(24);
        using var model = TinyModels.Mlp();
        model.Compile("sgd", "binary_crossentropy", new[] { "accuracy" });
        var validation = new ArraySource(x, y, 6);

        var history = model.Fit(new ArraySource(x, y, 6, weighted: true), epochs: 1, verbose: 0, validationData: validation, shuffle: false);

        var evaluated = model.Evaluate(x, y, batchSize: 6);
        Assert.That(history.Values["val_loss"][0], Is.EqualTo(evaluated["loss"]).Within(1e-6));
        Assert.That(history.Values["val_accuracy"][0], Is.EqualTo(evaluated["accuracy"]).Within(1e-9));
    }

    [Test]
    public void Fit_OverManyBatches_KeepsLiveTensorsFlat()
    {
        var (x, y) = TinyModels.Blobs(400);
        using var model = TinyModels.Mlp();
        model.Compile("adam", "binary_crossentropy", new[] { "accuracy" });
        var source = new ArraySource(x, y, 4, workers: 2);
        model.Fit(source, epochs: 1, verbose: 0);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var total = torch.Tensor.TotalCount;

        model.Fit(source, epochs: 3, verbose: 0);
        GC.Collect();
        GC.WaitForPendingFinalizers();

        Assert.That(torch.Tensor.TotalCount, Is.LessThanOrEqualTo(total), "live tensors in the process after 300 more batches");
    }

    /// <summary>Batches cut from arrays, recording what was asked for.</summary>
    private sealed class ArraySource(float[,] x, float[] y, int batchSize, int workers = 1, int maxQueueSize = 10, int failAt = -1, int badShapeAt = -1, bool weighted = false, int delayMs = 0)
        : DataSource(workers, maxQueueSize)
    {
        private readonly ConcurrentQueue<int> requested = new();
        private int fetched;
        private int inFlight;

        public IReadOnlyList<int> Requested => requested.ToArray();

        public int Fetched => Volatile.Read(ref fetched);

        public int InFlight => Volatile.Read(ref inFlight);

        public int EpochEnds { get; private set; }

        public override int? Count => (y.Length + batchSize - 1) / batchSize;

        public override DataBatch GetBatch(int index)
        {
            Interlocked.Increment(ref inFlight);
            try
            {
                requested.Enqueue(index);
                Interlocked.Increment(ref fetched);
                Thread.Sleep(delayMs);
                if (index == failAt)
                {
                    throw new IOException("the disk went away");
                }

                var start = index * batchSize;
                var size = Math.Min(batchSize, y.Length - start);
                var features = index == badShapeAt ? 3 : x.GetLength(1);
                var bx = new float[size, features];
                for (var i = 0; i < size; i++)
                {
                    for (var f = 0; f < Math.Min(features, x.GetLength(1)); f++)
                    {
                        bx[i, f] = x[start + i, f];
                    }
                }

                return new DataBatch(bx, y[start..(start + size)], weighted ? Enumerable.Repeat(2f, size).ToArray() : null);
            }
            finally
            {
                Interlocked.Decrement(ref inFlight);
            }
        }

        public override void OnEpochEnd() => EpochEnds++;

        public IEnumerable<DataBatch> All()
        {
            for (var i = 0; i < Count; i++)
            {
                yield return GetBatch(i);
            }
        }
    }
}
