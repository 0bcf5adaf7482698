using System.Text.Json.Nodes;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Saving;

namespace KerasStyle.Tests.Layers;

/// <summary>
/// Sizes that overflowed int shape arithmetic (issue 20, section 3): UpSampling1D's size 1e9 gave a negative length
/// and Predict then asked for 24 GB, ZeroPadding1D / Cropping1D of (2147483647, 2147483647) wrapped, Conv1D's dilation
/// 2147483647 asked for 17 GB, Flatten after a huge shape threw a raw OverflowException. Each is now refused, naming
/// the layer, before anything is allocated.
/// </summary>
public class DerivedShapeTests
{
    [SetUp]
    public void SetUp() => Backend.ClearSession();

    [Test]
    public void UpSampling1D_SizeMakingMoreStepsThanAnIntHolds_IsRefusedNamingTheLength()
    {
        var error = Assert.Throws<LayerInputException>(() => new UpSampling1D(1_000_000_000, name: "up").Call(new Input(new[] { 10, 8 })));
        Assert.That(error!.Message, Does.Contain("UpSampling1D 'up'").And.Contain("would be 10,000,000,000"));
    }

    [Test]
    public void UpSampling1D_OutputLargerThanAnArrayPerSample_IsRefused()
    {
        // 2e9 steps fit an int, but 2e9 × 8 values per sample fit no array.
        var error = Assert.Throws<LayerInputException>(() => new UpSampling1D(200_000_000, name: "up").Call(new Input(new[] { 10, 8 })));
        Assert.That(error!.Message, Does.Contain("the output (None, 2000000000, 8)").And.Contain("16,000,000,000 values per sample"));
    }

    [Test]
    public void ZeroPadding1D_PaddingsAddingPastAnInt_AreRefused()
    {
        var error = Assert.Throws<LayerInputException>(() => new ZeroPadding1D((int.MaxValue, int.MaxValue), name: "pad").Call(new Input(new[] { 10, 4 })));
        Assert.That(error!.Message, Does.Contain("ZeroPadding1D 'pad'").And.Contain("would be 4,294,967,304"));
    }

    [Test]
    public void Cropping1D_CroppingsThatWrappedToAPositiveLength_LeaveNoSteps()
    {
        var error = Assert.Throws<LayerInputException>(() => new Cropping1D((int.MaxValue, int.MaxValue), name: "crop").Call(new Input(new[] { 10, 4 })));
        Assert.That(error!.Message, Does.Contain("Cropping1D 'crop'").And.Contain("leaves no steps").And.Contain("more than 4294967294 steps"));
    }

    [Test]
    public void Conv1D_DilationSpanningMoreThanAnInt_IsRefusedWhenBuilt()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new Conv1D(4, 3, dilationRate: int.MaxValue));
        Assert.That(error!.Message, Does.Contain("kernel_size 3 with dilation_rate 2147483647 spans 4,294,967,295 steps"));
    }

    [Test]
    public void Conv1D_CausalPaddingOfBillionsOfSteps_IsRefusedBeforeAllocating()
    {
        var error = Assert.Throws<LayerInputException>(() => new Conv1D(4, 3, padding: "causal", dilationRate: 500_000_000, name: "conv").Call(new Input(new[] { 10, 4 })));
        Assert.That(error!.Message, Does.Contain("Conv1D 'conv'").And.Contain("the padded input (None, 1000000010, 4)"));
    }

    [Test]
    public void RepeatVector_OutputLargerThanAnArrayPerSample_IsRefused()
    {
        var error = Assert.Throws<LayerInputException>(() => new RepeatVector(1_000_000_000, name: "repeat").Call(new Input(new[] { 8 })));
        Assert.That(error!.Message, Does.Contain("RepeatVector 'repeat'").And.Contain("8,000,000,000 values per sample"));
    }

    [Test]
    public void Flatten_OfMoreValuesThanAnInt_IsALayerInputExceptionNotAnOverflow()
    {
        var error = Assert.Throws<LayerInputException>(() => new Flatten(name: "flat").Call(new Input(new[] { 50_000, 50_000 })));
        Assert.That(error!.Message, Does.Contain("Flatten 'flat'").And.Contain("the flattened size").And.Contain("2,500,000,000"));
    }

    [Test]
    public void Concatenate_AxisSummingPastAnInt_IsRefused()
    {
        var a = new Input(new[] { 2_000_000_000 });
        var b = new Input(new[] { 2_000_000_000 });
        var error = Assert.Throws<LayerInputException>(() => new Concatenate(name: "cat").Call(a, b));
        Assert.That(error!.Message, Does.Contain("Concatenate 'cat'").And.Contain("4,000,000,000"));
    }

    [Test]
    public void Reshape_TargetWhoseProductWrapsPastLong_IsRefused()
    {
        var error = Assert.Throws<LayerInputException>(() => new Reshape(new[] { int.MaxValue, int.MaxValue, int.MaxValue, 4 }, name: "reshape").Call(new Input(new[] { 16 })));
        Assert.That(error!.Message, Does.Contain("Reshape 'reshape'").And.Contain("cannot reshape"));
    }

    [Test]
    public void FromJson_UpSampling1DSizeOfABillion_IsAConfigErrorNamingTheLayer()
    {
        var input = new Input(new[] { 10, 8 });
        using var model = new Model(input, new UpSampling1D(2, name: "up").Call(input));
        var json = JsonNode.Parse(model.ToJson())!;
        json["config"]!["layers"]!.AsArray().Single(l => l!["config"]!["name"]!.GetValue<string>() == "up")!["config"]!["size"] = 1_000_000_000;

        var error = Assert.Throws<LayerInputException>(() => Model.FromJson(json.ToJsonString()));
        Assert.That(error!.Message, Does.Contain("UpSampling1D 'up'").And.Contain("10,000,000,000"));
    }
}
