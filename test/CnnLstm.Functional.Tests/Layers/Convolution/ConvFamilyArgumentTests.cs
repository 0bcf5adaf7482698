using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;

namespace KerasStyle.Tests.Layers.Convolution;

/// <summary>
/// The convolution family's (issue 24) arguments as Keras checks them (keras/src/layers/convolutional/*_test.py's
/// error cases), channels_first refused naming the layer, the library's files loaded by Keras 3.16
/// (tools/keras-fixtures/conv_family.py --check), the kernel checks' fallbacks and the summaries.
/// </summary>
public class ConvFamilyArgumentTests
{
    private static readonly string Folder = Path.Combine(TestContext.CurrentContext.TestDirectory, "Layers", "KerasFixtures", "convs");

    private readonly List<string> warnings = new();

    private static IEnumerable<string> CaseNames() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(Path.GetDirectoryName(typeof(ConvFamilyArgumentTests).Assembly.Location)!, "Layers", "KerasFixtures", "convs", "cases.json")))!["cases"]!.AsObject().Select(kv => kv.Key);

    [SetUp]
    public void SetUp() => Warnings.Raised += Record;

    [TearDown]
    public void TearDown()
    {
        Warnings.Raised -= Record;
        KernelChecks.ClearDistrust();
    }

    [Test]
    public void Groups_NotDividingFilters_OrNotPositive_AreRefusedAsKerasRefusesThem()
    {
        Assert.That(() => new Conv2D(5, (3, 3), (1, 1), groups: 2), Throws.ArgumentException.With.Message.Contains("filters (5)").And.Message.Contains("groups (2)"));
        Assert.That(() => new Conv1D(4, 3, groups: 0), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("groups"));
        Assert.That(() => new Conv3D(6, (2, 2, 2), groups: 4), Throws.ArgumentException.With.Message.Contains("Conv3D"));
    }

    [Test]
    public void Groups_NotDividingInputChannels_IsRefusedWhenCalled_NamingLayerAndShape()
    {
        var error = Assert.Throws<LayerInputException>(() => new Conv2D(4, (2, 2), (1, 1), groups: 2).Call(new Input(new[] { 5, 5, 3 })))!;
        Assert.That(error.Message, Does.Contain("Conv2D").And.Contain("input channels (3)").And.Contain("groups (2)").And.Contain("(None, 5, 5, 3)"));
    }

    [Test]
    public void OutputPadding_NotBelowItsStride_IsRefusedNamingTheAxis()
    {
        Assert.That(() => new Conv2DTranspose(3, (3, 3), (2, 1), outputPadding: (1, 1)), Throws.ArgumentException.With.Message.Contains("axis 1").And.Message.Contains("Conv2DTranspose"));
        Assert.That(() => new Conv1DTranspose(3, 3, strides: 2, outputPadding: 2), Throws.ArgumentException);
        Assert.That(() => new Conv3DTranspose(3, (2, 2, 2), (2, 2, 2), outputPadding: (1, -1, 0)), Throws.TypeOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public void StridesAndDilationBothAboveOne_AreRefusedAsKerasRefusesThem()
    {
        Assert.That(() => new Conv3D(2, (2, 2, 2), (2, 1, 1), dilationRate: (1, 2, 1)), Throws.ArgumentException.With.Message.Contains("Conv3D"));
        Assert.That(() => new Conv2DTranspose(2, (2, 2), (2, 2), dilationRate: (2, 2)), Throws.ArgumentException.With.Message.Contains("Conv2DTranspose"));
    }

    [Test]
    public void TransposedPaddingCausal_AndDepthMultiplierZero_AreRefused()
    {
        Assert.That(() => new Conv1DTranspose(2, 3, padding: "causal"), Throws.ArgumentException);
        Assert.That(() => new DepthwiseConv2D(3, depthMultiplier: 0), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("depthMultiplier"));
    }

    [TestCase("conv2d_transpose_same", "Conv2DTranspose")]
    [TestCase("depthwise_conv1d", "DepthwiseConv1D")]
    [TestCase("separable_conv2d", "SeparableConv2D")]
    [TestCase("conv3d_groups", "Conv3D")]
    public void FromJson_ChannelsFirst_IsRefusedNamingTheLayer(string name, string className)
    {
        var json = File.ReadAllText(Path.Combine(Folder, "library", name + ".json")).Replace("\"channels_last\"", "\"channels_first\"", StringComparison.Ordinal);
        Assert.That(() => Model.FromJson(json), Throws.TypeOf<NotSupportedException>().With.Message.Contains(className).And.Message.Contains("data_format"));
    }

    [TestCaseSource(nameof(CaseNames))]
    public void LibraryFiles_Keras316LoadedEveryForm_AndTheLibraryStillWritesThem(string name)
    {
        // tools/keras-fixtures/conv_family.py --check: Keras 3.16 loaded the .keras, full-model .h5 and tf.keras 2 .h5
        // the library wrote of each fixture and predicted within 1e-5 of the library.
        var checks = JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "library", "report.json")))!["checks"]!.AsArray()
            .Where(c => c!["model"]!.GetValue<string>() == name).ToList();
        Assert.That(checks, Has.Count.EqualTo(3));
        foreach (var check in checks)
        {
            Assert.That(check!["loaded"]!.GetValue<bool>(), Is.True, check.ToJsonString());
            Assert.That(check["max_difference"]!.GetValue<double>(), Is.LessThanOrEqualTo(1e-5), check.ToJsonString());
        }

        using var model = Model.Load(Path.Combine(Folder, name + ".keras"));
        Assert.That(JsonNode.DeepEquals(JsonNode.Parse(model.ToJson()), JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "library", $"{name}.json")))), Is.True,
            "rerun tools/keras-fixtures/conv_family.py --check with real Keras and commit its output");
    }

    [TestCase("conv1d_transpose_same")]
    [TestCase("conv2d_transpose_same")]
    [TestCase("conv3d_transpose_same")]
    [TestCase("depthwise_conv1d")]
    [TestCase("depthwise_conv2d")]
    [TestCase("separable_conv2d")]
    public void TfKeras2Form_WithItsGroups1_LoadsAndPredictsAsKeras_OtherGroupsAreRefused(string name)
    {
        // tf.keras 2.11 writes its Conv base's groups (1) into these layers; the library's tf.keras 2 form has it too.
        var fixture = JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "cases.json")))!["cases"]![name]!;
        using var model = Model.Load(Path.Combine(Folder, "library", name + "-tfkeras2.h5"));
        var predicted = model.Predict(new[] { KerasStyle.Tests.Saving.FixtureJson.ToArray(fixture["x"]!.AsArray()) })[0].Cast<float>().Select(v => (double)v);
        Assert.That(predicted, Is.EqualTo(KerasStyle.Tests.Saving.FixtureJson.Flatten(fixture["y"]!)).Within(1e-5));

        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "library", name + ".json")))!;
        json["config"]!["layers"]![1]!["config"]!["groups"] = 2;
        Assert.That(() => Model.FromJson(json.ToJsonString()), Throws.TypeOf<NotSupportedException>().With.Message.Contains("'groups' = 2"));
    }

    [Test]
    public void Predict_WithTheConvolutionKernelsDistrusted_WarnsOnceNamingEach()
    {
        KernelChecks.Distrust(ConvKernels.ConvInference);
        KernelChecks.Distrust(ConvKernels.TransposeInference);
        using var grouped = Model.Load(Path.Combine(Folder, "conv3d_groups.keras"));
        using var transposed = Model.Load(Path.Combine(Folder, "conv1d_transpose_same.keras"));
        grouped.Predict(new float[2, 3, 4, 3, 3]);
        transposed.Predict(new float[2, 6, 4]);
        transposed.Predict(new float[2, 6, 4]);
        Assert.That(warnings, Has.One.Contains(ConvKernels.ConvInference).And.One.Contains(ConvKernels.TransposeInference));
    }

    [Test]
    public void Summary_ShowsKerasShapesAndParameterCounts()
    {
        var x = new Input(new[] { 5, 5, 4 }, name: "x");
        var h = new DepthwiseConv2D(2, depthMultiplier: 2, name: "dw").Call(x);
        h = new SeparableConv2D(3, 2, name: "sep").Call(h);
        h = new Conv2DTranspose(2, 3, strides: 2, padding: "same", name: "up").Call(h);
        h = new Conv2D(4, (2, 2), (1, 1), groups: 2, name: "grouped").Call(h);
        using var model = new Model(x, h);
        var text = model.SummaryText();
        // Keras: dw (None, 4, 4, 8) 40; sep (None, 3, 3, 3) 32 + 24 + 3 = 59; up (None, 6, 6, 2) 56; grouped (None, 5, 5, 4) 20.
        Assert.That(text, Does.Contain("(None, 4, 4, 8)").And.Contain("(None, 3, 3, 3)").And.Contain("(None, 6, 6, 2)").And.Contain("(None, 5, 5, 4)"));
        Assert.That(text, Does.Contain("Total params: 175"));
    }

    private void Record(object? sender, string message) => warnings.Add(message);
}
