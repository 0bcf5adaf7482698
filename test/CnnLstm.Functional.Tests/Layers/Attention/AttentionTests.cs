using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Layers.Attention;

/// <summary>Attention and AdditiveAttention: the cases of Keras 3.16's attention_test.py and additive_attention_test.py that apply, and refusals.</summary>
public class AttentionTests
{
    private static Tensor Query => tensor(new[] { 1f, 0f, 0f, 1f }, new long[] { 1, 2, 2 });

    private static Tensor Key => tensor(new[] { 0f, 1f, 1f, 0f }, new long[] { 1, 2, 2 });

    private static Tensor Value => tensor(new[] { 1f, 2f, 3f, 4f }, new long[] { 1, 2, 2 });

    private static double[] Values(Tensor t) => t.data<float>().Select(f => (double)f).ToArray();

    [Test]
    public void Invoke_DotWithKey_MatchesKerasCorrectnessCase()
    {
        using var scope = NewDisposeScope();
        var outputs = new KerasStyle.Layers.Attention(returnAttentionScores: true).InvokeMulti(new[] { Query, Value, Key });
        Assert.That(Values(outputs[0]), Is.EqualTo(new[] { 2.462, 3.462, 1.538, 2.538 }).Within(1e-3));
        Assert.That(Values(outputs[1]), Is.EqualTo(new[] { 0.269, 0.731, 0.731, 0.269 }).Within(1e-3));
    }

    [Test]
    public void Invoke_ConcatAndAdditiveWithoutScale_MatchKerasCorrectnessCase()
    {
        using var scope = NewDisposeScope();
        foreach (var layer in new KerasStyle.Layers.Attention[] { new(scoreMode: "concat", returnAttentionScores: true), new AdditiveAttention(useScale: false, returnAttentionScores: true) })
        {
            var outputs = layer.InvokeMulti(new[] { Query, Value, Key });
            Assert.That(Values(outputs[0]), Is.EqualTo(new[] { 1.727, 2.727, 2.272, 3.272 }).Within(1e-3), layer.ClassName);
            Assert.That(Values(outputs[1]), Is.EqualTo(new[] { 0.636, 0.363, 0.363, 0.636 }).Within(1e-3), layer.ClassName);
        }
    }

    [Test]
    public void Invoke_QueryAndValueMasks_ZeroMaskedQueryAndIgnoreMaskedValue()
    {
        using var scope = NewDisposeScope();
        var value = ones(1, 2, 2);
        var masks = new Tensor?[] { tensor(new[] { true, false }).reshape(1, 2), tensor(new[] { true, false }).reshape(1, 2) };
        foreach (var layer in new KerasStyle.Layers.Attention[] { new(returnAttentionScores: true), new AdditiveAttention(useScale: false, returnAttentionScores: true) })
        {
            var outputs = layer.InvokeMulti(new[] { Query, value }, masks: masks);
            Assert.That(Values(outputs[0]), Is.EqualTo(new[] { 1.0, 1.0, 0.0, 0.0 }).Within(1e-6), layer.ClassName);
            Assert.That(Values(outputs[1]), Is.EqualTo(new[] { 1.0, 0.0, 1.0, 0.0 }).Within(1e-6), layer.ClassName);
        }
    }

    [Test]
    public void Invoke_CausalMask_AttendsToNoLaterStep()
    {
        using var scope = NewDisposeScope();
        var x = rand(2, 4, 3);
        var scores = new KerasStyle.Layers.Attention(useCausalMask: true, returnAttentionScores: true).InvokeMulti(new[] { x, x })[1];
        Assert.That(Values(scores.triu(1)).All(v => v == 0), Is.True, "weights above the diagonal");
        Assert.That(Values(scores.sum(-1)), Is.All.EqualTo(1.0).Within(1e-6));
    }

