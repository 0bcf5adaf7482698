using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Saving;

namespace KerasStyle.Tests.Layers.Pooling;

/// <summary>
/// MaxPooling3D, AveragePooling3D, GlobalMaxPooling3D, GlobalAveragePooling3D: shapes and refusals (ported from
/// keras/src/layers/pooling/*_test.py); their values against Keras 3.16 are in Reshaping2DFixtureTests (issue 24).
/// </summary>
public class Pooling3DTests
{
    private static LayerConfig Config(string className, string json)
    {
        var values = JsonNode.Parse(json)!.AsObject();
        values["name"] = "p";
        return new LayerConfig(className, "p", values);
    }

    // max_pooling_test.py / average_pooling_test.py test_max_pooling3d / test_average_pooling3d (channels_last).
    [TestCase(2, 1, "valid", new[] { 3, 4, 4, 2 }, "(None, 2, 3, 3, 2)")]
    [TestCase(2, 1, "same", new[] { 3, 4, 4, 2 }, "(None, 3, 4, 4, 2)")]
    [TestCase(2, 2, "valid", new[] { 5, 4, 4, 2 }, "(None, 2, 2, 2, 2)")]
    [TestCase(2, 2, "same", new[] { 5, 4, 4, 2 }, "(None, 3, 2, 2, 2)")]
    public void OutputShape_PoolSizeStridesPadding_AsKerasTests(int pool, int strides, string padding, int[] input, string expected)
    {
        Assert.That(new MaxPooling3D(pool, strides, padding).Call(new Input(input)).Shape.ToString(), Is.EqualTo(expected));
        Assert.That(new AveragePooling3D(pool, strides, padding).Call(new Input(input)).Shape.ToString(), Is.EqualTo(expected));
    }

    [Test]
    public void OutputShape_UnknownSizes_StayUnknown()
    {
        Assert.That(new MaxPooling3D().Call(new Input(new int?[] { null, 4, null, 2 })).Shape.ToString(), Is.EqualTo("(None, None, 2, None, 2)"));
        Assert.That(new GlobalAveragePooling3D(keepdims: true).Call(new Input(new int?[] { null, 4, null, 2 })).Shape.ToString(), Is.EqualTo("(None, 1, 1, 1, 2)"));
        Assert.That(new GlobalMaxPooling3D().Call(new Input(new int?[] { null, 4, null, 2 })).Shape.ToString(), Is.EqualTo("(None, 2)"));
    }

    [Test]
    public void Arguments_Invalid_ThrowNamingLayerAndValue()
    {
        Assert.That(() => new MaxPooling3D((2, 0, 2)), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("MaxPooling3D").And.Message.Contains("(2, 0, 2)"));
        Assert.That(() => new AveragePooling3D(2, padding: "causal"), Throws.ArgumentException.With.Message.Contains("AveragePooling3D").And.Message.Contains("causal"));
        Assert.That(() => new MaxPooling3D(3, name: "m").Call(new Input(new[] { 2, 4, 4, 1 })), Throws.TypeOf<LayerInputException>().With.Message.Contains("'m'").And.Message.Contains("(None, 2, 4, 4, 1)"));
        Assert.That(() => new GlobalMaxPooling3D(name: "g").Call(new Input((4, 4, 1))), Throws.TypeOf<LayerInputException>().With.Message.Contains("'g'").And.Message.Contains("rank 5"));
    }

    [Test]
    public void FromConfig_KerasForms_ReadAndRefused()
    {
        var max = (MaxPooling3D)LayerRegistry.Create(Config("MaxPooling3D", """{"pool_size": 3, "strides": [1, 2, 3], "padding": "same"}"""));
        Assert.That((max.PoolSize, max.Strides, max.Padding), Is.EqualTo(((3, 3, 3), (1, 2, 3), "same")));
        Assert.That(((MaxPooling3D)LayerRegistry.Create(Config("MaxPooling3D", "{}"))).PoolSize, Is.EqualTo((2, 2, 2)), "Keras' default");
        Assert.That(() => LayerRegistry.Create(Config("AveragePooling3D", "{}")), Throws.TypeOf<FormatException>().With.Message.Contains("pool_size"), "required in Keras 3.16");
        Assert.That(() => LayerRegistry.Create(Config("MaxPooling3D", """{"pool_size": [2, 2]}""")), Throws.TypeOf<FormatException>().With.Message.Contains("pool_size"));
        Assert.That(() => LayerRegistry.Create(Config("MaxPooling3D", """{"data_format": "channels_first"}""")), Throws.InstanceOf<Exception>().With.Message.Contains("channels_first"));
        Assert.That(() => LayerRegistry.Create(Config("GlobalAveragePooling3D", """{"data_format": "channels_first"}""")), Throws.InstanceOf<Exception>().With.Message.Contains("channels_first"));
    }
}
