using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Layers;

/// <summary>
/// Layers and models called on concrete data (<c>Invoke</c>), as Keras 3's <c>layer(x)</c> on torch tensors: the first
/// call builds from the data's shape, the input is checked as a symbolic call checks it, no node is recorded, and the
/// numbers are those of the same layer inside a model.
/// </summary>
public class EagerCallTests
{
    [SetUp]
    public void Setup()
    {
        Backend.ClearSession();
        Utils.SetRandomSeed(7);
    }

    [Test]
    public void Dense_OnATensor_BuildsFromItsShape_AndRecordsNoNode()
    {
        var dense = new Dense(2, activation: "tanh");
        using var x = randn(4, 3);
        using var y = dense.Invoke(x);
        Assert.That(y.shape, Is.EqualTo(new long[] { 4, 2 }));
        Assert.That(dense.Weights.Select(w => w.Shape), Is.EqualTo(new[] { new[] { 3, 2 }, new[] { 2 } }));
        Assert.That(dense.InboundNodes, Is.Empty);

        var input = new Input(shape: 3);
        using var model = new Model(input, dense.Call(input));
        var data = TestData.Matrix(4, 3, seed: 1);
        var predicted = (float[,])model.Predict(data);
        Assert.That((float[,])dense.Invoke(data), Is.EqualTo(predicted), "a C# array in, the same numbers as the model's");
    }

    [Test]
    public void WrongRankOrFeatures_ThrowLayerInputException_NamingTheLayerAndShapes_BeforeAnythingChanges()
    {
        var dense = new Dense(2, name: "head");
        using var vector = ones(3);
        var error = Assert.Throws<LayerInputException>(() => dense.Invoke(vector));
        Assert.That(error!.Message, Does.Contain("Dense 'head'").And.Contain("shape (3)"));
        Assert.That((dense.Built, dense.Weights.Count), Is.EqualTo((false, 0)));

        using var built = dense.Invoke(ones(5, 3));
        var features = Assert.Throws<LayerInputException>(() => dense.Invoke(ones(5, 4)));
        Assert.That(features!.Message, Does.Contain("built for 3 input features").And.Contain("(5, 4)"));
    }

    [Test]
    public void TrainingAndMaskArguments_AreHonoured()
    {
        var dropout = new Dropout(0.5);
        using var x = ones(2, 1000);
        using var inference = dropout.Invoke(x);
        using var training = dropout.Invoke(x, training: true);
        Assert.That(inference.data<float>().ToArray(), Has.All.EqualTo(1f));
        Assert.That(training.data<float>().ToArray().Distinct(), Is.EquivalentTo(new[] { 0f, 2f }));

        var pooling = new GlobalAveragePooling1D();
        using var steps = tensor(new float[] { 1, 2, 3, 100, 4, 5, 6, 7 }, new long[] { 2, 4, 1 });
        using var mask = tensor(new[] { true, true, true, false, true, true, true, true }, new long[] { 2, 4 });
        using var pooled = pooling.Invoke(steps, mask: mask);
        Assert.That(pooled.data<float>().ToArray(), Is.EqualTo(new[] { 2f, 5.5f }), "the masked step is left out");
    }

    [Test]
    public void SeveralInputsAndOutputs_AndTokenIds()
    {
        using var a = ones(2, 3);
        using var b = full(2, 3, 2f);
        using var sum = new Add().Invoke(a, b);
        Assert.That(sum.data<float>().ToArray(), Has.All.EqualTo(3f));

        var lstm = new LSTM(4, returnState: true);
        using var sequence = randn(2, 5, 3);
        var outputs = lstm.InvokeMulti(new[] { sequence });
        Assert.That(outputs.Select(o => o.shape), Is.EqualTo(new[] { new long[] { 2, 4 }, new long[] { 2, 4 }, new long[] { 2, 4 } }));
        Assert.That(() => lstm.Invoke(sequence), Throws.InvalidOperationException.With.Message.Contains("InvokeMulti"));
        foreach (var output in outputs)
        {
            output.Dispose();
        }

        var embedding = new Embedding(10, 2);
        Assert.That(((float[,,])embedding.Invoke(new[,] { { 1, 2, 3 } })).GetLength(2), Is.EqualTo(2));
        Assert.That(() => embedding.Invoke(new[,] { { 1, 10 } }), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("[0, 10)"));
    }

    [Test]
    public void AModel_IsCallableOnData_AsOneLayer()
    {
        var input = new Input(shape: (5, 3));
        using var model = new Model(input, new Dense(1).Call(new LSTM(4).Call(input)));
        var data = TestData.Sequence(3, 5, 3, seed: 2);
        using var x = tensor(data.Cast<float>().ToArray(), new long[] { 3, 5, 3 });
        using var y = model.Invoke(x);
        Assert.That(y.data<float>().ToArray(), Is.EqualTo(((float[,])model.Predict(data)).Cast<float>().ToArray()).Within(1e-6));
        Assert.That(() => model.Invoke(ones(3, 5)), Throws.InstanceOf<LayerInputException>().With.Message.Contains("(None, 5, 3)"));
    }

    [Test]
    public void Results_AreTheCallersOwn_AndNothingElseStaysAlive()
    {
        var dense = new Dense(3);
        using var x = randn(4, 3);
        dense.Invoke(x).Dispose();
        var live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        using (NewDisposeScope())
        {
            // Inside a scope the result joins it; the call's temporaries are already gone.
            _ = dense.Invoke(x);
            Assert.That(DisposeScopeManager.Statistics.ThreadTotalLiveCount, Is.EqualTo(live + 1));
        }

        Assert.That(DisposeScopeManager.Statistics.ThreadTotalLiveCount, Is.EqualTo(live));
    }

    [Test]
    public void Gradients_FlowThroughAnEagerCall_ForACustomTrainingLoop()
    {
        var dense = new Dense(1);
        using var x = randn(8, 2);
        using var loss = dense.Invoke(x, training: true).square().mean();
        loss.backward();
        Assert.That(dense.Weights.Select(w => w.Variable.grad is not null), Has.All.True);
    }

    [Test]
    public void AModelCalledOnData_ReleasesEveryTensorWhenDisposed()
    {
        var live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (var i = 0; i < 3; i++)
        {
            var input = new Input(shape: 3);
            using var model = new Model(input, new Dense(2).Call(new Dense(4).Call(input)));
            using var x = ones(2, 3);
            model.Invoke(x).Dispose();
        }

        Assert.That(DisposeScopeManager.Statistics.ThreadTotalLiveCount, Is.EqualTo(live), "the weights and the eager call's tensors are gone");
    }
}
