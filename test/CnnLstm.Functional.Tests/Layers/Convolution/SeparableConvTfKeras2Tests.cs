using System.Text.Json.Nodes;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Saving;

namespace KerasStyle.Tests.Layers.Convolution;

/// <summary>
/// The tf.keras 2 form of SeparableConv1D and SeparableConv2D: tf.keras 2.11's SeparableConv get_config starts from its
/// Conv base's, so both write <c>"groups": 1</c> (keras/layers/convolutional/base_separable_conv.py, base_conv.py at
/// v2.11.0); Keras 3 writes none.
/// </summary>
public class SeparableConvTfKeras2Tests
{
    private static IEnumerable<TestCaseData> Layers()
    {
        yield return new TestCaseData(new Func<Layer>(() => new SeparableConv1D(4, 3, name: "separable")), new[] { 9, 2 }).SetName("SeparableConv1D");
        yield return new TestCaseData(new Func<Layer>(() => new SeparableConv2D(4, (3, 3), name: "separable")), new[] { 6, 6, 2 }).SetName("SeparableConv2D");
    }

    [TestCaseSource(nameof(Layers))]
    public void TfKeras2Form_WritesTfKeras2sGroups1_AndKeras3FormNone(Func<Layer> make, int[] shape)
    {
        var input = new Input(shape);
        using var model = new Model(input, make().Call(input));
        var keras3 = JsonNode.Parse(model.ToJson())!.AsObject();
        Assert.That(LayerConfig(keras3).ContainsKey("groups"), Is.False, "Keras 3's config has no groups");

        var tfKeras2 = TfKeras2Config.Model(keras3);
        Assert.That(LayerConfig(tfKeras2)["groups"]?.GetValue<int>(), Is.EqualTo(1), tfKeras2.ToJsonString());

        // The tf.keras 2 file loads back with the same weights and predictions.
        var path = Path.Combine(Path.GetTempPath(), $"ks-{Guid.NewGuid():N}.h5");
        try
        {
            model.Save(path, H5Format.TfKeras2);
            using var back = Model.Load(path);
            var x = Array.CreateInstance(typeof(float), new[] { 2 }.Concat(shape).ToArray());
            var i = 0;
            foreach (var index in Indices(x))
            {
                x.SetValue((float)Math.Sin(i++), index);
            }

            Assert.That(back.Predict(x).Cast<float>(), Is.EqualTo(model.Predict(x).Cast<float>()).Within(1e-6));
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static JsonObject LayerConfig(JsonObject model) =>
        model["config"]!["layers"]!.AsArray().Single(l => l!["config"]!["name"]!.GetValue<string>() == "separable")!["config"]!.AsObject();

    private static IEnumerable<int[]> Indices(Array array)
    {
        var lengths = Enumerable.Range(0, array.Rank).Select(array.GetLength).ToArray();
        for (var flat = 0; flat < array.Length; flat++)
        {
            var index = new int[lengths.Length];
            var rest = flat;
            for (var d = lengths.Length - 1; d >= 0; d--)
            {
                index[d] = rest % lengths[d];
                rest /= lengths[d];
            }

            yield return index;
        }
    }
}
