using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Saving;

namespace KerasStyle.Tests.Layers.Reshaping;

/// <summary>
/// ZeroPadding2D/3D, Cropping2D/3D and UpSampling2D/3D: argument forms, shape inference with unknown sizes and the
/// refusals of keras/src/layers/reshaping/{zero_padding,cropping,up_sampling}{2,3}d_test.py (issue 24).
/// </summary>
public class Reshaping2DArgumentTests
{
    private static LayerConfig Config(string className, string json)
    {
        var values = JsonNode.Parse(json)!.AsObject();
        values["name"] = "l";
        return new LayerConfig(className, "l", values);
    }

    private static string OutputShape(Layer layer, params int?[] shape) => layer.Call(new Input(shape)).Shape.ToString();

    // zero_padding2d_test.py test_zero_padding_2d: ((1, 2), (3, 4)) on (2, 4, 5, 6).
    [Test]
    public void ZeroPadding2D_PairOfPairs_PadsEachSideAsKerasTest()
    {
        using var model = new Model(new Input((4, 5, 6)) is var x ? x : null!, new ZeroPadding2D(((1, 2), (3, 4))).Call(x));
        var input = new float[2, 4, 5, 6];
        for (var i = 0; i < input.Length; i++)
        {
            input[i / 120, i / 30 % 4, i / 6 % 5, i % 6] = i + 1;
        }

        var output = (float[,,,])model.Predict(input);
        Assert.That(new[] { output.GetLength(1), output.GetLength(2) }, Is.EqualTo(new[] { 7, 12 }));
        for (var b = 0; b < 2; b++)
        {
            for (var c = 0; c < 6; c++)
            {
                Assert.That(output[b, 0, 5, c], Is.Zero);
                Assert.That(output[b, 6, 5, c], Is.Zero);
                Assert.That(output[b, 3, 2, c], Is.Zero);
                Assert.That(output[b, 3, 11, c], Is.Zero);
                Assert.That(output[b, 1, 3, c], Is.EqualTo(input[b, 0, 0, c]));
                Assert.That(output[b, 4, 7, c], Is.EqualTo(input[b, 3, 4, c]));
            }
        }
    }

    // *_with_dynamic_spatial_dim: (None, None, 3) keeps None; known sizes grow.
    [Test]
    public void OutputShape_UnknownAndKnownSizes_AsKeras()
    {
        Assert.That(OutputShape(new ZeroPadding2D(((1, 2), (3, 4))), null, 5, 3), Is.EqualTo("(None, None, 12, 3)"));
        Assert.That(OutputShape(new Cropping2D(((1, 2), (3, 4))), 10, null, 3), Is.EqualTo("(None, 7, None, 3)"));
        Assert.That(OutputShape(new UpSampling2D((2, 3)), null, 5, 3), Is.EqualTo("(None, None, 15, 3)"));
        Assert.That(OutputShape(new ZeroPadding3D(((1, 2), (3, 4), (0, 2))), null, 4, 5, 2), Is.EqualTo("(None, None, 11, 7, 2)"));
        Assert.That(OutputShape(new Cropping3D(((1, 2), (3, 4), (0, 2))), 8, null, 5, 2), Is.EqualTo("(None, 5, None, 3, 2)"));
        Assert.That(OutputShape(new UpSampling3D((1, 2, 3)), 3, null, 5, 2), Is.EqualTo("(None, 3, None, 15, 2)"));
    }

    // cropping2d_test.py test_cropping_2d_errors_if_cropping_more_than_available / error_on_excessive_cropping.
    [TestCase(17, 5)]
    [TestCase(5, 20)]
    public void Cropping2D_MoreThanTheImage_ThrowsNamingLayerShapeAndCropping(int top, int bottom)
    {
        var layer = new Cropping2D(((top, bottom), (0, 0)), name: "crop");
        var error = Assert.Throws<LayerInputException>(() => layer.Call(new Input((20, 20, 3))))!;
        Assert.That(error.Message, Does.Contain("Cropping2D 'crop'").And.Contain("(None, 20, 20, 3)").And.Contain($"(({top}, {bottom}), (0, 0))"));
    }

