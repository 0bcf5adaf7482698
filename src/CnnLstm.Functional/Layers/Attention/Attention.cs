using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving;
using KerasStyle.Saving.Onnx;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Dot-product (Luong-style) attention, as Keras 3.16's <c>keras.layers.Attention</c>
/// (keras/src/layers/attention/attention.py). Called on a list <c>[query, value]</c> or <c>[query, value, key]</c>:
/// query (batch, Tq, dim), value (batch, Tv, valueDim), key (batch, Tv, dim) (the value when absent), float32. Scores
/// (batch, Tq, Tv) are <c>query · keyᵀ</c> (<c>score_mode "dot"</c>, times the scalar weight <c>scale</c> with
/// <c>use_scale</c>) or <c>concat_score_weight * sum(tanh(scale * (query + key)), -1)</c> (<c>"concat"</c>); steps
/// where the value's mask (or the causal mask) is false get 1e9 less; the softmax over Tv (dropped out while training)
/// weighs the value: output (batch, Tq, valueDim), zero where the query's mask is false, and the output's mask is the
/// query's. With <see cref="ReturnAttentionScores"/> a second output holds the softmax weights (batch, Tq, Tv).
/// </summary>
/// <remarks>
/// Keras' call arguments <c>use_causal_mask</c> and <c>return_attention_scores</c> are fixed per layer here
/// (<see cref="UseCausalMask"/>, <see cref="ReturnAttentionScores"/>): every call of the layer uses them, and saved
/// models record them in each call's <c>kwargs</c>, as Keras does. Inputs of rank 3 only.
/// </remarks>
[KerasLayer("Attention"), Keras3OnlyArgument("seed", null)]
public class Attention : Layer
{
    private bool useCausalMask;
    private bool returnAttentionScores;

    /// <summary>Creates the layer.</summary>
    /// <param name="useScale">Whether a learned scalar <c>scale</c> (initially 1) multiplies the scores (Keras' default false).</param>
    /// <param name="scoreMode"><c>"dot"</c> (the default) or <c>"concat"</c>, which adds the learned scalar <c>concat_score_weight</c>.</param>
    /// <param name="dropout">Fraction of the attention weights dropped while training, in [0, 1) (default 0).</param>
    /// <param name="seed">Keras' dropout seed, kept in the config; the draws come from this library's generator, as <see cref="Dropout"/>'s.</param>
    /// <param name="useCausalMask">Keras' call argument: position i attends to no position j &gt; i (default false).</param>
    /// <param name="returnAttentionScores">Keras' call argument: a second output with the attention weights (default false).</param>
    /// <param name="name">Layer name; defaults to <c>attention_N</c>.</param>
    /// <exception cref="ArgumentException"><paramref name="scoreMode"/> is neither "dot" nor "concat".</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dropout"/> is outside [0, 1).</exception>
    public Attention(bool useScale = false, string scoreMode = "dot", double dropout = 0.0, int? seed = null, bool useCausalMask = false, bool returnAttentionScores = false, string? name = null)
        : this(useScale, scoreMode, dropout, seed, useCausalMask, returnAttentionScores, name, nameof(Attention))
    {
    }

    private protected Attention(bool useScale, string scoreMode, double dropout, int? seed, bool useCausalMask, bool returnAttentionScores, string? name, string className)
        : base(CheckedName(useScale, scoreMode, dropout, name, className))
    {
        UseScale = useScale;
        ScoreMode = scoreMode;
        Dropout = dropout;
        Seed = seed;
        this.useCausalMask = useCausalMask;
        this.returnAttentionScores = returnAttentionScores;
    }

    private static string? CheckedName(bool useScale, string scoreMode, double dropout, string? name, string className)
    {
        ArgumentNullException.ThrowIfNull(scoreMode);
        if (scoreMode is not ("dot" or "concat"))
        {
            throw new ArgumentException($"{className}: invalid value for argument score_mode. Expected one of {{'dot', 'concat'}}. Received: score_mode={scoreMode}", nameof(scoreMode));
        }

        if (!(dropout >= 0 && dropout < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(dropout), dropout, $"{className}: dropout must be in [0, 1).");
        }

        _ = useScale;
        return name;
    }

    /// <summary>Whether a learned scale multiplies the scores (Keras' <c>use_scale</c>).</summary>
    public bool UseScale { get; }

    /// <summary>How scores are computed: <c>"dot"</c> or <c>"concat"</c> (Keras' <c>score_mode</c>).</summary>
    public string ScoreMode { get; }

    /// <summary>Fraction of the attention weights dropped while training (Keras' <c>dropout</c>).</summary>
    public double Dropout { get; }

    /// <summary>Keras' <c>seed</c>, kept in the config.</summary>
    public int? Seed { get; }

    /// <summary>Whether position i attends to no position j &gt; i (Keras' call argument <c>use_causal_mask</c>).</summary>
    public bool UseCausalMask => useCausalMask;

    /// <summary>Whether the attention weights (batch, Tq, Tv) are a second output (Keras' call argument <c>return_attention_scores</c>).</summary>
    public bool ReturnAttentionScores => returnAttentionScores;

