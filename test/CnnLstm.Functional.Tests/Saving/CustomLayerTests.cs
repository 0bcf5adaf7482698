using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Saving;
using KerasStyle.Tests.Layers;

namespace KerasStyle.Tests.Saving;

/// <summary>A user-defined layer class: it builds, trains, and survives JSON and .keras round trips once registered.</summary>
public class CustomLayerTests
{
    private string directory = null!;

    [SetUp]
    public void Setup()
    {
        Backend.ClearSession();
        Utils.SetRandomSeed(3);
        directory = Directory.CreateTempSubdirectory("ks-custom-").FullName;
        LayerRegistry.Register("LearnedScale", config => new LearnedScale(config.GetDouble("factor", 1), config.Name));
    }

    [TearDown]
    public void TearDown()
    {
        LayerRegistry.Unregister("LearnedScale");
        Directory.Delete(directory, recursive: true);
    }

    [Test]
    public void CustomLayer_BuildsItsWeightFromTheInputShape_AndComputesItsForward()
    {
        var input = new Input(new[] { 4 });
        var scale = new LearnedScale(2, name: "scale");
        using var model = new Model(input, scale.Call(input));
        Assert.That(scale.Weights.Single().Shape, Is.EqualTo(new[] { 4 }));
        Assert.That(model.SummaryText(), Does.Contain("scale (LearnedScale)"));
        var output = (float[,])model.Predict(new float[,] { { 1, 2, 3, 4 } });
        Assert.That(output, Is.EqualTo(new float[,] { { 2, 4, 6, 8 } }));
    }

    [Test]
    public void CustomLayer_IsTrainedByFit()
    {
        var input = new Input(new[] { 2 });
        var scale = new LearnedScale(1);
        using var model = new Model(input, scale.Call(input));
        model.Compile("sgd", "mse");
        var before = scale.GetWeights()[0].Data.ToArray();
        model.Fit(new float[,] { { 1, 1 }, { 2, 2 } }, new float[,] { { 3, 3 }, { 6, 6 } }, epochs: 3, verbose: 0);
        Assert.That(scale.GetWeights()[0].Data, Is.Not.EqualTo(before));
    }

    [Test]
    public void CustomLayer_RoundTripsThroughJsonAndKerasFiles_WhenRegistered()
    {
        var input = new Input(new[] { 3 });
        using var model = new Model(input, new LearnedScale(0.5).Call(new Dense(2).Call(input)));
        var x = new float[,] { { 1, -2, 3 } };
        var expected = (float[,])model.Predict(x);

        using var fromJson = Model.FromJson(model.ToJson());
        Assert.That(fromJson.Layers.Last(), Is.InstanceOf<LearnedScale>());
        Assert.That(((LearnedScale)fromJson.Layers.Last()).Factor, Is.EqualTo(0.5));

        var path = Path.Combine(directory, "custom.keras");
        model.Save(path);
        using var loaded = Model.Load(path);
        Assert.That((float[,])loaded.Predict(x), Is.EqualTo(expected));
    }

    [Test]
    public void CustomLayer_NotRegistered_LoadFailsNamingTheClass()
    {
        var input = new Input(new[] { 3 });
        using var model = new Model(input, new LearnedScale(2).Call(input));
        var json = model.ToJson();
        LayerRegistry.Unregister("LearnedScale");
        var e = Assert.Catch(() => Model.FromJson(json));
        Assert.That(e!.Message, Does.Contain("LearnedScale"));
    }

    [Test]
    public void CustomLayer_WithoutAName_GetsTheDefaultName()
    {
        Backend.ClearSession();
        Assert.That(new Halving().Name, Is.EqualTo("halving_1"));
        Assert.That(new Halving().Name, Is.EqualTo("halving_2"));
    }

    /// <summary>A custom layer written without a constructor: the base takes a default name, as Keras' Layer does.</summary>
    private sealed class Halving : Layer
    {
        protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input) => new[] { (input.Shape, input.DType) };

        protected override TorchSharp.torch.Tensor Call(TorchSharp.torch.Tensor input, bool training, TorchSharp.torch.Tensor? mask) => input / 2;
    }
}