    [Test]
    public void Cropping3D_MoreThanTheVolume_ThrowsNamingLayerAndShape()
    {
        var layer = new Cropping3D(((1, 1), (1, 1), (10, 10)), name: "crop3");
        var error = Assert.Throws<LayerInputException>(() => layer.Call(new Input(new[] { 4, 4, 20, 1 })))!;
        Assert.That(error.Message, Does.Contain("Cropping3D 'crop3'").And.Contain("(None, 4, 4, 20, 1)"));
    }

    [Test]
    public void Cropping2D_UnknownSizeTooSmallAtPredict_ThrowsNamingLayerAndShape()
    {
        var x = new Input(new int?[] { null, null, 1 });
        using var model = new Model(x, new Cropping2D(2, name: "crop").Call(x));
        Assert.That(((float[,,,])model.Predict(new float[1, 5, 6, 1])).GetLength(2), Is.EqualTo(2));
        var error = Assert.Catch(() => model.Predict(new float[1, 4, 6, 1]))!;
        Assert.That(error.ToString(), Does.Contain("'crop'").And.Contain("(1, 4, 6, 1)"));
    }

    [Test]
    public void Constructors_NegativeSides_ThrowNamingLayerAndValue()
    {
        Assert.That(() => new ZeroPadding2D(((1, 2), (3, -4))), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("ZeroPadding2D").And.Message.Contains("((1, 2), (3, -4))"));
        Assert.That(() => new ZeroPadding2D(-1), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("((-1, -1), (-1, -1))"));
        Assert.That(() => new Cropping2D((1, -2)), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("Cropping2D").And.Message.Contains("((1, 1), (-2, -2))"));
        Assert.That(() => new ZeroPadding3D((1, 2, -3)), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("ZeroPadding3D"));
        Assert.That(() => new Cropping3D(((1, 2), (3, 4), (5, -6))), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("Cropping3D").And.Message.Contains("(5, -6)"));
        Assert.That(() => new UpSampling2D((0, 2)), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("UpSampling2D").And.Message.Contains("(0, 2)"));
        Assert.That(() => new UpSampling3D((1, 2, -1)), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("UpSampling3D").And.Message.Contains("(1, 2, -1)"));
    }

    // up_sampling2d_test.py: bicubic / lanczos exist in Keras but are not implemented here: refused, not ignored.
    [TestCase("bicubic")]
    [TestCase("lanczos3")]
    [TestCase("area")]
    public void UpSampling2D_OtherInterpolation_ThrowsNamingIt(string interpolation)
    {
        Assert.That(() => new UpSampling2D(2, interpolation), Throws.ArgumentException.With.Message.Contains("UpSampling2D").And.Message.Contains($"'{interpolation}'"));
    }

    [Test]
    public void UpSampling2D_InterpolationAnyCase_IsLowercasedAsKeras()
    {
        Assert.That(new UpSampling2D(2, "BiLinear").Interpolation, Is.EqualTo("bilinear"));
    }

    // up_sampling2d_test.py test_upsampling_2d_correctness: size (1, 2) repeats each column.
    [Test]
    public void UpSampling2D_Nearest_RepeatsColumnsAsKerasTest()
    {
        var x = new Input((2, 1, 3));
        using var model = new Model(x, new UpSampling2D((1, 2)).Call(x));
        var input = new float[2, 2, 1, 3];
        for (var i = 0; i < 12; i++)
        {
            input[i / 6, i / 3 % 2, 0, i % 3] = i;
        }

        var output = (float[,,,])model.Predict(input);
        Assert.That(output.Cast<float>(), Is.EqualTo(new float[] { 0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5, 6, 7, 8, 6, 7, 8, 9, 10, 11, 9, 10, 11 }));
    }

