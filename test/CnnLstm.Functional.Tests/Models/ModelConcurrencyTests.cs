using System.Collections.Concurrent;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Training.Callbacks;
using KerasStyle.Training.Optimizers;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Models;

/// <summary>
/// Calls on one model's weights from several threads (issue 20, items 1 and 2): a prediction comes from one complete
/// state of the weights (before or after any step or write, never a mix), and Dispose waits for running predictions
/// or makes the running call fail with ObjectDisposedException. Each check compares results with recorded states, so
/// no assertion depends on timing; without the locks, some predictions matched no state (issue 20: 319 of 9,699).
/// </summary>
public class ModelConcurrencyTests
{
    private const int Features = 200_000;

    [SetUp]
    public void FreshNames() => Backend.ClearSession();

    [TestCase("sgd")]
    [TestCase("adam")]
    public void Predict_OnOtherThreadsDuringFit_EqualsTheOutputOfOneWeightStateBetweenSteps(string optimizer)
    {
        var input = new Input(new[] { Features });
        using var model = new Model(input, new Dense(1).Call(input));
        model.Compile(optimizer == "sgd" ? new SGD(learningRate: 1e-6) : new Adam(learningRate: 1e-5), "mse");
        var (probe, x, y) = Data(Features);
        // The output after every step, recorded by a callback that predicts on the Fit thread (as Keras users do).
        var states = new List<float[,]> { model.Predict<float[,]>(probe, batchSize: 1) };
        var record = new LambdaCallback(onBatchEnd: (_, _) => states.Add(model.Predict<float[,]>(probe, batchSize: 1)));

        var predictions = PredictWhile(() => model.Predict<float[,]>(probe, batchSize: 1),
            () => model.Fit(x, y, batchSize: 1, epochs: 10, verbose: 0, callbacks: new[] { record }));

        Assert.That(states, Has.Count.EqualTo(81));
        AssertEachIsAState(predictions, states);
    }

    [TestCase("LoadWeights")]
    [TestCase("SetWeights")]
    public void Predict_BesideWeightWrites_EqualsTheOutputOfOneWrittenState(string write)
    {
        var input = new Input(new[] { Features });
        using var model = new Model(input, new Dense(1).Call(input));
        var (probe, _, _) = Data(Features);
        var first = model.GetWeights();
        var second = first.Select(w => new WeightArray(w.Shape.ToArray(), w.Data.Select(v => -2 * v + 0.5f).ToArray())).ToArray();
        var paths = new[] { TempFile(), TempFile() };
        try
        {
            var states = new List<float[,]>();
            foreach (var (weights, path) in new[] { first, second }.Zip(paths))
            {
                model.SetWeights(weights);
                model.SaveWeights(path);
                states.Add(model.Predict<float[,]>(probe, batchSize: 1));
            }

            var predictions = PredictWhile(() => model.Predict<float[,]>(probe, batchSize: 1), () =>
            {
                for (var i = 0; i < 40; i++)
                {
                    if (write == "LoadWeights")
                    {
                        model.LoadWeights(paths[i % 2]);
                    }
                    else
                    {
                        model.SetWeights(i % 2 == 0 ? first : second);
                    }
                }
            });

            AssertEachIsAState(predictions, states);
        }
        finally
        {
            Array.ForEach(paths, File.Delete);
        }
    }

    [Test]
    public void InnerModelPredict_WhileTheOuterModelTrainsItsWeights_EqualsOneWeightState()
    {
        var innerInput = new Input(new[] { Features });
        using var inner = new Model(innerInput, new Dense(1).Call(innerInput));
        var input = new Input(new[] { Features });
        using var outer = new Model(input, inner.Call(input));
        outer.Compile(new SGD(learningRate: 1e-6), "mse");
        var (probe, x, y) = Data(Features);
        var states = new List<float[,]> { inner.Predict<float[,]>(probe, batchSize: 1) };
        var record = new LambdaCallback(onBatchEnd: (_, _) => states.Add(inner.Predict<float[,]>(probe, batchSize: 1)));

        var predictions = PredictWhile(() => inner.Predict<float[,]>(probe, batchSize: 1),
            () => outer.Fit(x, y, batchSize: 1, epochs: 10, verbose: 0, callbacks: new[] { record }));

        Assert.That(states[^1], Is.Not.EqualTo(states[0]), "the outer Fit trained the inner model's weights");
        AssertEachIsAState(predictions, states);
    }

