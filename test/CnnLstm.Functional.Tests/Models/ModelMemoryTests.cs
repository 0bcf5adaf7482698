using System.Diagnostics;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Training.Callbacks;
using TorchSharp;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Models;

/// <summary>
/// Training and prediction release every tensor they create. Live tensors are counted two ways: TorchSharp's
/// per-thread statistics (created minus disposed on this thread; a tensor left to the finalizer stays counted, so
/// leaks show even after a GC) and <see cref="Tensor.TotalCount"/> (all live tensor objects in the process). Each
/// test runs synchronously on one thread, so the per-thread counts before and after are comparable.
/// </summary>
public class ModelMemoryTests
{
    private static long LiveOnThisThread => DisposeScopeManager.Statistics.ThreadTotalLiveCount;

    [SetUp]
    public void Seed()
    {
        Backend.ClearSession();
        Utils.SetRandomSeed(17);
    }

    [Test]
    public void TwoThousandStepsAndTenThousandPredictions_KeepLiveTensorsAndMemoryFlat()
    {
        var input = new Input(new[] { 3 });
        var h = new Dropout(0.2).Call(new Dense(8, activation: "relu").Call(input));
        using var model = new Model(input, new Dense(1, activation: "sigmoid").Call(h));
        model.Compile("adam", "binary_crossentropy", new[] { "accuracy" });
        var random = new Random(1);
        var x = new float[100, 3];
        var y = new float[100];
        for (var i = 0; i < 100; i++)
        {
            y[i] = i % 2;
            for (var f = 0; f < 3; f++)
            {
                x[i, f] = (float)(random.NextDouble() + y[i]);
            }
        }

        var one = new float[1, 3];
        void Work(int epochs, int predictions)
        {
            // 80 training samples in batches of 10: 8 steps per epoch.
            model.Fit(x, y, batchSize: 10, epochs: epochs, verbose: 0, validationSplit: 0.2);
            for (var i = 0; i < predictions; i++)
            {
                one[0, 0] = i % 7;
                model.Predict(one);
            }
        }

        // Warm-up: the first round grows the allocators' caches and JIT state (about 15-25 MB); later rounds stay flat.
        Work(epochs: 250, predictions: 10_000);
        Settle();
        var live = LiveOnThisThread;
        var total = Tensor.TotalCount;
        var memory = Process.GetCurrentProcess().PrivateMemorySize64;

        Work(epochs: 250, predictions: 10_000);
        Assert.That(model.Optimizer!.Iterations, Is.EqualTo(4000), "2,000 steps in each round");
        Settle();

        Assert.That(LiveOnThisThread, Is.EqualTo(live), "tensors created and not disposed on this thread");
        Assert.That(Tensor.TotalCount, Is.LessThanOrEqualTo(total), "live tensors in the process");
        var growth = Process.GetCurrentProcess().PrivateMemorySize64 - memory;
        TestContext.Out.WriteLine($"live tensors {live} -> {LiveOnThisThread}; process tensors {total} -> {Tensor.TotalCount}; private memory growth {growth / 1e6:F1} MB");
        Assert.That(growth, Is.LessThan(50_000_000), "private memory growth in bytes");
    }

    [TestCase(false, TestName = "EveryTrainingPath_ReleasesItsTensors")]
    [TestCase(true, TestName = "EveryTrainingPath_WithEveryKernelDistrusted_ReleasesItsTensors")]
    public void EveryTrainingPath_ReleasesItsTensors(bool distrustEveryKernel)
    {
        if (distrustEveryKernel)
        {
            // The fallbacks of the kernel checks: im2col, unfold and max, the LSTM step loop.
            foreach (var kernel in KernelChecks.Kernels)
            {
                KernelChecks.Distrust(kernel);
            }
        }

        var directory = Directory.CreateTempSubdirectory("ks-memory-").FullName;
        try
        {
            // Conv1D, pooling, LSTM, dropout; token ids through an Embedding; sparse targets; tensors as data;
            // callbacks that read and write weights.
            var ids = new Input(new[] { 6 }, dtype: DType.Int64);
            var e = new Embedding(12, 4).Call(ids);
            var c = new MaxPooling1D(poolSize: 2).Call(new Conv1D(3, 2, activation: "relu").Call(new Dropout(0.1).Call(e)));
            using var model = new Model(ids, new Dense(3, activation: "softmax").Call(new LSTM(4).Call(c)));
            model.Compile("rmsprop", "sparse_categorical_crossentropy", new[] { "accuracy" });
            var x = new long[12, 6];
            var y = new int[12];
            for (var i = 0; i < 12; i++)
            {
                y[i] = i % 3;
                for (var t = 0; t < 6; t++)
                {
                    x[i, t] = (i + t) % 12;
                }
            }

            using var xTensor = tensor(x.Cast<long>().ToArray(), new long[] { 12, 6 });
            using var yTensor = tensor(y, new long[] { 12 });
            void Work()
            {
                ICallback[] callbacks =
                {
                    new EarlyStopping(monitor: "loss", patience: 5, restoreBestWeights: true),
                    new ModelCheckpoint(Path.Combine(directory, "w.keras"), monitor: "loss"),
                    new ReduceLROnPlateau(monitor: "loss", patience: 1),
                    new CSVLogger(Path.Combine(directory, "log.csv")),
                    new TerminateOnNaN(),
                };
                model.Fit(x, y, batchSize: 5, epochs: 3, verbose: 0, validationData: (xTensor, yTensor), callbacks: callbacks);
                model.Fit(xTensor, yTensor, batchSize: 4, epochs: 1, verbose: 0, validationSplit: 0.25);
                model.Evaluate(x, y, batchSize: 5);
                model.TrainOnBatch(x, y);
                model.Predict(x, batchSize: 5);
                model.Predict(x, batchSize: 1);
                model.PredictTensors(new[] { xTensor }).ForEach(t => t.Dispose());
                model.SetWeights(model.GetWeights());
                model.LoadWeights(Path.Combine(directory, "w.keras"));
            }

            Work();
            Settle();
            var live = LiveOnThisThread;
            Work();
            Work();
            Settle();
            Assert.That(LiveOnThisThread, Is.EqualTo(live));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
            KernelChecks.ClearDistrust();
        }
    }

