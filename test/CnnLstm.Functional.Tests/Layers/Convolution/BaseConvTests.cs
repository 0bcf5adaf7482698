using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Layers.Convolution;

public class BaseConvTests
{
    [SetUp]
    public void FreshNames() => Backend.ClearSession();

    public static IEnumerable<TestCaseData> Convolutions()
    {
        yield return new TestCaseData(new Func<Layer>(() => new Conv1D(4, 3)), new[] { 9, 2 }, new[] { 9, 5 }).SetName("Conv1D");
        yield return new TestCaseData(new Func<Layer>(() => new Conv2D(4, 3)), new[] { 6, 6, 2 }, new[] { 6, 6, 5 }).SetName("Conv2D");
        yield return new TestCaseData(new Func<Layer>(() => new SeparableConv1D(4, 3)), new[] { 9, 2 }, new[] { 9, 5 }).SetName("SeparableConv1D");
    }

    [TestCaseSource(nameof(Convolutions))]
    public void CallOnOtherChannelsAfterBuild_ThrowsNamingBothChannelCounts(Func<Layer> create, int[] built, int[] other)
    {
        var layer = create();
        layer.Call(new Input(built));
        var error = Assert.Throws<LayerInputException>(() => layer.Call(new Input(other)))!;
        Assert.That(error.Message, Does.StartWith($"{layer.ClassName} '{layer.Name}'").And.Contain("built for 2 channels").And.Contain("5 channels"));
    }

    [Test]
    public void EveryConvolution_RefusesAZeroSizeTheSameWay()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Conv1D(4, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Conv2D(4, (3, 0), (1, 1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new SeparableConv1D(4, 3, strides: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new SeparableConv1D(4, 3, depthMultiplier: 0));
        Assert.Throws<ArgumentException>(() => _ = new Conv2D(4, 3, padding: "causal"));
        Assert.Throws<ArgumentException>(() => _ = new SeparableConv1D(4, 3, padding: "causal"));
        Assert.That(new Conv1D(4, 3, padding: "causal").Padding, Is.EqualTo("causal"));
    }

    [Test]
    public void KernelTooLongForTheInput_IsRefusedOnEveryAxisWithTheOutputSize()
    {
        var error = Assert.Throws<LayerInputException>(() => new Conv2D(2, (2, 5), (1, 1)).Call(new Input(new[] { 6, 4, 1 })))!;
        Assert.That(error.Message, Does.Contain("(2, 5)").And.Contain("(5, 0)"));
    }

    [Test]
    public void Conv2DConfig_ReadsANumberAsTheSizeOnBothAxes()
    {
        var conv = Conv2D.FromConfig(Config("Conv2D", """{"filters": 3, "kernel_size": 2, "strides": 1}"""));
        Assert.That(conv.KernelSize, Is.EqualTo((2, 2)));
        Assert.That(conv.Strides, Is.EqualTo((1, 1)));
        Assert.That(conv.DilationRate, Is.EqualTo((1, 1)));
    }

    [Test]
    public void ConfigWithoutKernelSize_IsRefusedForEveryRank()
    {
        Assert.Throws<FormatException>(() => Conv1D.FromConfig(Config("Conv1D", """{"filters": 3}""")));
        Assert.Throws<FormatException>(() => Conv2D.FromConfig(Config("Conv2D", """{"filters": 3}""")));
    }

    [Test]
    public void Configs_HaveKerasKeysInKerasOrder()
    {
        var window = new[] { "filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate" };
        var conv = new[] { "groups", "activation", "use_bias", "kernel_initializer", "bias_initializer", "kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint", "bias_constraint" };
        var separable = new[] { "activation", "use_bias", "depthwise_initializer", "pointwise_initializer", "bias_initializer", "depthwise_regularizer", "pointwise_regularizer", "bias_regularizer", "activity_regularizer", "depthwise_constraint", "pointwise_constraint", "bias_constraint" };
        Assert.That(OwnKeys(new Conv1D(2, 3)), Is.EqualTo(window.Concat(conv)));
        Assert.That(OwnKeys(new Conv2D(2, 3)), Is.EqualTo(window.Concat(conv)));
        Assert.That(OwnKeys(new SeparableConv1D(2, 3)), Is.EqualTo(new[] { "depth_multiplier" }.Concat(window).Concat(separable)));
        Assert.That(new Conv2D(2, (3, 1), (2, 1)).GetConfig()["strides"]!.ToJsonString(), Is.EqualTo("[2,1]"));
    }

    [Test]
    public void ARank3Subclass_GetsShapesWeightsAndConfigFromTheBase()
    {
        var conv = new TestConv3D(5, 2);
        var input = new Input(new[] { 4, 5, 6, 3 });
        var output = conv.Call(input);
        Assert.That(output.Shape, Is.EqualTo(new Shape(null, 3, 4, 5, 5)));
        Assert.That(conv.Weights.Select(w => w.Shape), Is.EqualTo(new[] { new[] { 2, 2, 2, 3, 5 }, new[] { 5 } }));
        Assert.That(conv.GetConfig()["kernel_size"]!.ToJsonString(), Is.EqualTo("[2,2,2]"));

        using var model = new Model(input, output);
        var y = (float[,,,,])model.Predict(new float[2, 4, 5, 6, 3]);
        Assert.That(y.GetLength(4), Is.EqualTo(5));
    }

    private static IEnumerable<string> OwnKeys(Layer layer) =>
        layer.GetConfig().Select(p => p.Key).Except(new[] { "name", "trainable", "dtype" });

    private static LayerConfig Config(string className, string json) => new(className, "c", JsonNode.Parse(json)!.AsObject());

    /// <summary>A 3-D convolution in a few lines: everything but the computation comes from <see cref="BaseConv"/>.</summary>
    private sealed class TestConv3D(int filters, int kernelSize)
        : BaseConv(3, filters, new[] { kernelSize, kernelSize, kernelSize }, new[] { 1, 1, 1 }, "valid", new[] { 1, 1, 1 }, null, true, null, allowCausal: false)
    {
        protected override Tensor Call(Tensor input, bool training, Tensor? mask)
        {
            using var x = input.permute(0, 4, 1, 2, 3);
            using var y = nn.functional.conv3d(x, Kernel!.Variable.permute(4, 3, 0, 1, 2), Bias!.Variable);
            return Activations.Apply(Activation, y.permute(0, 2, 3, 4, 1));
        }
    }
}