    [Test]
    public void Callback_OnTheFitThread_MayPredictReadWriteSaveAndLoadWeights()
    {
        using var model = TinyModels.Mlp();
        model.Compile("adam", "binary_crossentropy");
        var (x, y) = TinyModels.Blobs(8);
        var path = TempFile();
        var calls = 0;
        var callback = new LambdaCallback(onEpochEnd: (_, _) =>
        {
            _ = model.Predict(x);
            var weights = model.GetWeights();
            model.SetWeights(weights);
            model.Layers[1].SetWeights(model.Layers[1].GetWeights());
            model.SaveWeights(path);
            model.LoadWeights(path);
            _ = model.Evaluate(x, y);
            calls++;
        });
        try
        {
            model.Fit(x, y, batchSize: 4, epochs: 2, verbose: 0, callbacks: new[] { callback });
        }
        finally
        {
            File.Delete(path);
        }

        Assert.That(calls, Is.EqualTo(2));
        Assert.That(model.Optimizer!.Iterations, Is.EqualTo(4));
    }

    [Test]
    public void Dispose_WhileOtherThreadsPredict_LetsEachCallFinishOrThrowObjectDisposedException()
    {
        var input = new Input(new[] { Features });
        var model = new Model(input, new Dense(1).Call(input));
        var (probe, _, _) = Data(Features);
        var expected = model.Predict<float[,]>(probe);
        var calls = new Func<object>[]
        {
            () => model.Predict<float[,]>(probe, batchSize: 1),
            () => model.PredictTensors(new[] { tensor(new float[2 * Features], new long[] { 2, Features }) }).Select(t => { t.Dispose(); return 0; }).ToArray(),
            () => model.GetWeights(),
        };

        var outcomes = RunUntilDisposed(calls, model.Dispose);

        Assert.That(outcomes, Is.All.EqualTo("ObjectDisposedException"), "every thread's last call");
        Assert.Throws<ObjectDisposedException>(() => model.Predict(probe));
        Assert.That(expected, Has.Length.EqualTo(2));
    }

    [Test]
    public void LayerDispose_WhileItsModelPredictsOnOtherThreads_MakesLaterCallsThrowObjectDisposedExceptionNamingTheLayer()
    {
        var input = new Input(new[] { Features });
        var dense = new Dense(1);
        using var model = new Model(input, dense.Call(input));
        var (probe, _, _) = Data(Features);

        var outcomes = RunUntilDisposed(new Func<object>[] { () => model.Predict(probe, batchSize: 1), () => model.Predict(probe) }, dense.Dispose);

        Assert.That(outcomes, Is.All.EqualTo("ObjectDisposedException"));
        var error = Assert.Throws<ObjectDisposedException>(() => model.Predict(probe));
        Assert.That(error!.Message, Does.Contain($"Dense '{dense.Name}'"));
        Assert.Throws<ObjectDisposedException>(() => dense.GetWeights());
        Assert.Throws<ObjectDisposedException>(() => dense.SetWeights(Array.Empty<WeightArray>()));
        Assert.Throws<ObjectDisposedException>(() => dense.CountParams());
    }

    [Test]
    public void Dispose_WhileAnotherThreadFits_ReturnsAndThatFitThrowsObjectDisposedExceptionAtItsNextStep()
    {
        var model = TinyModels.Mlp();
        model.Compile("adam", "binary_crossentropy");
        var (x, y) = TinyModels.Blobs(64);
        using var started = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var pause = new LambdaCallback(onBatchEnd: (batch, _) =>
        {
            if (batch == 0)
            {
                started.Set();
                release.Wait();
            }
        });
        var fit = Task.Run(() => model.Fit(x, y, batchSize: 8, verbose: 0, callbacks: new[] { pause }));
        started.Wait();

        model.Dispose();
        Assert.Throws<ObjectDisposedException>(() => model.Predict(x), "a disposing model refuses new calls");
        release.Set();

        var error = Assert.Throws<AggregateException>(() => fit.Wait());
        Assert.That(error!.InnerException, Is.TypeOf<ObjectDisposedException>());
        Assert.That(error.InnerException!.Message, Does.Contain($"Model '{model.Name}'"));
        Assert.Throws<ObjectDisposedException>(() => model.Fit(x, y, verbose: 0));
    }