    [Test]
    public void Invoke_Dropout_OnlyWhileTraining()
    {
        using var scope = NewDisposeScope();
        var x = rand(2, 6, 3);
        var layer = new KerasStyle.Layers.Attention(dropout: 0.5, returnAttentionScores: true);
        var plain = new KerasStyle.Layers.Attention(returnAttentionScores: true);
        Assert.That(Values(layer.InvokeMulti(new[] { x, x })[1]), Is.EqualTo(Values(plain.InvokeMulti(new[] { x, x })[1])).Within(1e-7), "inference");
        Assert.That(Values(layer.InvokeMulti(new[] { x, x }, training: true)[1]), Is.Not.EqualTo(Values(plain.InvokeMulti(new[] { x, x }, training: true)[1])), "training");
    }

    [Test]
    public void Build_Weights_AsKerasBasics()
    {
        var q = new Input(new[] { 3, 4 });
        var v = new Input(new[] { 5, 4 });
        var plain = new KerasStyle.Layers.Attention();
        plain.Call(q, v);
        var both = new KerasStyle.Layers.Attention(useScale: true, scoreMode: "concat");
        both.Call(q, v);
        var additive = new AdditiveAttention();
        additive.Call(q, v);
        Assert.That(plain.Weights, Is.Empty);
        Assert.That(both.Weights.Select(w => $"{w.Name}({string.Join(",", w.Shape)})"), Is.EqualTo(new[] { "scale()", "concat_score_weight()" }));
        Assert.That(additive.Weights.Select(w => $"{w.Name}({string.Join(",", w.Shape)})"), Is.EqualTo(new[] { "scale(4)" }));
    }

    [Test]
    public void Call_OutputShapesAndMask_AsKeras()
    {
        var q = new Input(new[] { 3, 4 });
        var v = new Input(new[] { 5, 2 });
        var k = new Input(new[] { 5, 4 });
        var outputs = new KerasStyle.Layers.Attention(returnAttentionScores: true).CallMulti(new[] { q, v, k });
        Assert.That(outputs.Select(o => o.Shape.ToString()), Is.EqualTo(new[] { "(None, 3, 2)", "(None, 3, 5)" }));

        var ids = new Input(new[] { 3 }, DType.Int32);
        var masked = new Embedding(10, 4, maskZero: true).Call(ids);
        var attended = new KerasStyle.Layers.Attention(returnAttentionScores: true).CallMulti(new[] { masked, v, k });
        Assert.That(attended.Select(o => o.HasMask), Is.EqualTo(new[] { true, false }), "the output's mask is the query's");
        Assert.That(new KerasStyle.Layers.Attention().Call(k, masked).HasMask, Is.False, "a value's mask does not pass on");
    }

    [Test]
    public void Call_BadInputs_ThrowNamingLayerAndShapes()
    {
        var q = new Input(new[] { 3, 4 });
        var v = new Input(new[] { 5, 4 });
        var layer = new KerasStyle.Layers.Attention(name: "att");
        var single = Assert.Throws<LayerInputException>(() => layer.Call(q))!;
        Assert.That(single.Message, Does.Contain("Attention 'att'").And.Contain("list of 2 or 3").And.Contain("(None, 3, 4)"));
        Assert.That(Assert.Throws<LayerInputException>(() => layer.Call(q, v, v, v))!.Message, Does.Contain("a list of 4"));
        Assert.That(Assert.Throws<LayerInputException>(() => layer.Call(new[] { q }))!.Message, Does.Contain("a list of 1"));
        var wrongDim = Assert.Throws<LayerInputException>(() => layer.Call(q, new Input(new[] { 5, 3 })))!;
        Assert.That(wrongDim.Message, Does.Contain("(None, 5, 3)").And.Contain("query's last dimension (4)"));
        var wrongSteps = Assert.Throws<LayerInputException>(() => new AdditiveAttention(name: "add").Call(q, v, new Input(new[] { 6, 4 })))!;
        Assert.That(wrongSteps.Message, Does.Contain("AdditiveAttention 'add'").And.Contain("(None, 6, 4)"));
        Assert.That(Assert.Throws<LayerInputException>(() => layer.Call(q, new Input(new[] { 4 })))!.Message, Does.Contain("rank 3"));
        Assert.That(layer.Built, Is.False, "nothing was built");
        Assert.That(layer.InboundNodes, Is.Empty);
    }

