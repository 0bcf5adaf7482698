using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Tests.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Layers.Attention;

/// <summary>
/// Attention and AdditiveAttention against real Keras 3.16 (tools/keras-fixtures/attention.py): one model per option
/// (ids > mask_zero Embedding > LSTM > attention > GlobalAveragePooling1D > Dense) and eager calls with masks.
/// </summary>
public class AttentionFixtureTests
{
    private static readonly string Folder = Path.Combine(TestContext.CurrentContext.TestDirectory, "Layers", "Attention", "KerasFixtures");

    private static readonly Lazy<JsonObject> FixtureJsonObject = new(() => JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "attention.json")))!.AsObject());

    private static JsonObject Fixture => FixtureJsonObject.Value;

    private static readonly string[] Cases = { "dot", "scale_concat", "causal", "scores", "dropout", "additive", "additive_noscale_causal" };

    private static IReadOnlyList<Array> Inputs(Model model)
    {
        var inputs = Fixture["inputs"]!;
        var q = FixtureJson.ToInt2(inputs["q_ids"]!.AsArray());
        return model.Inputs.Count == 1 ? new Array[] { q } : new Array[] { q, FixtureJson.ToInt2(inputs["v_ids"]!.AsArray()) };
    }

    private static void AssertAsKeras(Model model, string @case)
    {
        var expected = Fixture["models"]![@case]!;
        Assert.That(model.CountParams(), Is.EqualTo(expected["params"]!.GetValue<long>()), "param count");
        var predictions = model.Predict(Inputs(model));
        var kerasPredictions = expected["predictions"]!.AsArray();
        Assert.That(predictions, Has.Count.EqualTo(kerasPredictions.Count), "outputs");
        for (var i = 0; i < predictions.Count; i++)
        {
            Assert.That(Flat(predictions[i]), Is.EqualTo(FixtureJson.Flatten(kerasPredictions[i]!).ToArray()).Within(1e-5), $"{@case}: output {i}");
        }
    }

    internal static double[] Flat(Array array) => array.Cast<float>().Select(f => (double)f).ToArray();

    [TestCaseSource(nameof(Cases))]
    public void Load_KerasModel_PredictsWithin1e5(string @case)
    {
        using var model = Model.Load(Path.Combine(Folder, @case + ".keras"));
        AssertAsKeras(model, @case);
        var attention = (KerasStyle.Layers.Attention)model.Layers.Single(l => l.Name == "attention");
        Assert.That(JsonNode.DeepEquals(attention.GetConfig(), Fixture["models"]![@case]!["attention_config"]), Is.True, attention.GetConfig().ToJsonString());
    }

    [TestCaseSource(nameof(Cases))]
    public void BuiltHere_WithKerasWeights_PredictsAsKeras_AndSurvivesEverySaveForm(string @case)
    {
        using var keras = Model.Load(Path.Combine(Folder, @case + ".keras"));
        using var model = Build(@case);
        Assert.That(model.Layers.Select(l => l.Name).Order(), Is.EqualTo(keras.Layers.Select(l => l.Name).Order()));
        foreach (var layer in model.Layers)
        {
            layer.SetWeights(keras.Layers.Single(l => l.Name == layer.Name).GetWeights());
        }

        AssertAsKeras(model, @case);
        if (@case != "dropout")
        {
            ModelFiles.CheckEveryForm(model, back => AssertAsKeras(back, @case));
            return;
        }

        // tf.keras 2's Attention has no seed: that form is refused, the others keep it.
        var folder = Directory.CreateTempSubdirectory("ks-attention-").FullName;
        try
        {
            var refused = Assert.Throws<NotSupportedException>(() => model.Save(Path.Combine(folder, "t.h5"), H5Format.TfKeras2))!;
            Assert.That(refused.Message, Does.Contain("'attention'").And.Contain("seed=3"));
            foreach (var file in new[] { "m.keras", "m.h5" })
            {
                model.Save(Path.Combine(folder, file));
                using var back = Model.Load(Path.Combine(folder, file));
                AssertAsKeras(back, @case);
                Assert.That(((KerasStyle.Layers.Attention)back.Layers.Single(l => l.Name == "attention")).Seed, Is.EqualTo(3));
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void Export_KerasModel_OnnxMatchesPredict(string @case)
    {
        using var model = Model.Load(Path.Combine(Folder, @case + ".keras"));
        KerasStyle.Tests.Saving.Onnx.OnnxCheck.AssertMatchesPredict(model, Inputs(model));
    }

    [Test]
    public void ToJson_CausalCall_RecordsItsCallArgumentsAsKeras()
    {
        foreach (var @case in new[] { "causal", "scores", "dot" })
        {
            using var model = Build(@case);
            var mine = JsonNode.Parse(model.ToJson())!["config"]!["layers"]!.AsArray().Single(l => (string)l!["name"]! == "attention")!;
            using var keras = Model.Load(Path.Combine(Folder, @case + ".keras"));
            var theirs = JsonNode.Parse(keras.ToJson())!["config"]!["layers"]!.AsArray().Single(l => (string)l!["name"]! == "attention")!;
            Assert.That(mine["inbound_nodes"]![0]!["kwargs"]!.ToJsonString(), Is.EqualTo(theirs["inbound_nodes"]![0]!["kwargs"]!.ToJsonString()), @case);
        }
    }

    /// <summary>The fixture's model, built here as tools/keras-fixtures/attention.py builds it.</summary>
    private static Model Build(string @case)
    {
        var qIds = new Input(new[] { 6 }, DType.Int32, name: "q_ids");
        var vIds = new Input(new[] { 7 }, DType.Int32, name: "v_ids");
        var q = new LSTM(4, returnSequences: true, name: "q_lstm").Call(new Embedding(20, 5, name: "q_embedding", maskZero: true).Call(qIds));
        KerasTensor V() => new LSTM(4, returnSequences: true, name: "v_lstm").Call(new Embedding(20, 5, name: "v_embedding", maskZero: true).Call(vIds));
        var inputs = new[] { qIds, vIds };
        IReadOnlyList<KerasTensor> result;
        switch (@case)
        {
            case "dot":
                result = new KerasStyle.Layers.Attention(name: "attention").CallMulti(new[] { q, V() });
                break;
            case "scale_concat":
                var v = V();
                result = new KerasStyle.Layers.Attention(useScale: true, scoreMode: "concat", name: "attention").CallMulti(new[] { q, v, new Dense(4, name: "key").Call(v) });
                break;
            case "causal":
                result = new KerasStyle.Layers.Attention(useScale: true, useCausalMask: true, name: "attention").CallMulti(new[] { q, q });
                inputs = new[] { qIds };
                break;
            case "scores":
                result = new KerasStyle.Layers.Attention(returnAttentionScores: true, name: "attention").CallMulti(new[] { q, V() });
                break;
            case "dropout":
                result = new KerasStyle.Layers.Attention(dropout: 0.4, seed: 3, name: "attention").CallMulti(new[] { q, V() });
                break;
            case "additive":
                result = new AdditiveAttention(name: "attention").CallMulti(new[] { q, V() });
                break;
            case "additive_noscale_causal":
                result = new AdditiveAttention(useScale: false, useCausalMask: true, name: "attention").CallMulti(new[] { q, q });
                inputs = new[] { qIds };
                break;
            default:
                throw new ArgumentException(@case);
        }

        var outputs = new List<KerasTensor> { new Dense(1, name: "out").Call(new GlobalAveragePooling1D(name: "pool").Call(result[0])) };
        outputs.AddRange(result.Skip(1));
        return new Model(inputs, outputs, name: @case);
    }

    private static Tensor Floats(JsonNode node)
    {
        var shape = new List<long>();
        for (var n = node; n is JsonArray a; n = a[0])
        {
            shape.Add(a.Count);
        }

        return tensor(FixtureJson.Flatten(node).Select(d => (float)d).ToArray(), shape.ToArray());
    }

    private static Tensor Bools(JsonArray rows) =>
        tensor(rows.SelectMany(r => r!.AsArray().Select(b => b!.GetValue<bool>())).ToArray(), new long[] { rows.Count, rows[0]!.AsArray().Count });

    [Test]
    public void Invoke_KerasEagerCalls_OutputsAndScoresWithin1e5()
    {
        var eager = Fixture["eager"]!;
        foreach (var call in eager["calls"]!.AsArray())
        {
            using var scope = NewDisposeScope();
            var name = (string)call!["name"]!;
            var config = call["config"]!;
            var causal = call["use_causal_mask"]!.GetValue<bool>();
            KerasStyle.Layers.Attention layer = config["score_mode"] is null
                ? new AdditiveAttention(useScale: config["use_scale"]!.GetValue<bool>(), useCausalMask: causal, returnAttentionScores: true)
                : new KerasStyle.Layers.Attention(useScale: config["use_scale"]!.GetValue<bool>(), scoreMode: (string)config["score_mode"]!, useCausalMask: causal, returnAttentionScores: true);
            var inputs = new List<Tensor> { Floats(eager["q"]!), Floats(eager["v"]!) };
            if (call["key"]!.GetValue<bool>())
            {
                inputs.Add(Floats(eager["k"]!));
            }

            var masks = call["mask"]!.GetValue<bool>()
                ? new Tensor?[] { Bools(eager["q_mask"]!.AsArray()), Bools(eager["v_mask"]!.AsArray()) }.Concat(inputs.Count > 2 ? new Tensor?[] { null } : Array.Empty<Tensor?>()).ToArray()
                : null;
            layer.InvokeMulti(inputs, masks: masks);
            layer.SetWeights(call["weights"]!.AsArray().Select(w => WeightArrayOf(w!)).ToArray());
            var outputs = layer.InvokeMulti(inputs, masks: masks);
            Assert.That(outputs[0].data<float>().Select(f => (double)f).ToArray(), Is.EqualTo(FixtureJson.Flatten(call["output"]!).ToArray()).Within(1e-5), $"{name}: output");
            Assert.That(outputs[1].data<float>().Select(f => (double)f).ToArray(), Is.EqualTo(FixtureJson.Flatten(call["scores"]!).ToArray()).Within(1e-5), $"{name}: scores");
            var mine = layer.GetConfig();
            mine.Remove("name");
            var theirs = config.DeepClone().AsObject();
            theirs.Remove("name");
            Assert.That(JsonNode.DeepEquals(mine, theirs), Is.True, $"{name}: config {mine.ToJsonString()}");
        }
    }

    private static WeightArray WeightArrayOf(JsonNode value)
    {
        var shape = new List<int>();
        for (var n = value; n is JsonArray a; n = a[0])
        {
            shape.Add(a.Count);
        }

        var values = value is JsonArray ? FixtureJson.Flatten(value).Select(d => (float)d).ToArray() : new[] { (float)value.GetValue<double>() };
        return new WeightArray(shape.ToArray(), values);
    }
}
