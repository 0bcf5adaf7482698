using System.Text.Json.Nodes;
using KerasStyle.Models;
using KerasStyle.Tests.Saving;

namespace KerasStyle.Tests.Layers.Family;

/// <summary>
/// The CNN-LSTM layer family (issue 14) against real Keras 3.16 (tools/keras-fixtures/layers.py): one model per layer
/// and option, Input > the layer. Each loads here and predicts within 1e-5 of Keras, has Keras' parameter count and
/// output shape, writes the layer config Keras writes, and comes back from every file form with the same predictions.
/// </summary>
public class LayerFamilyFixtureTests
{
    private static readonly string Folder = Path.Combine(TestContext.CurrentContext.TestDirectory, "Layers", "KerasFixtures", "family");

    private static JsonObject Cases => JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "cases.json")))!["cases"]!.AsObject();

    private static IEnumerable<string> CaseNames() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(Path.GetDirectoryName(typeof(LayerFamilyFixtureTests).Assembly.Location)!, "Layers", "KerasFixtures", "family", "cases.json")))!["cases"]!.AsObject().Select(kv => kv.Key);

    [TestCaseSource(nameof(CaseNames))]
    public void Load_KerasModel_PredictsWithin1e5_WithKerasParamsShapeAndConfig(string name)
    {
        var fixture = Cases[name]!;
        using var model = Model.Load(Path.Combine(Folder, name + ".keras"));
        AssertAsKeras(model, fixture);
        Assert.That(model.CountParams(), Is.EqualTo(fixture["params"]!.GetValue<long>()), "parameters as Keras counts them");
        Assert.That(model.Outputs[0].Shape.ToString(), Is.EqualTo(ShapeText(fixture["output_shape"]!.AsArray())));
        var layer = JsonNode.Parse(model.ToJson())!["config"]!["layers"]![1]!;
        Assert.That(layer["class_name"]!.GetValue<string>(), Is.EqualTo(fixture["layer_class"]!.GetValue<string>()));
        Assert.That(JsonNode.DeepEquals(layer["config"], fixture["layer_config"]), Is.True,
            $"the layer config Keras writes:\n{fixture["layer_config"]!.ToJsonString()}\nthe library's:\n{layer["config"]!.ToJsonString()}");
        ModelFiles.CheckEveryForm(model, back => AssertAsKeras(back, fixture));
    }

    private static void AssertAsKeras(Model model, JsonNode fixture)
    {
        var x = FixtureJson.ToArray(fixture["x"]!.AsArray());
        // Every output in order (a layer with returnState gives several), flattened as Keras' list of arrays is.
        var predicted = model.Predict(new[] { x }).SelectMany(o => o.Cast<float>()).Select(v => (double)v);
        Assert.That(predicted, Is.EqualTo(FixtureJson.Flatten(fixture["y"]!)).Within(1e-5));
    }

    private static string ShapeText(JsonArray dims) =>
        new KerasStyle.Graph.Shape(dims.Select(d => d is null ? (int?)null : d.GetValue<int>()).ToArray()).ToString();
}
