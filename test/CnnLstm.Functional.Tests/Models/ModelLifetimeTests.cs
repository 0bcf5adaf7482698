using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;

namespace KerasStyle.Tests.Models;

/// <summary>Use after Dispose, and calls that overlap from two threads (issue 12, items 4 and 6).</summary>
public class ModelLifetimeTests
{
    [SetUp]
    public void FreshNames() => Backend.ClearSession();

    [Test]
    public void EveryCall_AfterDispose_ThrowsObjectDisposedExceptionNamingTheModel()
    {
        var model = TinyModels.Mlp();
        model.Compile("adam", "binary_crossentropy");
        var (x, y) = TinyModels.Blobs(4);
        var path = Path.Combine(Path.GetTempPath(), $"ks-disposed-{Guid.NewGuid():N}.keras");
        model.Dispose();
        model.Dispose(); // twice is harmless

        foreach (var call in new (string Name, Action Act)[]
        {
            ("Predict", () => model.Predict(x)),
            ("PredictTensors", () => model.PredictTensors(new[] { TorchSharp.torch.zeros(1, 2) })),
            ("Fit", () => model.Fit(x, y, verbose: 0)),
            ("Evaluate", () => model.Evaluate(x, y)),
            ("TrainOnBatch", () => model.TrainOnBatch(x, y)),
            ("GetWeights", () => model.GetWeights()),
            ("Save", () => model.Save(path)),
            ("SaveWeights", () => model.SaveWeights(path + ".weights.h5")),
            ("LoadWeights", () => model.LoadWeights(path + ".weights.h5")),
            ("SetWeights", () => model.SetWeights(Array.Empty<WeightArray>())),
            ("Compile", () => model.Compile("sgd", "mse")),
            ("Export", () => model.Export(path + ".onnx")),
            ("CountParams", () => model.CountParams()),
            ("Summary", () => model.Summary()),
            ("SummaryText", () => model.SummaryText()),
            ("GetLayer", () => model.GetLayer("dense_1")),
            ("ToJson", () => model.ToJson()),
            ("Call", () => model.Call(new Input(new[] { 2 }))),
        })
        {
            var error = Assert.Throws<ObjectDisposedException>(() => call.Act(), call.Name);
            Assert.That(error!.Message, Does.Contain($"Model '{model.Name}'"), call.Name);
        }

        Assert.That(File.Exists(path), Is.False);
    }

    [Test]
    public void SequentialAdd_AfterDispose_ThrowsObjectDisposedException()
    {
        var model = new Sequential();
        model.Add(new Input(new[] { 2 }));
        model.Add(new Dense(1));
        model.Dispose();

        Assert.Throws<ObjectDisposedException>(() => model.Add(new Dense(1)));
    }

    [Test]
    public void Dispose_ModelSharingALayer_LeavesTheOtherModelWorking_UntilItIsDisposedToo()
    {
        var input = new Input(new[] { 3 });
        var shared = new Dense(4, activation: "tanh");
        var hidden = shared.Call(input);
        var a = new Model(input, new Dense(1).Call(hidden));
        var b = new Model(input, new Dense(2).Call(hidden));
        var x = new float[,] { { 1, 2, 3 } };
        var before = (float[,])b.Predict(x);

        a.Dispose();
        Assert.That(b.Predict(x), Is.EqualTo(before), "B still has the shared layer's weights");
        Assert.That(b.GetWeights().Count, Is.EqualTo(4));

        b.Dispose();
        Assert.Throws<ObjectDisposedException>(() => shared.Call(new Input(new[] { 3 })), "the last model released the shared layer");
    }

    [Test]
    public void Fit_WhileAnotherThreadFits_ThrowsInvalidOperationException_AndTheFirstFinishes()
    {
        using var model = TinyModels.Mlp();
        model.Compile("adam", "binary_crossentropy");
        var (x, y) = TinyModels.Blobs(64);
        using var started = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var first = Task.Run(() => model.Fit(x, y, batchSize: 8, epochs: 1, verbose: 0, callbacks: new[] { new BlockingCallback(started, release) }));
        Assert.That(started.Wait(TimeSpan.FromSeconds(30)), Is.True, "the first Fit started");
        try
        {
            var error = Assert.Throws<InvalidOperationException>(() => model.Fit(x, y, verbose: 0));
            Assert.That(error!.Message, Does.Contain(model.Name).And.Contain("another thread"));
            Assert.Throws<InvalidOperationException>(() => model.TrainOnBatch(x, y));
            Assert.That(model.Predict(x), Is.Not.Null, "Predict may run beside Fit");
        }
        finally
        {
            release.Set();
        }

        Assert.That(first.Wait(TimeSpan.FromSeconds(60)), Is.True);
        Assert.That(first.Result.Epoch, Has.Count.EqualTo(1));
        Assert.That(model.Optimizer!.Iterations, Is.EqualTo(8), "no step was lost");
        model.Fit(x, y, verbose: 0); // and the model is free again
    }

    [Test]
    public void Callback_EvaluatingAndSavingDuringFit_OnTheSameThread_IsAllowed()
    {
        using var model = TinyModels.Mlp();
        model.Compile("adam", "binary_crossentropy");
        var (x, y) = TinyModels.Blobs(8);
        var path = Path.Combine(Path.GetTempPath(), $"ks-nested-{Guid.NewGuid():N}.keras");
        try
        {
            model.Fit(x, y, batchSize: 4, epochs: 1, verbose: 0, callbacks: new[] { new NestedCallback(model, x, y, path) });
            Assert.That(File.Exists(path), Is.True);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private sealed class BlockingCallback(ManualResetEventSlim started, ManualResetEventSlim release) : KerasStyle.Training.Callbacks.Callback
    {
        public override void OnBatchEnd(int batch, Dictionary<string, double> logs)
        {
            if (batch == 0)
            {
                started.Set();
                release.Wait(TimeSpan.FromSeconds(60));
            }
        }
    }

    private sealed class NestedCallback(Model model, float[,] x, float[] y, string path) : KerasStyle.Training.Callbacks.Callback
    {
        public override void OnEpochEnd(int epoch, Dictionary<string, double> logs)
        {
            model.Evaluate(x, y);
            model.Save(path);
        }
    }
}