    [Test]
    public void Constructor_BadArguments_Throw()
    {
        Assert.That(Assert.Throws<ArgumentException>(() => new KerasStyle.Layers.Attention(scoreMode: "invalid"))!.Message, Does.Contain("score_mode=invalid"));
        Assert.Throws<ArgumentOutOfRangeException>(() => new KerasStyle.Layers.Attention(dropout: 1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AdditiveAttention(dropout: -0.1));
    }

    [Test]
    public void Config_SeedAndOptions_RoundTrip()
    {
        var layer = new KerasStyle.Layers.Attention(useScale: true, scoreMode: "concat", dropout: 0.3, seed: 7);
        var config = layer.GetConfig();
        Assert.That(config.Select(kv => kv.Key), Is.EqualTo(new[] { "name", "trainable", "dtype", "use_scale", "score_mode", "dropout", "seed" }));
        Assert.That((int)config["seed"]!, Is.EqualTo(7));
        Assert.That(new AdditiveAttention().GetConfig().Select(kv => kv.Key), Is.EqualTo(new[] { "name", "trainable", "dtype", "use_scale", "dropout", "seed" }));
    }

    [Test]
    public void Export_CausalWithUnknownLength_RefusedNamingTheLayer()
    {
        var q = new Input(new int?[] { null, 4 });
        using var model = new Model(q, new GlobalAveragePooling1D().Call(new KerasStyle.Layers.Attention(useCausalMask: true, name: "att").Call(q, q)));
        var path = Path.Combine(Path.GetTempPath(), $"att-{Guid.NewGuid():N}.onnx");
        var error = Assert.Throws<NotSupportedException>(() => model.Export(path))!;
        Assert.That(error.Message, Does.Contain("att").And.Contain("causal"));
        File.Delete(path);
    }

    [Test]
    public void FromJson_CallArguments_ReadPerNode_DifferingOrBadOnesRefused()
    {
        var q = new Input(new[] { 3, 4 }, name: "q");
        var v = new Input(new[] { 5, 4 }, name: "v");
        var shared = new KerasStyle.Layers.Attention(name: "att");
        using var model = new Model(new[] { q, v }, new[] { shared.Call(q, q), shared.Call(v, v) });
        JsonNode Edited(JsonNode? first, JsonNode? second)
        {
            var json = JsonNode.Parse(model.ToJson())!;
            var nodes = json["config"]!["layers"]!.AsArray().Single(l => (string)l!["name"]! == "att")!["inbound_nodes"]!.AsArray();
            nodes[0]!["kwargs"] = first;
            nodes[1]!["kwargs"] = second;
            return json;
        }

        using (var both = Model.FromJson(Edited(new JsonObject { ["use_causal_mask"] = true }, new JsonObject { ["use_causal_mask"] = true }).ToJsonString()))
        {
            Assert.That(((KerasStyle.Layers.Attention)both.Layers.Single(l => l.Name == "att")).UseCausalMask, Is.True);
        }

        var differ = Assert.Throws<NotSupportedException>(() => Model.FromJson(Edited(new JsonObject { ["use_causal_mask"] = true }, new JsonObject()).ToJsonString()))!;
        Assert.That(differ.Message, Does.Contain("Attention 'att'").And.Contain("differ"));
        var bad = Assert.Throws<FormatException>(() => Model.FromJson(Edited(new JsonObject { ["use_causal_mask"] = "yes" }, new JsonObject()).ToJsonString()))!;
        Assert.That(bad.Message, Does.Contain("use_causal_mask"));
        var unknown = Assert.Throws<NotSupportedException>(() => Model.FromJson(Edited(new JsonObject { ["foo"] = 1 }, new JsonObject()).ToJsonString()))!;
        Assert.That(unknown.Message, Does.Contain("'foo'"));
    }
}
