using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Layers.Attention;

/// <summary>
/// MultiHeadAttention and EinsumDense: Keras 3.16's unit tests (keras/src/layers/attention/multi_head_attention_test.py,
/// keras/src/layers/core/einsum_dense_test.py) ported where they assert numbers, shapes or errors, and the checks
/// made before any state changes.
/// </summary>
public class MultiHeadAttentionTests
{
    [TestCase("ab,b->a", null, new[] { 32 }, new int[0], new[] { 32 }, null, new[] { 0 })]
    [TestCase("ab,bc->ac", null, new[] { 32 }, new[] { 64 }, new[] { 32, 64 }, null, new[] { 0, 64 })]
    [TestCase("abc,cde->abde", null, new[] { 1, 2 }, new[] { 1, 3, 4 }, new[] { 2, 3, 4 }, null, new[] { 0, 1, 3, 4 })]
    [TestCase("abc,cde->abde", "e", new[] { 1, 2 }, new[] { 1, 3, 4 }, new[] { 2, 3, 4 }, new[] { 4 }, new[] { 0, 1, 3, 4 })]
    [TestCase("abc,cde->abde", "d", new[] { 1, 2 }, new[] { 1, 3, 4 }, new[] { 2, 3, 4 }, new[] { 3, 1 }, new[] { 0, 1, 3, 4 })]
    [TestCase("abc,cde->abde", "be", new[] { 7, 2 }, new[] { 7, 3, 4 }, new[] { 2, 3, 4 }, new[] { 7, 1, 4 }, new[] { 0, 7, 3, 4 })]
    [TestCase("BFNH,NHD->BFD", null, new[] { 1, 2, 3 }, new[] { 1, 4 }, new[] { 2, 3, 4 }, null, new[] { 0, 1, 4 })]
    [TestCase("abc,cd->abd", null, new[] { 1, 2 }, new[] { 1, 4 }, new[] { 2, 4 }, null, new[] { 0, 1, 4 })]
    [TestCase("ibd,nd->ibn", null, new[] { 2, 1 }, new[] { 2, 2 }, new[] { 2, 1 }, null, new[] { 0, 2, 2 })]
    [TestCase("...b,bc->...c", null, new[] { 32 }, new[] { 64 }, new[] { 32, 64 }, null, new[] { 0, 64 })]
    [TestCase("...bc,bc->...b", null, new[] { 32, 64 }, new[] { 32 }, new[] { 32, 64 }, null, new[] { 0, 32 })]
    [TestCase("...b,bc->...c", null, new[] { 3, 32 }, new[] { 64 }, new[] { 32, 64 }, null, new[] { 0, 3, 64 })]
    [TestCase("...c,cde->...de", "e", new[] { 1, 2 }, new[] { 3, 4 }, new[] { 2, 3, 4 }, new[] { 4 }, new[] { 0, 1, 3, 4 })]
    [TestCase("...c,cde->...de", "d", new[] { 1, 2 }, new[] { 3, 4 }, new[] { 2, 3, 4 }, new[] { 3, 1 }, new[] { 0, 1, 3, 4 })]
    [TestCase("...c,cde->...de", "de", new[] { 1, 2 }, new[] { 3, 4 }, new[] { 2, 3, 4 }, new[] { 3, 4 }, new[] { 0, 1, 3, 4 })]
    [TestCase("bc...,cd->bd...", null, new[] { 1, 2, 3 }, new[] { 4 }, new[] { 1, 4 }, null, new[] { 0, 4, 2, 3 })]
    [TestCase("bc...,cde->bde...", "d", new[] { 1, 2 }, new[] { 3, 4 }, new[] { 1, 3, 4 }, new[] { 3, 1, 1 }, new[] { 0, 3, 4, 2 })]
    [TestCase("bc...,cde->bde...", "e", new[] { 1, 2 }, new[] { 3, 4 }, new[] { 1, 3, 4 }, new[] { 4, 1 }, new[] { 0, 3, 4, 2 })]
    [TestCase("bc...,cde->bde...", "de", new[] { 1, 2 }, new[] { 3, 4 }, new[] { 1, 3, 4 }, new[] { 3, 4, 1 }, new[] { 0, 3, 4, 2 })]
    public void EinsumDense_KerasTestCases_KernelBiasAndOutputShapes(string equation, string? biasAxes, int[] sample, int[] outputShape, int[] kernel, int[]? bias, int[] output)
    {
        // einsum_dense_test.py test_einsum_dense_basics (0 in the output stands for the batch axis).
        var layer = new EinsumDense(equation, outputShape.Select(d => (int?)d).ToArray(), biasAxes: biasAxes);
        var input = new Input(sample);
        var result = layer.Call(input);
        Assert.That(result.Shape, Is.EqualTo(new Shape(output.Select((d, i) => i == 0 ? (int?)null : d).ToArray())));
        Assert.That(layer.Weights[0].Shape, Is.EqualTo(kernel));
        Assert.That(layer.Weights.Count, Is.EqualTo(bias is null ? 1 : 2));
        if (bias is not null)
        {
            Assert.That(layer.Weights[1].Shape, Is.EqualTo(bias));
        }

        using var model = new Model(input, result);
        var x = rand(new long[] { 2 }.Concat(sample.Select(d => (long)d)).ToArray());
        using var expected = einsum(equation, x, layer.Weights[0].Variable);
        using var actual = layer.Invoke(x);
        Assert.That(actual.allclose(bias is null ? expected : expected.add(layer.Weights[1].Variable)), Is.True);
    }

