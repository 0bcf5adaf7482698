using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;

namespace KerasStyle.Tests.Models;

/// <summary>
/// The ownership rule of docs/architecture.md ("Ownership"): a model releases, when disposed, the layers no live
/// model uses any more; a layer the user still holds then throws <see cref="ObjectDisposedException"/> naming it on
/// every use, never TorchSharp's "Tensor invalid -- empty handle"; a layer another live model uses stays usable.
/// </summary>
public class LayerOwnershipTests
{
    [SetUp]
    public void FreshNames() => Backend.ClearSession();

    private static readonly float[,] X = { { 1, 2, 3 } };

    private static (Dense Dense, Model Model) DisposedModelWithHeldDense()
    {
        var dense = new Dense(2, name: "held");
        var input = new Input(3);
        var model = new Model(input, dense.Call(input));
        model.Predict(X);
        model.Dispose();
        return (dense, model);
    }

    private static void AssertDisposedNaming(Action use, string layer)
    {
        var error = Assert.Throws<ObjectDisposedException>(() => use())!;
        Assert.That(error.ObjectName + " " + error.Message, Does.Contain(layer));
        Assert.That(error.Message, Does.Not.Contain("empty handle"));
    }

    [Test]
    public void HeldLayer_AfterItsModelIsDisposed_ThrowsObjectDisposedNamingItOnEveryUse()
    {
        var (dense, _) = DisposedModelWithHeldDense();
        AssertDisposedNaming(() => dense.GetWeights(), "Dense 'held'");
        AssertDisposedNaming(() => dense.SetWeights(new[] { new WeightArray(new[] { 3, 2 }, new float[6]), new WeightArray(new[] { 2 }, new float[2]) }), "Dense 'held'");
        AssertDisposedNaming(() => dense.CountParams(), "Dense 'held'");
        AssertDisposedNaming(() => dense.Call(new Input(3)), "Dense 'held'");
        AssertDisposedNaming(() => _ = dense.Weights[0].Variable, "Dense 'held'");
        AssertDisposedNaming(() => new Sequential(new Layer[] { new InputLayer(new[] { 3 }), dense }), "Dense 'held'");
    }

    [Test]
    public void HeldLayer_SharedWithALiveModel_StaysUsableAfterTheOtherIsDisposed()
    {
        var dense = new Dense(2);
        var a = new Input(3);
        using var kept = new Model(a, dense.Call(a));
        var b = new Input(3);
        new Model(b, new Dense(1).Call(dense.Call(b))).Dispose();

        Assert.That(dense.GetWeights(), Has.Count.EqualTo(2));
        var c = new Input(3);
        using var again = new Model(c, dense.Call(c));
        Assert.That(((float[,])again.Predict(X)).GetLength(1), Is.EqualTo(2));
        Assert.That(again.Predict(X), Is.EqualTo(kept.Predict(X)));
    }

    [Test]
    public void HeldInnerModel_AfterTheOuterModelIsDisposed_CanBeCalledInANewModel()
    {
        var i = new Input(3);
        using var inner = new Model(i, new Dense(2).Call(i));
        var o = new Input(3);
        new Model(o, new Dense(1).Call(inner.Call(o))).Dispose();

        var p = new Input(3);
        using var outer = new Model(p, inner.Call(p));
        Assert.That(outer.Predict(X), Is.EqualTo(inner.Predict(X)));
    }

    [Test]
    public void HeldWrappedLayer_AfterTheWrappersModelIsDisposed_ThrowsObjectDisposedNamingIt()
    {
        var dense = new Dense(2, name: "inner_dense");
        var input = new Input(new[] { 4, 3 });
        new Model(input, new TimeDistributed(dense).Call(input)).Dispose();
        AssertDisposedNaming(() => dense.GetWeights(), "Dense 'inner_dense'");
        AssertDisposedNaming(() => dense.Call(new Input(3)), "Dense 'inner_dense'");
    }

    [Test]
    public void HeldWrappedLayer_UsedByALiveModelToo_StaysUsableAfterTheWrappersModelIsDisposed()
    {
        var dense = new Dense(2);
        var direct = new Input(3);
        using var kept = new Model(direct, dense.Call(direct));
        var input = new Input(new[] { 4, 3 });
        new Model(input, new TimeDistributed(dense).Call(input)).Dispose();
        Assert.That(((float[,])kept.Predict(X)).GetLength(1), Is.EqualTo(2));
    }
}
