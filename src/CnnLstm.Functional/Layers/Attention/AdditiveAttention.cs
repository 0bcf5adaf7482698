using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving;
using KerasStyle.Saving.Onnx;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Additive (Bahdanau-style) attention, as Keras 3.16's <c>keras.layers.AdditiveAttention</c>
/// (keras/src/layers/attention/additive_attention.py): as <see cref="Attention"/>, with scores
/// <c>sum(scale * tanh(query + key), -1)</c>, where <c>scale</c> is a learned (dim) weight (glorot_uniform) with
/// <c>use_scale</c> (Keras' default true) and 1 without. Inputs <c>[query, value]</c> or <c>[query, value, key]</c>:
/// query (batch, Tq, dim), value (batch, Tv, valueDim), key (batch, Tv, dim); output (batch, Tq, valueDim), masks,
/// dropout, <see cref="Attention.UseCausalMask"/> and <see cref="Attention.ReturnAttentionScores"/> as Attention's.
/// </summary>
[KerasLayer("AdditiveAttention"), Keras3OnlyArgument("seed", null)]
public sealed class AdditiveAttention : Attention
{
    /// <summary>Creates the layer.</summary>
    /// <param name="useScale">Whether a learned (dim) <c>scale</c> weighs the tanh terms (Keras' default true).</param>
    /// <param name="dropout">Fraction of the attention weights dropped while training, in [0, 1) (default 0).</param>
    /// <param name="seed">Keras' dropout seed, kept in the config; the draws come from this library's generator.</param>
    /// <param name="useCausalMask">Keras' call argument: position i attends to no position j &gt; i (default false).</param>
    /// <param name="returnAttentionScores">Keras' call argument: a second output with the attention weights (default false).</param>
    /// <param name="name">Layer name; defaults to <c>additive_attention_N</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dropout"/> is outside [0, 1).</exception>
    public AdditiveAttention(bool useScale = true, double dropout = 0.0, int? seed = null, bool useCausalMask = false, bool returnAttentionScores = false, string? name = null)
        : base(useScale, "dot", dropout, seed, useCausalMask, returnAttentionScores, name, nameof(AdditiveAttention))
    {
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config.Remove("score_mode");
        return config;
    }

    /// <summary>Creates the layer from a Keras 3 or tf.keras 2 config (<c>use_scale</c>, <c>dropout</c>, <c>seed</c>).</summary>
    internal static new AdditiveAttention FromConfig(LayerConfig config)
    {
        config.RequireDefault("causal", false);
        return new AdditiveAttention(config.GetBool("use_scale", true), config.GetDouble("dropout", 0), config.GetNullableInt("seed"), name: config.Name);
    }

    /// <inheritdoc/>
    protected override void Build(IReadOnlyList<KerasTensor> inputs)
    {
        if (UseScale)
        {
            var dim = (long)(inputs[0].Shape[2] ?? throw InputError($"the query's last dimension must be known to build the scale, but the query has shape {inputs[0].Shape}."));
            // Keras' AdditiveAttention: add_weight(initializer="glorot_uniform"), no argument to change it.
            ScaleWeight = AddWeight("scale", new[] { dim }, Initial(new Initializers.GlorotUniform(), new[] { dim }, "scale"));
        }
    }

    private protected override string OnnxScores(OnnxGraph graph, string query, string key)
    {
        var terms = graph.Add("Tanh", Name, new[] { graph.Add("Add", Name, new[] { graph.Unsqueeze(query, Name, 2), graph.Unsqueeze(key, Name, 1) }) });
        if (ScaleWeight is not null)
        {
            terms = graph.Add("Mul", Name, new[] { terms, graph.Weight(ScaleWeight) });
        }

        return graph.Add("ReduceSum", Name, new[] { terms, graph.Int64s(-1) }, OnnxGraph.Attr("keepdims", 0L));
    }

    private protected override Tensor Scores(Tensor query, Tensor key)
    {
        var terms = query.unsqueeze(-2).add(key.unsqueeze(-3), Scalars.IntOne).tanh();
        return (ScaleWeight is null ? terms : terms.mul(ScaleWeight.Variable)).sum(-1);
    }
}