    [Test]
    public void EinsumDense_BadArguments_ThrowBeforeAnything()
    {
        Assert.Throws<ArgumentException>(() => new EinsumDense("ab,bc", new int?[] { 4 }));
        Assert.That(Assert.Throws<ArgumentException>(() => new EinsumDense("ab,bc->ac", new int?[] { 4 }, biasAxes: "x"))!.Message, Does.Contain("'x'"));
        var layer = new EinsumDense("abc,cd->abd", new int?[] { null, 4 });
        var error = Assert.Throws<LayerInputException>(() => layer.Call(new Input(new[] { 5 })))!;
        Assert.That(error.Message, Does.Contain("einsum_dense").And.Contain("(None, 5)"));
        Assert.That(layer.Built, Is.False);
        var mismatch = new EinsumDense("abc,cd->abd", new int?[] { 3, 4 });
        Assert.That(Assert.Throws<LayerInputException>(() => mismatch.Call(new Input(new[] { 5, 2 })))!.Message, Does.Contain("shared dimension 'b'"));
    }

    [Test]
    public void EinsumDense_Config_RefusesLoraAndQuantization()
    {
        var config = new EinsumDense("ab,bc->ac", new int?[] { 4 }, "relu", "c").GetConfig();
        var back = (EinsumDense)FromConfig("EinsumDense", config);
        Assert.That(JsonNode.DeepEquals(back.GetConfig(), config), Is.True, back.GetConfig().ToJsonString());
        Assert.That((back.Equation, back.Activation, back.BiasAxes, back.OutputShape), Is.EqualTo(("ab,bc->ac", "relu", "c", (IReadOnlyList<int?>)new int?[] { 4 })));
        foreach (var (key, value) in new (string, JsonNode)[] { ("lora_rank", 4), ("quantization_config", new JsonObject { ["mode"] = "int8" }) })
        {
            var bad = config.DeepClone().AsObject();
            bad[key] = value;
            Assert.That(Assert.Throws<NotSupportedException>(() => FromConfig("EinsumDense", bad))!.Message, Does.Contain(key));
        }
    }