    // zero_padding2d_test.py test_zero_padding_2d_errors_if_padding_argument_invalid, cropping2d/3d_test.py
    // *_errors_if_cropping_argument_invalid: the same values in a config.
    [TestCase("ZeroPadding2D", """{"padding": [1]}""")]
    [TestCase("ZeroPadding2D", """{"padding": [1, 2, 3]}""")]
    [TestCase("ZeroPadding2D", """{"padding": "1"}""")]
    [TestCase("ZeroPadding2D", """{"padding": [[1, 2], [3, 4, 5]]}""")]
    [TestCase("ZeroPadding2D", """{"padding": [[1, 2], "3"]}""")]
    [TestCase("Cropping2D", """{"cropping": [1]}""")]
    [TestCase("Cropping2D", """{"cropping": [1, 2, 3]}""")]
    [TestCase("Cropping2D", """{"cropping": [[1, 2], [3, 4, 5]]}""")]
    [TestCase("Cropping3D", """{"cropping": [1, 2]}""")]
    [TestCase("Cropping3D", """{"cropping": [1, 2, 3, 4]}""")]
    [TestCase("Cropping3D", """{"cropping": [[1, 2], [3, 4], [5, 6, 7]]}""")]
    [TestCase("Cropping3D", """{"cropping": [[1, 2], [3, 4], "5"]}""")]
    [TestCase("ZeroPadding3D", """{"padding": [1, 2]}""")]
    [TestCase("UpSampling2D", """{"size": [1, 2, 3]}""")]
    [TestCase("UpSampling3D", """{"size": [1, 2]}""")]
    public void FromConfig_MalformedSides_ThrowsFormatExceptionNamingLayerAndKey(string className, string json)
    {
        var key = JsonNode.Parse(json)!.AsObject().Single().Key;
        Assert.That(() => LayerRegistry.Create(Config(className, json)), Throws.TypeOf<FormatException>().With.Message.Contains("'l'").And.Message.Contains($"'{key}'"));
    }

    [TestCase("ZeroPadding2D", """{"padding": [[1, 2], [3, -4]]}""", "((1, 2), (3, -4))")]
    [TestCase("Cropping2D", """{"cropping": [[1, 2], [3, -4]]}""", "((1, 2), (3, -4))")]
    [TestCase("Cropping3D", """{"cropping": [[1, 2], [3, 4], [5, -6]]}""", "((1, 2), (3, 4), (5, -6))")]
    [TestCase("UpSampling3D", """{"size": 0}""", "(0, 0, 0)")]
    public void FromConfig_OutOfRangeValue_ThrowsFormatExceptionNamingLayerAndValue(string className, string json, string value)
    {
        Assert.That(() => LayerRegistry.Create(Config(className, json)), Throws.TypeOf<FormatException>().With.Message.Contains($"{className} 'l'").And.Message.Contains(value)
            .And.InnerException.TypeOf<ArgumentOutOfRangeException>());
    }

    [TestCase("ZeroPadding2D")]
    [TestCase("ZeroPadding3D")]
    [TestCase("Cropping2D")]
    [TestCase("Cropping3D")]
    [TestCase("UpSampling2D")]
    [TestCase("UpSampling3D")]
    public void FromConfig_ChannelsFirst_IsRefusedNamingIt(string className)
    {
        Assert.That(() => LayerRegistry.Create(Config(className, """{"data_format": "channels_first"}""")), Throws.InstanceOf<Exception>().With.Message.Contains("channels_first"));
    }

    [Test]
    public void FromConfig_MixedIntAndPair_ReadsEachAxisAsKeras()
    {
        var layer = (ZeroPadding2D)LayerRegistry.Create(Config("ZeroPadding2D", """{"padding": [0, [1, 2]]}"""));
        Assert.That(layer.Padding, Is.EqualTo(((0, 0), (1, 2))));
        var crop = (Cropping3D)LayerRegistry.Create(Config("Cropping3D", "{}"));
        Assert.That(crop.Cropping, Is.EqualTo(((1, 1), (1, 1), (1, 1))), "Keras' default");
        var up = (UpSampling2D)LayerRegistry.Create(Config("UpSampling2D", """{"size": 3, "interpolation": "bilinear"}"""));
        Assert.That((up.Size, up.Interpolation), Is.EqualTo(((3, 3), "bilinear")));
    }

    [Test]
    public void Layers_WrongRank_ThrowNamingLayerAndShape()
    {
        Assert.That(() => new ZeroPadding2D(name: "z").Call(new Input((4, 3))), Throws.TypeOf<LayerInputException>().With.Message.Contains("'z'").And.Message.Contains("(None, 4, 3)"));
        Assert.That(() => new UpSampling3D(name: "u").Call(new Input((4, 4, 3))), Throws.TypeOf<LayerInputException>().With.Message.Contains("'u'").And.Message.Contains("rank 5"));
    }
}