    /// <summary>
    /// Issue 20: creating and disposing 2,000 Input(3) -> Dense(8) -> Dense(4) models left 8,000 more live tensors in
    /// <see cref="Tensor.TotalCount"/>, one per weight (TorchSharp's Parameter constructor kept the emptied initial
    /// value counted). Each kind of model, whatever was done with it, leaves both counts where they were.
    /// </summary>
    [TestCase("built")]
    [TestCase("compiled, trained, predicted")]
    [TestCase("saved and exported")]
    [TestCase("loaded from .keras and trained")]
    [TestCase("loaded from .h5")]
    [TestCase("sequential")]
    [TestCase("nested, trained, saved, loaded")]
    [TestCase("recurrent, wrapped, embedded")]
    [TestCase("held layers reused after their model is disposed")]
    public void CreatingAndDisposingModels_LeavesLiveTensorCountsFlat(string kind)
    {
        var directory = Directory.CreateTempSubdirectory("ks-dispose-").FullName;
        try
        {
            var x = new float[4, 3];
            var y = new float[4, 4];
            static Model Small()
            {
                var input = new Input(3);
                return new Model(input, new Dense(4).Call(new Dense(8).Call(input)));
            }

            using (var saved = Small())
            {
                saved.Compile("adam", "mse");
                saved.Fit(x, y, verbose: 0);
                saved.Save(Path.Combine(directory, "small.keras"));
                saved.Save(Path.Combine(directory, "small.h5"));
            }

            void Cycle()
            {
                switch (kind)
                {
                    case "built":
                        Small().Dispose();
                        break;
                    case "compiled, trained, predicted":
                        using (var model = Small())
                        {
                            model.Compile("adam", "mse");
                            model.Fit(x, y, verbose: 0);
                            model.Predict(x);
                        }

                        break;
                    case "saved and exported":
                        using (var model = Small())
                        {
                            model.Save(Path.Combine(directory, "cycle.keras"));
                            model.Export(Path.Combine(directory, "cycle.onnx"));
                        }

                        break;
                    case "loaded from .keras and trained":
                        using (var model = Model.Load(Path.Combine(directory, "small.keras")))
                        {
                            model.Fit(x, y, verbose: 0);
                        }

                        break;
                    case "loaded from .h5":
                        Model.Load(Path.Combine(directory, "small.h5")).Dispose();
                        break;
                    case "sequential":
                        using (var model = new Sequential())
                        {
                            model.Add(new Input(3));
                            model.Add(new Dense(8));
                            model.Add(new Dense(4));
                            model.Compile("sgd", "mse");
                            model.Fit(x, y, verbose: 0);
                        }

                        break;
                    case "nested, trained, saved, loaded":
                        using (var inner = Small())
                        {
                            var input = new Input(3);
                            using var outer = new Model(input, new Dense(4).Call(inner.Call(input)));
                            outer.Compile("rmsprop", "mse");
                            outer.Fit(x, y, verbose: 0);
                            outer.Save(Path.Combine(directory, "nested.keras"));
                            Model.Load(Path.Combine(directory, "nested.keras")).Dispose();
                        }

                        break;
                    case "held layers reused after their model is disposed":
                        // A layer shared by two models, one wrapped by TimeDistributed, and an inner model: each
                        // outlives the first model that used it and is released with the last.
                        var shared = new Dense(4);
                        var wrapped = new Dense(4);
                        using (var inner = Small())
                        {
                            var a = new Input(3);
                            using var kept = new Model(new[] { a }, new[] { shared.Call(a), wrapped.Call(a) });
                            var b = new Input(3);
                            var sequence = new Input(new[] { 2, 3 });
                            new Model(new[] { b, sequence }, new[] { shared.Call(b), inner.Call(b), new TimeDistributed(wrapped).Call(sequence) }).Dispose();
                            var c = new Input(3);
                            using var again = new Model(c, inner.Call(c));
                            again.Predict(x);
                            kept.Predict(new Array[] { x });
                        }

                        break;
                    default:
                        var ids = new Input(new[] { 5 }, dtype: DType.Int64);
                        var steps = new TimeDistributed(new Dense(2)).Call(new Embedding(10, 3).Call(ids));
                        using (var model = new Model(ids, new Dense(4).Call(new Bidirectional(new GRU(3)).Call(new LSTM(4, returnSequences: true).Call(steps)))))
                        {
                            model.Compile("adam", "mse");
                            model.Fit(new long[4, 5], y, verbose: 0);
                            model.Export(Path.Combine(directory, "recurrent.onnx"));
                        }

                        break;
                }
            }

            Cycle();
            Settle();
            var live = LiveOnThisThread;
            var total = Tensor.TotalCount;
            for (var i = 0; i < 20; i++)
            {
                Cycle();
            }

            Settle();
            Assert.That(Tensor.TotalCount, Is.LessThanOrEqualTo(total), "live tensors in the process");
            Assert.That(LiveOnThisThread, Is.EqualTo(live), "tensors created and not disposed on this thread");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static void Settle()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }
}
