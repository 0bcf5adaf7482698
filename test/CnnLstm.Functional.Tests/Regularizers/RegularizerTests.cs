using System.Text.Json.Nodes;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Regularizers;
using KerasStyle.Tests.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Regularizers;

/// <summary>
/// L1, L2 and L1L2 against Keras 3.16 (Training/KerasFixtures/regularizers.json, tools/keras-fixtures/regularizers.py):
/// eager calls, <c>keras.regularizers.get</c> on names, the serialized forms both ways, and what is refused.
/// </summary>
public class RegularizerTests
{
    internal static readonly JsonObject Fixture = JsonNode.Parse(File.ReadAllText(Path.Combine(TestContext.CurrentContext.TestDirectory, "Training", "KerasFixtures", "regularizers.json")))!.AsObject();

    [TestCase("L1(0.3)")]
    [TestCase("L2(0.1)")]
    [TestCase("L1L2(0.01,0.02)")]
    [TestCase("L1L2(0,0.5)")]
    public void Invoke_OnAnArrayAndATensor_GivesKerasPenalty(string name)
    {
        var regularizer = name switch
        {
            "L1(0.3)" => (Regularizer)new L1(0.3),
            "L2(0.1)" => new L2(0.1),
            "L1L2(0.01,0.02)" => new L1L2(0.01, 0.02),
            _ => new L1L2(l2: 0.5),
        };
        var calls = Fixture["calls"]!;
        var x = FixtureJson.ToFloat2(calls["x"]!.AsArray());
        var expected = calls[name]!.GetValue<double>();
        Assert.That(regularizer.Invoke(x), Is.EqualTo(expected).Within(1e-6));
        using var t = tensor(x.Cast<float>().ToArray()).reshape(2, 3);
        using var penalty = regularizer.Invoke(t);
        Assert.That(penalty.dim(), Is.EqualTo(0));
        Assert.That(penalty.item<float>(), Is.EqualTo(expected).Within(1e-6));
    }

    [TestCase("l1")]
    [TestCase("l2")]
    [TestCase("l1l2")]
    [TestCase("L1")]
    [TestCase("L2")]
    [TestCase("L1L2")]
    public void Get_AName_GivesTheClassWithKerasDefaultsAndSerializesAsKeras(string name)
    {
        var regularizer = Regularizer.Get(JsonValue.Create(name))!;
        Assert.That(JsonNode.DeepEquals(regularizer.Serialize(), Fixture["get"]![name]), Is.True, regularizer.Serialize().ToJsonString());
    }

    [TestCase("L1(0.01)")]
    [TestCase("L2(0.01)")]
    [TestCase("L1L2(0.01,0.02)")]
    public void Serialize_WritesKeras316FormAndReadsBack(string name)
    {
        var regularizer = name switch
        {
            "L1(0.01)" => (Regularizer)new L1(0.01),
            "L2(0.01)" => new L2(0.01),
            _ => new L1L2(0.01, 0.02),
        };
        var keras = Fixture["serialize"]![name]!;
        Assert.That(JsonNode.DeepEquals(regularizer.Serialize(), keras), Is.True, regularizer.Serialize().ToJsonString());
        Assert.That(JsonNode.DeepEquals(Regularizer.Get(keras)!.Serialize(), keras), Is.True);
    }

    [Test]
    public void Get_TfKeras2Form_ReadsTheFloat32Factors()
    {
        // As tf.keras 2.10 wrote the real set2 file's Dense (no module, float32-rounded factors).
        var regularizer = (L1L2)Regularizer.Get(JsonNode.Parse("""{"class_name": "L1L2", "config": {"l1": 0.0010000000474974513, "l2": 0.0010000000474974513}}"""))!;
        Assert.That(regularizer.L1Factor, Is.EqualTo(0.0010000000474974513));
        Assert.That(regularizer.Invoke(new float[] { 1, -2 }), Is.EqualTo((0.001f * 3) + (0.001f * 5)).Within(1e-9));
    }

    [Test]
    public void Get_NamesKeras316Refuses_AreRefusedClearly()
    {
        // Keras 3.16's regularizers.get refuses 'l1_l2' (its names are the class names and their snake case, 'l1l2').
        Assert.That(Fixture["get_refused"]!["l1_l2"]!.GetValue<string>(), Does.Contain("Could not interpret regularizer identifier"));
        Assert.That(() => Regularizer.Get(JsonValue.Create("l1_l2")), Throws.TypeOf<FormatException>().With.Message.Contains("'l1_l2'"));
        Assert.That(() => Regularizer.Get(JsonNode.Parse("""{"class_name": "L2", "config": {"l2": 0.01, "l3": 1}}""")),
            Throws.TypeOf<FormatException>().With.Message.Contains("'l3'"));
        Assert.That(() => new L2(-1), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("non-negative"));
        Assert.That(() => new L1(double.NaN), Throws.TypeOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public void LayerConfig_RegularizerAndConstraintTogether_AreBothRead()
    {
        var json = new Dense(2) { KernelRegularizer = new L2(0.1) }.GetConfig();
        json["kernel_constraint"] = JsonNode.Parse("""{"module": "keras.constraints", "class_name": "MaxNorm", "config": {"max_value": 2, "axis": 0}, "registered_name": null}""");
        var dense = (Dense)LayerRegistryCreate("Dense", json);
        Assert.That(dense.KernelRegularizer, Is.TypeOf<L2>());
        Assert.That(dense.KernelConstraint, Is.TypeOf<KerasStyle.Constraints.MaxNorm>());
    }

    [Test]
    public void LayerConfig_BadOrthogonalRegularizerRefusedNamingLayerAndKey()
    {
        var json = new Dense(2, name: "d").GetConfig();
        json["kernel_regularizer"] = JsonNode.Parse("""{"module": "keras.regularizers", "class_name": "OrthogonalRegularizer", "config": {"factor": 0.01, "mode": "diagonal"}, "registered_name": null}""");
        Assert.That(() => LayerRegistryCreate("Dense", json), Throws.TypeOf<FormatException>().With.Message.Contains("Dense '").And.Message.Contains("kernel_regularizer").And.Message.Contains("mode=diagonal"));
    }

    private static Layer LayerRegistryCreate(string className, JsonObject config)
    {
        var input = new Input(3);
        var model = new Model(input, new Dense(2).Call(input));
        var modelJson = JsonNode.Parse(model.ToJson())!.AsObject();
        var layers = modelJson["config"]!["layers"]!.AsArray();
        var layer = layers[1]!.AsObject();
        config["name"] = layer["config"]!["name"]!.GetValue<string>();
        layer["config"] = config;
        Assert.That(layer["class_name"]!.GetValue<string>(), Is.EqualTo(className));
        return Model.FromJson(modelJson.ToJsonString()).Layers[1];
    }
}