    /// <inheritdoc/>
    public override int OutputCount => returnAttentionScores ? 2 : 1;

    /// <summary>The scale weight, once built with <see cref="UseScale"/>.</summary>
    private protected LayerWeight? ScaleWeight { get; set; }

    private LayerWeight? concatScoreWeight;

    /// <summary>The output's mask is the query's (Keras' <c>compute_mask</c>), on the first output only.</summary>
    public override bool SupportsMasking => true;

    internal override bool UsesMask => true;

    internal override bool[] OutputMasks(IReadOnlyList<bool> inputMasked) =>
        new[] { inputMasked[0] }.Concat(Enumerable.Repeat(false, OutputCount - 1)).ToArray();

    /// <inheritdoc/>
    protected override Tensor? ComputeMask(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?> masks) => masks[0];

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["use_scale"] = UseScale;
        config["score_mode"] = ScoreMode;
        config["dropout"] = Dropout;
        config["seed"] = Seed;
        return config;
    }

    /// <summary>Creates the layer from a Keras 3 or tf.keras 2 config (<c>use_scale</c>, <c>score_mode</c>, <c>dropout</c>, <c>seed</c>).</summary>
    internal static Attention FromConfig(LayerConfig config)
    {
        config.RequireDefault("causal", false);
        return new Attention(config.GetBool("use_scale", false), config.GetString("score_mode", "dot"), config.GetDouble("dropout", 0), config.GetNullableInt("seed"), name: config.Name);
    }

    /// <inheritdoc/>
    internal override JsonObject CallArguments()
    {
        var arguments = new JsonObject();
        if (useCausalMask)
        {
            arguments["use_causal_mask"] = true;
        }

        if (returnAttentionScores)
        {
            arguments["return_attention_scores"] = true;
        }

        return arguments;
    }

    /// <inheritdoc/>
    internal override void ReadCallArguments(IReadOnlyList<KeyValuePair<string, JsonNode?>> arguments, string what)
    {
        var (causal, scores) = (false, false);
        foreach (var (key, value) in arguments)
        {
            if (key is not ("use_causal_mask" or "return_attention_scores"))
            {
                throw new NotSupportedException($"{what}: the call argument '{key}' = {value?.ToJsonString() ?? "null"} is not supported by this library.");
            }

            var flag = value is JsonValue v && v.TryGetValue<bool>(out var b) ? b
                : throw new FormatException($"{what}: the call argument '{key}' must be true or false, got {value?.ToJsonString() ?? "null"}.");
            if (key == "use_causal_mask")
            {
                causal = flag;
            }
            else
            {
                scores = flag;
            }
        }

        if (InboundNodes.Count > 0 && (causal != useCausalMask || scores != returnAttentionScores))
        {
            throw new NotSupportedException($"{what}: its calls differ in use_causal_mask or return_attention_scores; this library fixes them per layer.");
        }

        (useCausalMask, returnAttentionScores) = (causal, scores);
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(IReadOnlyList<KerasTensor> inputs, bool list)
    {
        if (!list || inputs.Count is < 2 or > 3)
        {
            throw InputError($"must be called on a list of 2 or 3 inputs, namely [query, value] or [query, value, key], but got {(list ? $"a list of {inputs.Count}" : "a single tensor")}: {Describe(inputs)}.");
        }

        foreach (var input in inputs)
        {
            if (input.DType != DType.Float32 || input.Shape.Rank != 3)
            {
                throw InputError($"takes float32 inputs of rank 3 (batch, steps, dim), but {input.Label} has shape {input.Shape} and dtype {input.DType.ToKerasName()}; inputs: {Describe(inputs)}.");
            }
        }

        var (query, value) = (inputs[0].Shape, inputs[1].Shape);
        var key = inputs.Count > 2 ? inputs[2].Shape : value;
        if (query[2] is int qd && key[2] is int kd && qd != kd)
        {
            throw InputError($"the query's last dimension ({qd}) must equal the key's ({kd}); inputs: {Describe(inputs)}.");
        }

        if (value[1] is int vt && key[1] is int kt && vt != kt)
        {
            throw InputError($"the value and the key must have the same number of steps ({vt} and {kt}); inputs: {Describe(inputs)}.");
        }

        var output = (Shape.WithBatch(new[] { query[1], value[2] }), DType.Float32);
        return returnAttentionScores
            ? new[] { output, (Shape.WithBatch(new[] { query[1], key[1] }), DType.Float32) }
            : new[] { output };
    }

    /// <inheritdoc/>
    protected override void Build(IReadOnlyList<KerasTensor> inputs)
    {
        if (UseScale)
        {
            ScaleWeight = AddWeight("scale", Array.Empty<long>(), () => ones(Array.Empty<long>()));
        }

        if (ScoreMode == "concat")
        {
            concatScoreWeight = AddWeight("concat_score_weight", Array.Empty<long>(), () => ones(Array.Empty<long>()));
        }
    }

    /// <summary>The scores (batch, Tq, Tv) of query (batch, Tq, dim) and key (batch, Tv, dim).</summary>
    private protected virtual Tensor Scores(Tensor query, Tensor key)
    {
        if (ScoreMode == "dot")
        {
            var scores = query.matmul(key.transpose(-2, -1));
            return ScaleWeight is null ? scores : scores.mul(ScaleWeight.Variable);
        }

        var sum = query.unsqueeze(-2).add(key.unsqueeze(-3), Scalars.IntOne);
        if (ScaleWeight is not null)
        {
            sum = sum.mul(ScaleWeight.Variable);
        }

        return sum.tanh().sum(-1).mul(concatScoreWeight!.Variable);
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<Tensor> Call(IReadOnlyList<Tensor> inputs, bool training, IReadOnlyList<Tensor?> masks)
    {
        var (query, value) = (inputs[0], inputs[1]);
        var key = inputs.Count > 2 ? inputs[2] : value;
        var scores = Scores(query, key);
        var scoresMask = masks.Count > 1 && masks[1] is { } valueMask ? valueMask.to_type(ScalarType.Bool).unsqueeze(-2) : null;
        if (useCausalMask)
        {
            var causal = ones(scores.shape[^2], scores.shape[^1], dtype: ScalarType.Bool).tril().unsqueeze(0);
            scoresMask = scoresMask is null ? causal : scoresMask.logical_and(causal);
        }

        if (scoresMask is not null)
        {
            scores = where(scoresMask, scores, scores.sub(Scalars.Of(1e9)));
        }

        var weights = scores.softmax(-1);
        if (training && Dropout > 0)
        {
            weights = DropoutMask.Apply(weights.contiguous(), Dropout, RandomStreams.NextSeed(Random));
        }

        var output = weights.matmul(value);
        if (masks[0] is { } queryMask)
        {
            output = where(queryMask.to_type(ScalarType.Bool).unsqueeze(-1), output, zeros_like(output));
        }

        return returnAttentionScores ? new[] { output, weights } : new[] { output };
    }

    /// <summary>The ONNX form of <see cref="Scores"/> over the query and key values.</summary>
    private protected virtual string OnnxScores(OnnxGraph graph, string query, string key)
    {
        if (ScoreMode == "dot")
        {
            var scores = graph.Add("MatMul", Name, new[] { query, graph.Transpose(key, Name, 0, 2, 1) });
            return ScaleWeight is null ? scores : graph.Add("Mul", Name, new[] { scores, graph.Weight(ScaleWeight) });
        }

        var sum = graph.Add("Add", Name, new[] { graph.Unsqueeze(query, Name, 2), graph.Unsqueeze(key, Name, 1) });
        if (ScaleWeight is not null)
        {
            sum = graph.Add("Mul", Name, new[] { sum, graph.Weight(ScaleWeight) });
        }

        var reduced = graph.Add("ReduceSum", Name, new[] { graph.Add("Tanh", Name, new[] { sum }), graph.Int64s(-1) }, OnnxGraph.Attr("keepdims", 0L));
        return graph.Add("Mul", Name, new[] { reduced, graph.Weight(concatScoreWeight!) });
    }

    /// <summary>
    /// ONNX: as <see cref="Call(IReadOnlyList{Tensor}, bool, IReadOnlyList{Tensor})"/> in inference: the scores, the
    /// value's mask (and the causal mask, a constant, which needs known Tq and Tv) applied with Where, Softmax over
    /// Tv, a MatMul with the value, and zeros where the query's mask is false; the weights are the second output.
    /// </summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call)
    {
        var (query, value) = (call.Inputs[0], call.Inputs[1]);
        var key = call.Inputs.Count > 2 ? call.Inputs[2] : value;
        var scores = OnnxScores(graph, query.Name, key.Name);
        var mask = value.Mask is { } valueMask ? graph.Unsqueeze(valueMask, Name, 1) : null;
        if (useCausalMask)
        {
            if (query.Shape[1] is not int tq || key.Shape[1] is not int tv)
            {
                throw OnnxGraph.Unsupported(this, $"needs known query and key lengths for its causal mask, but the query has shape {query.Shape} and the key {key.Shape}.");
            }

            var lower = Enumerable.Range(0, tq).SelectMany(i => Enumerable.Range(0, tv).Select(j => j <= i ? 1f : 0f)).ToArray();
            var causal = graph.Add("Cast", Name, new[] { graph.Floats($"{Name}/causal", lower, 1, tq, tv) }, OnnxGraph.Attr("to", (long)OnnxGraph.Bool));
            mask = mask is null ? causal : graph.Add("And", Name, new[] { mask, causal });
        }

        if (mask is not null)
        {
            scores = graph.Add("Where", Name, new[] { mask, scores, graph.Add("Sub", Name, new[] { scores, graph.Scalar(1e9f) }) });
        }

        var weights = graph.Add("Softmax", Name, new[] { scores }, OnnxGraph.Attr("axis", -1L));
        var output = graph.Add("MatMul", Name, new[] { weights, value.Name });
        if (query.Mask is { } queryMask)
        {
            output = graph.Add("Where", Name, new[] { graph.Unsqueeze(queryMask, Name, 2), output, graph.Scalar(0f) });
        }

        return returnAttentionScores ? new[] { output, weights } : new[] { output };
    }
}