    [Test]
    public void Correctness_KerasTest_IdentityKernels()
    {
        // multi_head_attention_test.py test_correctness (Keras computes it in float16, hence its 1e-2).
        const int heads = 8, dim = 8;
        var layer = new MultiHeadAttention(heads, dim, returnAttentionScores: true);
        var identity = eye(dim).unsqueeze(0);
        var value = arange(dim * dim, dtype: ScalarType.Float32).reshape(1, dim, dim).div(100.0);
        layer.CallMulti(new Input(new[] { dim, dim }), new Input(new[] { dim, dim }), new Input(new[] { dim, dim }), null);
        var kernel = WeightArray.FromArray(identity.squeeze(0).unsqueeze(1).repeat(1, heads, 1).data<float>().ToNDArray());
        var bias = new WeightArray(new[] { heads, dim }, new float[heads * dim]);
        layer.SetWeights(new[] { kernel, bias, kernel, bias, kernel, bias, kernel, new WeightArray(new[] { dim }, new float[dim]) });
        var outputs = layer.InvokeMulti(identity, value, identity);
        var expected = new[] { 2.406, 2.440, 2.473, 2.504, 2.535, 2.568, 2.602, 2.633 };
        for (var t = 0; t < dim; t++)
        {
            Assert.That(outputs[0][0, t].data<float>().ToArray(), Has.All.EqualTo(expected[t]).Within(1e-2), $"step {t}");
            for (var s = 0; s < dim; s++)
            {
                Assert.That(outputs[1][0, 0, t, s].item<float>(), Is.EqualTo(s == t ? 0.1691 : 0.1187).Within(1e-2));
            }
        }
    }

    private static Layer FromConfig(string className, JsonObject config) =>
        LayerRegistry.Create(new LayerConfig(className, (string)config["name"]!, config.DeepClone().AsObject()));

    [TestCase(false)]
    [TestCase(true)]
    public void Masks_AsKerasTest_EqualTheManualAttentionMask(bool causal)
    {
        // multi_head_attention_test.py test_masking: the query's and value's masks (and the causal mask) give what the
        // equivalent attention mask gives.
        var layer = new MultiHeadAttention(2, 2, useCausalMask: causal, name: "masked_mha");
        var manual = new MultiHeadAttention(2, 2, name: "manual_mha");
        layer.CallMulti(new Input(new[] { 5, 8 }), new Input(new[] { 3, 8 }), null, null);
        manual.CallMulti(new Input(new[] { 5, 8 }), new Input(new[] { 3, 8 }), null, new Input(new[] { 5, 3 }));
        manual.SetWeights(layer.GetWeights());
        var query = randn(3, 5, 8);
        var value = randn(3, 3, 8);
        var queryMask = tensor(new[] { true, true, true, false, false, true, true, true, true, true, true, false, false, false, false }).reshape(3, 5);
        var valueMask = tensor(new[] { true, true, false, true, false, false, true, true, true }).reshape(3, 3);
        var mask = queryMask.unsqueeze(-1).logical_and(valueMask.unsqueeze(-2));
        if (causal)
        {
            mask = mask.logical_and(ones(5, 3, dtype: ScalarType.Bool).tril());
        }

        var automatic = layer.InvokeMulti(query, value, queryMask: queryMask, valueMask: valueMask)[0];
        var explicitMask = manual.InvokeMulti(query, value, attentionMask: mask.to_type(ScalarType.Float32))[0];
        Assert.That(automatic.allclose(explicitMask, 1e-5, 1e-5), Is.True);
    }