    [Test]
    public void Dispose_FromACallbackDuringFit_MakesThatFitThrowObjectDisposedException()
    {
        var model = TinyModels.Mlp();
        model.Compile("adam", "binary_crossentropy");
        var (x, y) = TinyModels.Blobs(16);
        var dispose = new LambdaCallback(onEpochEnd: (_, _) =>
        {
            model.Dispose();
            Assert.Throws<ObjectDisposedException>(() => model.Predict(x));
        });

        Assert.Throws<ObjectDisposedException>(() => model.Fit(x, y, batchSize: 8, epochs: 3, verbose: 0, callbacks: new[] { dispose }));
        Assert.Throws<ObjectDisposedException>(() => model.GetWeights());
    }

    /// <summary>Runs <paramref name="predict"/> on three threads until <paramref name="work"/> (on this thread) ends, and returns every prediction.</summary>
    private static List<float[,]> PredictWhile(Func<float[,]> predict, Action work)
    {
        var predictions = new ConcurrentBag<float[,]>();
        using var done = new CancellationTokenSource();
        using var running = new CountdownEvent(3);
        var threads = Enumerable.Range(0, 3).Select(_ => Task.Run(() =>
        {
            running.Signal();
            while (!done.IsCancellationRequested)
            {
                predictions.Add(predict());
            }
        })).ToArray();
        try
        {
            running.Wait();
            work();
        }
        finally
        {
            done.Cancel();
            Task.WaitAll(threads);
        }

        return predictions.ToList();
    }

    /// <summary>
    /// Runs each call in a loop on its own thread; once every thread has completed one call, runs
    /// <paramref name="dispose"/>. Returns, per thread, the exception type that ended its loop.
    /// </summary>
    private static string[] RunUntilDisposed(IReadOnlyList<Func<object>> calls, Action dispose)
    {
        using var running = new CountdownEvent(calls.Count);
        var threads = calls.Select(call => Task.Run(() =>
        {
            for (var first = true; ; first = false)
            {
                try
                {
                    call();
                }
                catch (Exception e)
                {
                    return e.GetType().Name + (e is ObjectDisposedException ? string.Empty : $": {e.Message}");
                }

                if (first)
                {
                    running.Signal();
                }
            }
        })).ToArray();
        running.Wait();
        dispose();
        return threads.Select(t => t.Result).ToArray();
    }

    private static void AssertEachIsAState(IReadOnlyList<float[,]> predictions, IReadOnlyList<float[,]> states)
    {
        // Consecutive states differ by about 1e-4 here; a prediction of one state differs from it by rounding only.
        static bool Same(float[,] a, float[,] b) => Enumerable.Range(0, a.GetLength(0)).All(i => Math.Abs(a[i, 0] - b[i, 0]) <= 1e-6);
        var strays = predictions.Where(p => !states.Any(s => Same(p, s))).ToArray();
        Assert.That(predictions, Is.Not.Empty);
        Assert.That(strays.Length, Is.Zero, $"{strays.Length} of {predictions.Count} predictions match no recorded state of the weights, e.g. {(strays.Length > 0 ? $"({strays[0][0, 0]}, {strays[0][1, 0]})" : "none")}");
    }

    /// <summary>A probe of two samples to predict on, and eight training samples with targets.</summary>
    private static (float[,] Probe, float[,] X, float[] Y) Data(int features)
    {
        var random = new Random(20);
        float[,] Samples(int count)
        {
            var result = new float[count, features];
            for (var i = 0; i < count; i++)
            {
                for (var j = 0; j < features; j++)
                {
                    result[i, j] = (float)(random.NextDouble() * 2 - 1);
                }
            }

            return result;
        }

        return (Samples(2), Samples(8), Enumerable.Range(0, 8).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray());
    }

    private static string TempFile() => Path.Combine(Path.GetTempPath(), $"ks-threads-{Guid.NewGuid():N}.weights.h5");
}
