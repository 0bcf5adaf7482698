using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Saving;
using KerasStyle.Tests.Saving;

namespace KerasStyle.Tests.Layers;

/// <summary>
/// ReLU, LeakyReLU, PReLU, ELU and Softmax against Keras 3.16 (tools/keras-fixtures/activations.py): each layer built from
/// Keras' config with its arguments, Softmax under an Embedding(mask_zero) mask, and a .keras model of all five; plus
/// the refusals of Keras' layer tests (keras/src/layers/activations/*_test.py).
/// </summary>
public class ActivationLayersTests
{
    private static readonly string Folder = Path.Combine(TestContext.CurrentContext.TestDirectory, "Layers", "KerasFixtures", "activations");

    private static readonly JsonObject Fixture = JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "activations.json")))!.AsObject();

    [SetUp]
    public void Fresh() => Backend.ClearSession();

    private static IEnumerable<TestCaseData> LayerCases() => Fixture["layers"]!.AsArray().Select((c, i) =>
        new TestCaseData(i).SetName($"Layer_FromKerasConfig_ComputesAsKeras316({c!["class_name"]} {c["kwargs"]!.ToJsonString()})"));

    [TestCaseSource(nameof(LayerCases))]
    public void Layer_FromKerasConfig_ComputesAsKeras316(int index)
    {
        var c = Fixture["layers"]![index]!.AsObject();
        var kerasConfig = c["config"]!.AsObject();
        var layer = LayerRegistry.Create(new LayerConfig((string)c["class_name"]!, (string)kerasConfig["name"]!, (JsonObject)kerasConfig.DeepClone()));
        var x = FixtureJson.ToFloat3(c["x"]!.AsArray());
        using var model = TestData.Wrap(layer, new[] { 3, 4 });
        var weights = c["weights"]!.AsArray();
        if (weights.Count > 0)
        {
            layer.SetWeights(weights.Select(w => WeightArray.FromArray(ToArray(w!))).ToArray());
        }

        var y = (float[,,])model.Predict(x);

        AssertClose(y, FixtureJson.ToFloat3(c["y"]!.AsArray()), 1e-6, $"{c["class_name"]} {c["kwargs"]!.ToJsonString()}");
        var ours = layer.GetConfig();
        foreach (var (key, value) in kerasConfig.Where(kv => kv.Key is not ("name" or "trainable")))
        {
            Assert.That(SameJson(ours[key], value), Is.True, $"config '{key}': ours {ours[key]?.ToJsonString()}, Keras {value?.ToJsonString()}");
        }
    }

    [Test]
    public void Softmax_UnderEmbeddingMask_BroadcastsTheMaskAsKeras316_AndZeroesMaskedRows()
    {
        var m = Fixture["masked_softmax"]!;
        foreach (var (ids, expected) in new[] { ("ids4", "y4"), ("ids1", "y1") })
        {
            Backend.ClearSession();
            var input = new Input(new[] { 4 }, DType.Int32);
            var embedding = new Embedding(6, 4, maskZero: true);
            using var model = new Model(input, new Softmax().Call(embedding.Call(input)));
            embedding.SetWeights(new[] { WeightArray.FromArray(FixtureJson.ToFloat2(m["embeddings"]!.AsArray())) });

            var y = (float[,,])model.Predict(ToInt2(m[ids]!.AsArray()));

            AssertClose(y, FixtureJson.ToFloat3(m[expected]!.AsArray()), 1e-6, ids);
        }
    }

    [Test]
    public void Softmax_MaskNotBroadcastable_ThrowsNamingTheShapes_AsKeras()
    {
        var input = new Input(new[] { 4 }, DType.Int32);
        using var model = new Model(input, new Softmax(name: "sm").Call(new Embedding(6, 4, maskZero: true).Call(input)));

        Assert.That(() => model.Predict(new int[,] { { 1, 2, 0, 3 }, { 1, 1, 1, 0 } }),
            Throws.InstanceOf<LayerInputException>().With.Message.Contains("Softmax 'sm'").And.Message.Contains("mask.shape=(2, 4)").And.Message.Contains("inputs.shape=(2, 4, 4)"));
        StringAssert.Contains("must be broadcastable", (string)Fixture["masked_softmax"]!["batch2_error"]!);
    }

    [Test]
    public void Softmax_FromTfKeras2Config_AddsLargeNegative_AndLeavesAWhollyMaskedRowUniform()
    {
        var softmax = (Softmax)LayerRegistry.Create(new LayerConfig("Softmax", "sm", JsonNode.Parse("""{"name": "sm", "axis": -1}""")!.AsObject(), keras2: true));
        var input = new Input(new[] { 1 }, DType.Int32);
        var embedding = new Embedding(3, 1, maskZero: true);
        using var model = new Model(input, softmax.Call(embedding.Call(input)));
        embedding.SetWeights(new[] { WeightArray.FromArray(new float[,] { { 5 }, { 1 }, { 2 } }) });

        // One step of one feature: the mask (batch 1, 1 step) broadcasts to the single softmax entry.
        var y = (float[,,])model.Predict(new int[,] { { 0 } });

        Assert.That(softmax.Keras2Mask, Is.True);
        Assert.That(y[0, 0, 0], Is.EqualTo(1f), "tf.keras 2: softmax of one entry -1e9 + 5 is 1 (not zeroed)");
        Backend.ClearSession();
        var input3 = new Input(new[] { 1 }, DType.Int32);
        var embedding3 = new Embedding(3, 1, maskZero: true);
        using var model3 = new Model(input3, new Softmax().Call(embedding3.Call(input3)));
        embedding3.SetWeights(new[] { WeightArray.FromArray(new float[,] { { 5 }, { 1 }, { 2 } }) });
        Assert.That(((float[,,])model3.Predict(new int[,] { { 0 } }))[0, 0, 0], Is.EqualTo(0f), "Keras 3 zeroes masked outputs");
    }

    [Test]
    public void Model_SavedByKeras316_LoadsAndPredicts_AndRoundTripsThroughKeras()
    {
        var m = Fixture["model"]!;
        var x = FixtureJson.ToFloat3(m["x"]!.AsArray());
        var expected = FixtureJson.ToFloat3(m["y"]!.AsArray());
        using var model = Model.Load(Path.Combine(Folder, (string)m["file"]!), compile: false);

        var y = (float[,,])model.Predict(x);

        AssertClose(y, expected, 1e-5, "loaded");
        var path = Path.Combine(Path.GetTempPath(), $"activation_layers_{Guid.NewGuid():N}.keras");
        try
        {
            model.Save(path);
            using var again = Model.Load(path, compile: false);
            AssertClose((float[,,])again.Predict(x), expected, 1e-5, "saved and reloaded");
            Assert.That(again.Layers.Select(l => l.GetType().Name), Is.SupersetOf(new[] { "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax" }));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void LeakyReLU_TfKeras2Alpha_IsTheNegativeSlope_AndIsWrittenAsAlphaInTheTfKeras2Form()
    {
        var layer = (LeakyReLU)LayerRegistry.Create(new LayerConfig("LeakyReLU", "l", JsonNode.Parse("""{"name": "l", "alpha": 0.7}""")!.AsObject(), keras2: true));

        var y = (float[,])TestData.Run(layer, new[] { 2 }, new float[,] { { -2, 3 } });

        Assert.That(layer.NegativeSlope, Is.EqualTo(0.7));
        Assert.That(y[0, 0], Is.EqualTo(-1.4f).Within(1e-6));
        Assert.That(layer.GetConfig()["negative_slope"]!.GetValue<double>(), Is.EqualTo(0.7));
        var arguments = typeof(LeakyReLU).GetCustomAttributes(typeof(TfKeras2RenamedArgumentAttribute), false).Cast<TfKeras2RenamedArgumentAttribute>().Single();
        Assert.That((arguments.Keras3Key, arguments.TfKeras2Key), Is.EqualTo(("negative_slope", "alpha")));
    }

    // keras/src/layers/activations/relu_test.py, leaky_relu_test.py, prelu_test.py, softmax_test.py: invalid arguments.
    [Test]
    public void Constructors_BadArguments_ThrowNamingLayerArgumentAndValue()
    {
        Assert.That(() => new ReLU(maxValue: -10), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("ReLU").And.Message.Contains("max_value=-10"));
        Assert.That(() => new ReLU(negativeSlope: -10), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("ReLU").And.Message.Contains("negative_slope=-10"));
        Assert.That(() => new ReLU(threshold: -10), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("ReLU").And.Message.Contains("threshold=-10"));
        Assert.That(() => new ReLU(negativeSlope: double.NaN), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("negative_slope=NaN"));
        Assert.That(() => new LeakyReLU(-0.5), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("LeakyReLU").And.Message.Contains("negative_slope=-0.5"));
        Assert.That(() => new ELU(double.PositiveInfinity), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("ELU").And.Message.Contains("alpha="));
        Assert.That(() => new PReLU(new[] { 0 }), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("PReLU").And.Message.Contains("shared_axes=[0]"));
        Assert.That(() => new PReLU(new[] { 1, 1 }), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("shared_axes=[1, 1]"));
        Assert.That(() => new Softmax(0), Throws.ArgumentException.With.Message.Contains("Softmax").And.Message.Contains("axis=[0]"));
        Assert.That(() => new Softmax(Array.Empty<int>()), Throws.ArgumentException.With.Message.Contains("axis=[]"));
    }

    [Test]
    public void Configs_BadValues_FailToLoadNamingTheLayer()
    {
        Assert.That(() => LayerRegistry.Create(new LayerConfig("ReLU", "r", JsonNode.Parse("""{"name": "r", "max_value": -1.0}""")!.AsObject())),
            Throws.InstanceOf<FormatException>().With.Message.Contains("ReLU 'r'").And.Message.Contains("max_value=-1"));
        Assert.That(() => LayerRegistry.Create(new LayerConfig("PReLU", "p", new JsonObject { ["name"] = "p", ["alpha_constraint"] = new JsonObject { ["class_name"] = "NoSuchConstraint" } })),
            Throws.InstanceOf<FormatException>().With.Message.Contains("PReLU 'p'").And.Message.Contains("alpha_constraint"));
        Assert.That(() => LayerRegistry.Create(new LayerConfig("LeakyReLU", "l", JsonNode.Parse("""{"name": "l", "alpha": 0.1, "negative_slope": 0.2}""")!.AsObject())),
            Throws.InstanceOf<FormatException>().With.Message.Contains("LeakyReLU 'l'"));
        Assert.That(() => LayerRegistry.Create(new LayerConfig("Softmax", "s", JsonNode.Parse("""{"name": "s", "axis": [1, 1]}""")!.AsObject())),
            Throws.InstanceOf<FormatException>().With.Message.Contains("Softmax 's'").And.Message.Contains("axis=[1, 1]"));
    }

    [Test]
    public void PReLU_Inputs_ThatDoNotFitAlpha_AreRefusedNamingTheLayer()
    {
        var prelu = new PReLU(new[] { 1 }, name: "p");
        var first = new Input(new[] { 3, 4 });
        prelu.Call(first);

        Assert.That(prelu.Weights.Single().Shape, Is.EqualTo(new[] { 1, 4 }));
        Assert.That(() => prelu.Call(new Input(new[] { 3, 5 })), Throws.InstanceOf<LayerInputException>().With.Message.Contains("PReLU 'p'").And.Message.Contains("alpha has shape (1, 4)"));
        Assert.That(() => new PReLU(new[] { 2 }).Call(new Input(new[] { 3 })), Throws.InstanceOf<LayerInputException>().With.Message.Contains("shared axis"));
        Assert.That(() => new PReLU().Call(new Input(new int?[] { null, 4 })), Throws.InstanceOf<LayerInputException>().With.Message.Contains("axis 1"));
    }

    [Test]
    public void Softmax_AxisOutOfRange_IsRefusedNamingTheLayer() =>
        Assert.That(() => new Softmax(3, name: "s").Call(new Input(new[] { 3, 4 })), Throws.InstanceOf<LayerInputException>().With.Message.Contains("Softmax 's'").And.Message.Contains("axis [3]"));

    private static bool SameJson(JsonNode? a, JsonNode? b) => (a, b) switch
    {
        (null, null) => true,
        (JsonValue x, JsonValue y) when x.TryGetValue<double>(out var dx) && y.TryGetValue<double>(out var dy) => dx == dy,
        (JsonArray x, JsonArray y) => x.Count == y.Count && x.Zip(y).All(p => SameJson(p.First, p.Second)),
        (JsonObject x, JsonObject y) => x.Count == y.Count && x.All(kv => y.ContainsKey(kv.Key) && SameJson(kv.Value, y[kv.Key])),
        _ => JsonNode.DeepEquals(a, b),
    };

    private static Array ToArray(JsonNode node)
    {
        var dims = new List<int>();
        for (var n = node; n is JsonArray a; n = a[0])
        {
            dims.Add(a.Count);
        }

        var flat = FixtureJson.Flatten(node).Select(v => (float)v).ToArray();
        var result = Array.CreateInstance(typeof(float), dims.ToArray());
        Buffer.BlockCopy(flat, 0, result, 0, flat.Length * sizeof(float));
        return result;
    }

    private static int[,] ToInt2(JsonArray rows)
    {
        var result = new int[rows.Count, rows[0]!.AsArray().Count];
        for (var i = 0; i < rows.Count; i++)
        {
            for (var j = 0; j < result.GetLength(1); j++)
            {
                result[i, j] = rows[i]![j]!.GetValue<int>();
            }
        }

        return result;
    }

    private static void AssertClose(float[,,] actual, float[,,] expected, double tolerance, string what)
    {
        Assert.That(TestData.Dims(actual), Is.EqualTo(TestData.Dims(expected)), $"{what}: shape");
        for (var i = 0; i < expected.GetLength(0); i++)
        {
            for (var j = 0; j < expected.GetLength(1); j++)
            {
                for (var k = 0; k < expected.GetLength(2); k++)
                {
                    Assert.That(actual[i, j, k], Is.EqualTo(expected[i, j, k]).Within(tolerance * Math.Max(1, Math.Abs(expected[i, j, k]))), $"{what} at [{i}, {j}, {k}]");
                }
            }
        }
    }
}
