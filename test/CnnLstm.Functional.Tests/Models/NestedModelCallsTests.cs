using System.Text.Json.Nodes;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Tests.Saving;

namespace KerasStyle.Tests.Models;

/// <summary>
/// Nested models called on new inputs and nested deep (issue 22), as real Keras 3.16 writes them
/// (tools/keras-fixtures/nested_calls.py): Keras numbers a nested functional model's calls from 1 in
/// <c>output_layers</c> (its node 0 is its own graph) and from 0 in node arguments; a model 20 levels deep is JSON 67
/// levels deep.
/// </summary>
public class NestedModelCallsTests
{
    private static readonly string Folder = Path.Combine(TestContext.CurrentContext.TestDirectory, "Models", "KerasFixtures", "nested-calls");

    private static readonly string[] Names = { "once", "twice", "sequential", "deep20" };

    [Test]
    public void Load_KerasNestedModelCalledOnNewInputs_EveryForm_PredictsAsKeras(
        [ValueSource(nameof(Names))] string name, [Values(".keras", ".h5", ".json")] string form)
    {
        using var model = form == ".json" ? Model.FromJson(File.ReadAllText(Path.Combine(Folder, name + ".json"))) : Model.Load(Path.Combine(Folder, name + form));
        if (form == ".json")
        {
            model.LoadWeights(Path.Combine(Folder, name + ".weights.h5"));
        }

        AssertAsKeras(model, name);
    }

    [TestCase("once")]
    [TestCase("twice")]
    [TestCase("sequential")]
    public void ToJson_NestedModelOutputs_NumberedAsKeras(string name)
    {
        using var model = Model.Load(Path.Combine(Folder, name + ".keras"));
        var keras = JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, name + ".json")))!["config"]!;
        var mine = JsonNode.Parse(model.ToJson())!["config"]!;
        // Keras writes one reference unwrapped ("output_layers": ["m0", 1, 0]) where the library writes a list of one.
        static string References(JsonNode node) => (node is JsonArray { Count: > 0 } list && list[0] is JsonValue ? new JsonArray(node.DeepClone()) : node).ToJsonString();
        Assert.That(References(mine["output_layers"]!), Is.EqualTo(References(keras["output_layers"]!)));
        Assert.That(References(mine["input_layers"]!), Is.EqualTo(References(keras["input_layers"]!)));
    }

    [TestCase("twice")]
    [TestCase("sequential")]
    [TestCase("deep20")]
    public void Save_NestedModelCalledOnNewInputs_EveryFormRoundTrips(string name)
    {
        using var model = Model.Load(Path.Combine(Folder, name + ".keras"));
        ModelFiles.CheckEveryForm(model, m => AssertAsKeras(m, name));
    }

    [Test]
    public void FromJson_OutputReferringToANestedModelsOwnGraph_IsAFormatExceptionNamingIt()
    {
        var json = File.ReadAllText(Path.Combine(Folder, "once.json")).Replace("\"output_layers\": [\"m0\", 1, 0]", "\"output_layers\": [\"m0\", 0, 0]");
        Assert.That(json, Does.Contain("[\"m0\", 0, 0]"));
        Assert.That(Assert.Throws<FormatException>(() => Model.FromJson(json))!.Message, Does.Contain("node 0 of the nested model 'm0'"));
    }

    [Test]
    public void FromJson_Keras2NestedModelCalls_NumberedFromOne_AsTfKeras2Writes()
    {
        // tf.keras 2 numbers every reference to a nested model (built on an Input) from 1, inbound nodes included.
        const string json = """
            {"class_name": "Functional", "keras_version": "2.15.0", "config": {"name": "outer", "layers": [
              {"class_name": "InputLayer", "name": "j", "config": {"name": "j", "batch_input_shape": [null, 2], "dtype": "float32"}, "inbound_nodes": []},
              {"class_name": "Sequential", "name": "s", "config": {"name": "s", "layers": [
                {"class_name": "InputLayer", "config": {"name": "s_in", "batch_input_shape": [null, 2], "dtype": "float32"}},
                {"class_name": "Dense", "config": {"name": "d", "units": 2, "use_bias": false}}]},
               "inbound_nodes": [[["j", 0, 0, {}]], [["s", 1, 0, {}]]]},
              {"class_name": "Add", "name": "add", "config": {"name": "add"}, "inbound_nodes": [[["s", 1, 0, {}], ["s", 2, 0, {}]]]}],
              "input_layers": [["j", 0, 0]], "output_layers": [["add", 0, 0]]}}
            """;
        using var model = Model.FromJson(json);
        model.SetWeights(new[] { new WeightArray(new[] { 2, 2 }, new float[] { 1, 1, 1, 1 }) });
        var y = (float[,])model.Predict(new float[,] { { 1, 2 } });
        // s(j) = [3, 3]; s(s(j)) = [6, 6]; their sum [9, 9].
        Assert.That(y, Is.EqualTo(new float[,] { { 9, 9 } }));
    }

    private static void AssertAsKeras(Model model, string name)
    {
        var expected = JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, name + ".expected.json")))!;
        var inputs = expected["inputs"]!.AsArray().Select(x => (Array)FixtureJson.ToFloat2(x!.AsArray())).ToArray();
        var outputs = model.Predict(inputs);
        var want = expected["outputs"]!.AsArray();
        Assert.That(outputs, Has.Count.EqualTo(want.Count));
        for (var i = 0; i < want.Count; i++)
        {
            Assert.That(((float[,])outputs[i]).Cast<float>().Select(v => (double)v), Is.EqualTo(FixtureJson.Flatten(want[i]!)).Within(1e-5), $"{name} output {i}");
        }
    }
}
