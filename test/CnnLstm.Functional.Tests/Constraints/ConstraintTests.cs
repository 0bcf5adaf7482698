using System.Text.Json.Nodes;
using KerasStyle.Constraints;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Tests.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Constraints;

/// <summary>
/// MaxNorm, MinMaxNorm, NonNeg and UnitNorm against Keras 3.16 (Training/KerasFixtures/constraints.json,
/// tools/keras-fixtures/constraints.py): eager calls, <c>keras.constraints.get</c> on names, the serialized forms both
/// ways, and what is refused.
/// </summary>
public class ConstraintTests
{
    internal static readonly JsonObject Fixture = JsonNode.Parse(File.ReadAllText(Path.Combine(TestContext.CurrentContext.TestDirectory, "Training", "KerasFixtures", "constraints.json")))!.AsObject();

    internal static Constraint Make(string name) => name switch
    {
        "MaxNorm()" => new MaxNorm(),
        "MaxNorm(0.7,axis=1)" => new MaxNorm(0.7, 1),
        "MaxNorm(1.0,axis=[0,1])" => new MaxNorm(1.0, new[] { 0, 1 }),
        "MinMaxNorm()" => new MinMaxNorm(),
        "MinMaxNorm(1.2,2.0,0.5,axis=-1)" => new MinMaxNorm(1.2, 2.0, 0.5, -1),
        "NonNeg()" => new NonNeg(),
        "UnitNorm()" => new UnitNorm(),
        "UnitNorm(axis=[0,2])" => new UnitNorm(new[] { 0, 2 }),
        _ => throw new ArgumentException(name),
    };

    private static float[,,] W => FixtureJson.ToFloat3(Fixture["calls"]!["w"]!.AsArray());

    [TestCase("MaxNorm()")]
    [TestCase("MaxNorm(0.7,axis=1)")]
    [TestCase("MaxNorm(1.0,axis=[0,1])")]
    [TestCase("MinMaxNorm()")]
    [TestCase("MinMaxNorm(1.2,2.0,0.5,axis=-1)")]
    [TestCase("NonNeg()")]
    [TestCase("UnitNorm()")]
    [TestCase("UnitNorm(axis=[0,2])")]
    public void Invoke_OnAnArrayAndATensor_GivesKerasProjection(string name)
    {
        var constraint = Make(name);
        var expected = FixtureJson.Flatten(Fixture["calls"]![name]!).Select(v => (float)v).ToArray();
        var projected = constraint.Invoke((Array)W);
        Assert.That(projected.Rank, Is.EqualTo(3));
        Assert.That(projected.Cast<float>().ToArray(), Is.EqualTo(expected).Within(1e-6));
        using var t = tensor(W.Cast<float>().ToArray(), new long[] { 3, 2, 4 });
        using var result = constraint.Invoke(t);
        Assert.That(result.shape, Is.EqualTo(new long[] { 3, 2, 4 }));
        Assert.That(result.data<float>().ToArray(), Is.EqualTo(expected).Within(1e-6));
    }

    [TestCase("max_norm")]
    [TestCase("MaxNorm")]
    [TestCase("min_max_norm")]
    [TestCase("MinMaxNorm")]
    [TestCase("non_neg")]
    [TestCase("NonNeg")]
    [TestCase("unit_norm")]
    [TestCase("UnitNorm")]
    public void Get_AName_GivesTheClassWithKerasDefaultsAndSerializesAsKeras(string name)
    {
        var constraint = Constraint.Get(JsonValue.Create(name))!;
        Assert.That(JsonNode.DeepEquals(constraint.Serialize(), Fixture["get"]![name]), Is.True, constraint.Serialize().ToJsonString());
    }

    [TestCase("maxnorm")]
    [TestCase("nonneg")]
    [TestCase("unitnorm")]
    [TestCase("l2")]
    public void Get_ANameKeras316Refuses_Throws(string name)
    {
        Assert.That(Fixture["get_refused"]![name], Is.Not.Null, "Keras refuses it too");
        Assert.That(() => Constraint.Get(JsonValue.Create(name)), Throws.TypeOf<FormatException>().With.Message.Contains(name));
    }

