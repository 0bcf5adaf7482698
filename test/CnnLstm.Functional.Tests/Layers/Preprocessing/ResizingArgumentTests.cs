using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;

namespace KerasStyle.Tests.Layers.Preprocessing;

/// <summary>Resizing's and CenterCrop's argument, config and input checks (Keras 3.16's resizing_test.py and center_crop_test.py cases that apply).</summary>
public class ResizingArgumentTests
{
    [TestCase("lanczos3")]
    [TestCase("lanczos5")]
    [TestCase("area")]
    [TestCase("gaussian")]
    public void Constructor_InterpolationKerasTorchDoesNotRun_RefusedNamingLayerAndValue(string interpolation)
    {
        Assert.That(() => new Resizing(3, 4, interpolation), Throws.ArgumentException.With.Message.Contains("Resizing").And.Message.Contains($"'{interpolation}'"));
    }

    [Test]
    public void Constructor_BothAspectRatioOptions_RefusedAsKeras()
    {
        Assert.That(() => new Resizing(3, 4, cropToAspectRatio: true, padToAspectRatio: true), Throws.ArgumentException.With.Message.Contains("only one of crop_to_aspect_ratio and pad_to_aspect_ratio"));
    }

    [Test]
    public void Constructor_FillModeOtherThanConstant_Refused()
    {
        Assert.That(() => new Resizing(3, 4, padToAspectRatio: true, fillMode: "reflect"), Throws.ArgumentException.With.Message.Contains("fill_mode 'reflect'"));
    }

    [TestCase(0, 4)]
    [TestCase(3, -1)]
    public void Constructor_SizeBelowOne_Refused(int height, int width)
    {
        Assert.That(() => new Resizing(height, width), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("Resizing"));
        Assert.That(() => new CenterCrop(height, width), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("CenterCrop"));
    }

    [Test]
    public void Call_UnbatchedOrIntegerImages_RefusedNamingLayerAndShape()
    {
        Assert.That(() => new Resizing(3, 4, name: "rs").Call(new Input((7, 3))), Throws.TypeOf<LayerInputException>().With.Message.Contains("Resizing 'rs'").And.Message.Contains("(None, 7, 3)"));
        Assert.That(() => new CenterCrop(3, 4, name: "cc").Call(new Input(new[] { 5, 7, 3 }, DType.Int64)), Throws.TypeOf<LayerInputException>().With.Message.Contains("CenterCrop 'cc'").And.Message.Contains("int64"));
    }

    [Test]
    public void Predict_UnknownSizesGivenAnEmptyImage_RefusedNamingLayer()
    {
        var x = new Input(new int?[] { null, null, 3 });
        using var model = new Model(new[] { x }, new[] { new Resizing(3, 4, name: "rs").Call(x) });
        Assert.That(() => model.Predict(new[] { (Array)new float[1, 0, 4, 3] }), Throws.TypeOf<LayerInputException>().With.Message.Contains("Resizing 'rs'"));
    }

    [Test]
    public void CenterCrop_OddDifference_StartsAtTheFloorOfHalf()
    {
        // Keras' center_crop_test: a 3x4 window of a 6x5 image starts at row 1 and column 0 (⌊3/2⌋, ⌊1/2⌋).
        var image = new float[1, 6, 5, 1];
        for (var r = 0; r < 6; r++)
        {
            for (var c = 0; c < 5; c++)
            {
                image[0, r, c, 0] = (10 * r) + c;
            }
        }

        using var layer = new CenterCrop(3, 4);
        var cropped = (float[,,,])layer.Invoke(image);
        Assert.That(cropped[0, 0, 0, 0], Is.EqualTo(10f));
        Assert.That(cropped[0, 2, 3, 0], Is.EqualTo(33f));
    }

    [Test]
    public void FromConfig_ChannelsFirst_RefusedNamingTheLayer()
    {
        foreach (var (cls, extra) in new[] { ("Resizing", ""), ("CenterCrop", "") })
        {
            var json = "{\"class_name\":\"Sequential\",\"config\":{\"name\":\"s\",\"layers\":[{\"class_name\":\"InputLayer\",\"config\":{\"batch_shape\":[null,5,7,3],\"dtype\":\"float32\",\"name\":\"x\"}},"
                + $"{{\"class_name\":\"{cls}\",\"config\":{{\"name\":\"r\",\"height\":3,\"width\":4,\"data_format\":\"channels_first\"{extra}}}}}]}}}}";
            Assert.That(() => Model.FromJson(json), Throws.Exception.With.Message.Contains($"{cls} 'r'").And.Message.Contains("channels_first"), cls);
        }
    }

    [Test]
    public void FromConfig_TfKeras2Bicubic_RefusedAsTensorFlowComputesItOtherwise()
    {
        var json = "{\"class_name\":\"Sequential\",\"keras_version\":\"2.11.0\",\"backend\":\"tensorflow\",\"config\":{\"name\":\"s\",\"layers\":[{\"class_name\":\"InputLayer\",\"config\":{\"batch_input_shape\":[null,5,7,3],\"dtype\":\"float32\",\"name\":\"x\"}},"
            + "{\"class_name\":\"Resizing\",\"config\":{\"name\":\"r\",\"trainable\":true,\"dtype\":\"float32\",\"height\":3,\"width\":4,\"interpolation\":\"bicubic\",\"crop_to_aspect_ratio\":false}}]}}";
        Assert.That(() => Model.FromJson(json), Throws.Exception.With.Message.Contains("Resizing 'r'").And.Message.Contains("bicubic"));
        using var bilinear = Model.FromJson(json.Replace("bicubic", "bilinear"));
        Assert.That(((Resizing)bilinear.Layers[^1]).Interpolation, Is.EqualTo("bilinear"));
    }

    [Test]
    public void GetConfig_FromConfig_RoundTripsEveryArgument()
    {
        var x = new Input((5, 7, 3));
        using var model = new Model(new[] { x }, new[] { new Resizing(4, 6, "nearest", padToAspectRatio: true, fillValue: -2.5, antialias: true, name: "r").Call(x) });
        using var back = Model.FromJson(model.ToJson());
        var r = (Resizing)back.Layers[^1];
        Assert.That((r.Height, r.Width, r.Interpolation, r.CropToAspectRatio, r.PadToAspectRatio, r.FillMode, r.FillValue, r.Antialias), Is.EqualTo((4, 6, "nearest", false, true, "constant", -2.5, true)));
        Assert.That(JsonNode.DeepEquals(r.GetConfig(), model.Layers[^1].GetConfig()), Is.True);
    }
}