    [Test]
    public void FullyMaskedQueryStep_AsKeras316_AveragesWithoutScores_GivesBiasWithScores()
    {
        // Keras 3.16 runs torch's scaled_dot_product_attention (the -1e9 added: a step with nothing to attend to
        // averages every value step) unless it returns the scores or has dropout (masked softmax: zeros there).
        var fast = new MultiHeadAttention(1, 2, name: "fast");
        var slow = new MultiHeadAttention(1, 2, returnAttentionScores: true, name: "slow");
        fast.CallMulti(new Input(new[] { 2, 3 }), new Input(new[] { 4, 3 }), null, null);
        slow.CallMulti(new Input(new[] { 2, 3 }), new Input(new[] { 4, 3 }), null, null);
        slow.SetWeights(fast.GetWeights());
        var query = randn(1, 2, 3);
        var value = randn(1, 4, 3);
        var queryMask = tensor(new[] { true, false }).reshape(1, 2);
        var averaged = fast.InvokeMulti(query, value, queryMask: queryMask)[0];
        var outputs = slow.InvokeMulti(query, value, queryMask: queryMask);
        var outputBias = fast.Weights[^1].Variable;
        Assert.That(outputs[1][0, 0, 1].abs().max().item<float>(), Is.EqualTo(0f), "scores of the masked step");
        Assert.That(outputs[0][0, 1].allclose(outputBias), Is.True, "the masked step's output is the output bias");
        Assert.That(averaged[0, 1].allclose(outputBias), Is.False, "the fast path averages the values there");
        Assert.That(averaged[0, 0].allclose(outputs[0][0, 0], 1e-5, 1e-5), Is.True, "unmasked steps agree");
    }

    [TestCase(new[] { 4, 8 }, new[] { 2, 8 }, new[] { 1, 7 })]
    [TestCase(new[] { 4, 2, 3, 8 }, new[] { 1, 1, 5, 8 }, new[] { 1, 15, 5, 2 })]
    public void ValueAndKeyMismatch_ThrowsNamingTheShapes_BeforeBuilding(int[] query, int[] value, int[] key)
    {
        // multi_head_attention_test.py test_shape_mismatch_error.
        var layer = new MultiHeadAttention(4, 2, 2);
        var error = Assert.Throws<LayerInputException>(() => layer.CallMulti(new Input(query), new Input(value), new Input(key), null))!;
        Assert.That(error.Message, Does.Contain("must be equal").And.Contain("multi_head_attention"));
        Assert.That(layer.Built, Is.False);
        Assert.That(layer.InboundNodes, Is.Empty);
    }

    [Test]
    public void InvalidArguments_AsKeras_AreRefused()
    {
        // multi_head_attention_test.py test_invalid_scalar_args_rejected.
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => new MultiHeadAttention(0, 2))!.Message, Does.Contain("num_heads"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => new MultiHeadAttention(2, -2))!.Message, Does.Contain("key_dim"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => new MultiHeadAttention(2, 2, 0))!.Message, Does.Contain("value_dim"));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MultiHeadAttention(2, 2, dropout: 1.0));
    }

    [Test]
    public void AttentionMask_NotBroadcasting_ThrowsNamingIt()
    {
        var layer = new MultiHeadAttention(2, 2);
        var error = Assert.Throws<LayerInputException>(() => layer.CallMulti(new Input(new[] { 5, 4 }), new Input(new[] { 3, 4 }), null, new Input(new[] { 5, 4 })))!;
        Assert.That(error.Message, Does.Contain("attention mask").And.Contain("(None, 5, 4)"));
        Assert.That(layer.Built, Is.False);
    }

    [Test]
    public void CallsDifferingInKeyOrMask_AreRefused()
    {
        var layer = new MultiHeadAttention(2, 2);
        var q = new Input(new[] { 5, 4 });
        layer.Call(q, q);
        Assert.Throws<NotSupportedException>(() => layer.CallMulti(q, q, q, null));
        Assert.That(layer.InboundNodes, Has.Count.EqualTo(1));
    }

    [Test]
    public void Config_UnsupportedKeras316Options_AreRefusedByName()
    {
        var config = new MultiHeadAttention(2, 3).GetConfig();
        foreach (var (key, value) in new (string, JsonNode)[] { ("use_gate", true), ("sliding_window", 4) })
        {
            var bad = config.DeepClone().AsObject();
            bad[key] = value;
            Assert.That(Assert.Throws<NotSupportedException>(() => FromConfig("MultiHeadAttention", bad))!.Message, Does.Contain(key));
        }
    }
}
