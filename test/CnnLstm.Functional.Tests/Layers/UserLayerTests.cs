using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Saving;
using KerasStyle.Saving.Onnx;
using KerasStyle.Tests.Saving.Onnx;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Layers;

/// <summary>
/// A layer is its own file and nothing else (issue 21): <see cref="LearnedScale"/> exists only in a test file, and once
/// registered by its type it is summarised, saved and loaded in every model format, and exported to ONNX, as the
/// library's own layers are.
/// </summary>
public class UserLayerTests
{
    private string directory = null!;

    [SetUp]
    public void Setup()
    {
        Backend.ClearSession();
        Utils.SetRandomSeed(5);
        directory = Directory.CreateTempSubdirectory("ks-user-layer-").FullName;
        LayerRegistry.Register<LearnedScale>();
    }

    [TearDown]
    public void TearDown()
    {
        LayerRegistry.Unregister("LearnedScale");
        Directory.Delete(directory, recursive: true);
    }

    private static Model ScaledModel()
    {
        var input = new Input(new[] { 3 });
        var scaled = new LearnedScale(0.5, name: "scale").Call(new Dense(4, activation: "tanh").Call(input));
        return new Model(input, new Dense(2).Call(scaled));
    }

    private static readonly float[,] X = { { 1, -2, 3 }, { 0.5f, 0.25f, -1 } };

    [Test]
    public void UserLayer_RegisteredByType_IsSummarisedWithItsRowAndParameters()
    {
        using var model = ScaledModel();
        var scale = model.Layers.OfType<LearnedScale>().Single();
        Assert.That(scale.ClassName, Is.EqualTo("LearnedScale"));
        Assert.That(LayerRegistry.IsRegistered("LearnedScale"), Is.True);
        Assert.That(LayerRegistry.ClassNames, Does.Contain("LearnedScale"));
        var row = model.SummaryText().Split('\n').Single(l => l.StartsWith("scale ", StringComparison.Ordinal)).Trim();
        Assert.That(row, Does.StartWith("scale (LearnedScale)").And.Contain("(None, 4)").And.EndsWith(" 4"));
    }

    [TestCase("m.keras", H5Format.Keras3)]
    [TestCase("m.h5", H5Format.Keras3)]
    [TestCase("m.h5", H5Format.TfKeras2)]
    public void UserLayer_RegisteredByType_SavesAndLoadsWithEqualPredictions(string file, H5Format format)
    {
        using var model = ScaledModel();
        var scale = model.Layers.OfType<LearnedScale>().Single();
        scale.SetWeights(new[] { new WeightArray(new[] { 4 }, new[] { 1f, -2f, 0.5f, 3f }) });
        var expected = (float[,])model.Predict(X);
        var path = Path.Combine(directory, file);
        model.Save(path, format);

        using var loaded = Model.Load(path);
        var read = loaded.Layers.OfType<LearnedScale>().Single();
        Assert.That(read.Factor, Is.EqualTo(0.5));
        Assert.That(read.GetWeights()[0].Data, Is.EqualTo(new[] { 1f, -2f, 0.5f, 3f }));
        Assert.That((float[,])loaded.Predict(X), Is.EqualTo(expected));
    }

    [Test]
    public void UserLayer_WithItsOnnxForm_ExportsAndOnnxRuntimeMatchesPredict()
    {
        using var model = ScaledModel();
        model.Layers.OfType<LearnedScale>().Single().SetWeights(new[] { new WeightArray(new[] { 4 }, new[] { 1f, -2f, 0.5f, 3f }) });
        OnnxCheck.AssertMatchesPredict(model, new Array[] { X });
    }

    [Test]
    public void Register_ClassWithoutKerasLayerAttribute_ThrowsNamingTheAttribute()
    {
        var error = Assert.Throws<ArgumentException>(LayerRegistry.Register<Unnamed>);
        Assert.That(error!.Message, Does.Contain("Unnamed").And.Contain("[KerasLayer("));
        Assert.That(LayerRegistry.IsRegistered("Unnamed"), Is.False);
    }

    [Test]
    public void Register_ClassWithoutStaticFromConfig_ThrowsNamingFromConfig()
    {
        var error = Assert.Throws<ArgumentException>(LayerRegistry.Register<NoFactory>);
        Assert.That(error!.Message, Does.Contain("NoFactory").And.Contain("FromConfig(LayerConfig)"));
        Assert.That(LayerRegistry.IsRegistered("NoFactory"), Is.False);
    }

    [Test]
    public void Register_TwiceOrOverABuiltInClass_Throws()
    {
        Assert.That(LayerRegistry.Register<LearnedScale>, Throws.ArgumentException.With.Message.Contains("already registered"));
        Assert.That(LayerRegistry.Register<Dense>, Throws.ArgumentException.With.Message.Contains("built-in"));
    }

    [Test]
    public void ClassName_ComesFromTheKerasLayerAttribute()
    {
        Assert.That(new NoFactory().ClassName, Is.EqualTo("NoFactory"));
        Assert.That(new Unnamed().ClassName, Is.EqualTo(nameof(Unnamed)));
        Assert.That(new Renamed().ClassName, Is.EqualTo("KerasName"));
    }

    [Test]
    public void AddWeight_InitializerOfAnotherShape_ThrowsNamingTheWeight_AndLeavesTheLayerUnbuilt()
    {
        var layer = new Renamed();
        var error = Assert.Throws<InvalidOperationException>(() => layer.Call(new Input(new[] { 3 })));
        Assert.That(error!.Message, Does.Contain("'w'").And.Contain("(2)").And.Contain("(3)"));
        Assert.That(layer.Built, Is.False);
        Assert.That(layer.Weights, Is.Empty);
    }

    /// <summary>No attribute: its Keras class name is its C# name, and it cannot be registered by type.</summary>
    private sealed class Unnamed : Layer
    {
        private static Unnamed FromConfig(LayerConfig config) => new();

        protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input) => new[] { (input.Shape, input.DType) };

        protected override Tensor Call(Tensor input, bool training, Tensor? mask) => input.alias();
    }

    /// <summary>An attribute but no FromConfig.</summary>
    [KerasLayer("NoFactory")]
    private sealed class NoFactory : Layer
    {
        protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input) => new[] { (input.Shape, input.DType) };

        protected override Tensor Call(Tensor input, bool training, Tensor? mask) => input.alias();
    }

    /// <summary>A Keras class name other than the C# one, and a weight whose initializer disagrees with its declared shape.</summary>
    [KerasLayer("KerasName")]
    private sealed class Renamed : Layer
    {
        protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input) => new[] { (input.Shape, input.DType) };

        protected override void Build(KerasTensor input) => AddWeight("w", new long[] { input.Shape.Last!.Value }, () => zeros(2));

        protected override Tensor Call(Tensor input, bool training, Tensor? mask) => input.alias();
    }
}