    [TestCase("MaxNorm()")]
    [TestCase("MaxNorm(0.7,axis=1)")]
    [TestCase("MaxNorm(1.0,axis=[0,1])")]
    [TestCase("MinMaxNorm()")]
    [TestCase("MinMaxNorm(1.2,2.0,0.5,axis=-1)")]
    [TestCase("NonNeg()")]
    [TestCase("UnitNorm()")]
    [TestCase("UnitNorm(axis=[0,2])")]
    public void Serialize_WritesKeras316FormAndReadsBack(string name)
    {
        var written = Make(name).Serialize();
        var keras = Fixture["serialize"]![name]!;
        Assert.That(JsonNode.DeepEquals(written, keras), Is.True, $"{written.ToJsonString()} against {keras.ToJsonString()}");
        var read = Constraint.Get(keras)!;
        Assert.That(JsonNode.DeepEquals(read.Serialize(), keras), Is.True, read.Serialize().ToJsonString());
        Assert.That(read.Invoke((Array)W).Cast<float>().ToArray(), Is.EqualTo(Make(name).Invoke((Array)W).Cast<float>().ToArray()));
    }

    [Test]
    public void Get_TfKeras2Form_ReadsTheSameConstraint()
    {
        var read = Constraint.Get(JsonNode.Parse("""{"class_name": "MinMaxNorm", "config": {"min_value": 0.5, "max_value": 2.0, "rate": 0.25, "axis": [0, 1]}}"""));
        Assert.That(read, Is.TypeOf<MinMaxNorm>());
        var m = (MinMaxNorm)read!;
        Assert.That((m.MinValue, m.MaxValue, m.Rate), Is.EqualTo((0.5, 2.0, 0.25)));
        Assert.That(m.Axis, Is.EqualTo(new[] { 0, 1 }));
    }

    [Test]
    public void Get_UnknownArgumentOrBadAxis_ThrowsNamingIt()
    {
        Assert.That(() => Constraint.Get(JsonNode.Parse("""{"class_name": "MaxNorm", "config": {"max_value": 2, "axes": 0}}""")),
            Throws.TypeOf<FormatException>().With.Message.Contains("'axes'"));
        Assert.That(() => Constraint.Get(JsonNode.Parse("""{"class_name": "UnitNorm", "config": {"axis": "rows"}}""")),
            Throws.TypeOf<FormatException>().With.Message.Contains("axis"));
        Assert.That(() => Constraint.Get(JsonNode.Parse("""{"class_name": "NonNeg", "config": {"x": 1}}""")),
            Throws.TypeOf<FormatException>().With.Message.Contains("'x'"));
    }

    [Test]
    public void Invoke_AxisOutsideTheRank_ThrowsNamingTheShape()
    {
        using var t = ones(2, 3);
        Assert.That(() => new MaxNorm(1, 2).Invoke(t), Throws.ArgumentException.With.Message.Contains("(2, 3)"));
    }

    [Test]
    public void LayerConfig_WithAnUnknownConstraint_IsRefusedNamingTheLayerAndKey()
    {
        var input = new Input(3);
        using var model = new Model(input, new Dense(2, name: "d").Call(input));
        var json = JsonNode.Parse(model.ToJson())!;
        var dense = json["config"]!["layers"]!.AsArray().Single(l => l!["config"]!["name"]!.GetValue<string>() == "d")!;
        dense["config"]!["kernel_constraint"] = JsonNode.Parse("""{"module": "keras.constraints", "class_name": "Clip", "config": {}, "registered_name": null}""");
        Assert.That(() => Model.FromJson(json.ToJsonString()), Throws.TypeOf<FormatException>().With.Message.Contains("kernel_constraint").And.Message.Contains("Clip"));
    }
}
