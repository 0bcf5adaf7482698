using System.Globalization;
using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving;
using KerasStyle.Saving.Onnx;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Multi-head (scaled dot-product) attention, as Keras 3.16's <c>keras.layers.MultiHeadAttention</c>
/// (keras/src/layers/attention/multi_head_attention.py). Called on query (batch, Tq, dim), value (batch, Tv, vdim)
/// and optionally key (batch, Tv, kdim) (the value when absent) and an attention mask (batch, Tq, Tv) (1/true where a
/// query step may attend to a key step): four <see cref="EinsumDense"/> sublayers project the query and key to
/// (batch, T, numHeads, keyDim) and the value to (batch, Tv, numHeads, valueDim); the scores (batch, numHeads, Tq, Tv)
/// are <c>(query / sqrt(keyDim)) · key</c>, the softmax over Tv (dropped out while training) weighs the value, and the
/// <c>attention_output</c> projection gives (batch, Tq, <see cref="OutputShape"/> or dim). Inputs of higher rank
/// attend over <see cref="AttentionAxes"/> (all axes but the batch and the last by default). With
/// <see cref="ReturnAttentionScores"/> a second output holds the scores (batch, numHeads, Tq..., Tv...).
/// </summary>
/// <remarks>
/// <para>Masks, as Keras: the query's mask (batch, Tq), the value's and the key's (batch, Tv) (from an Embedding with
/// mask_zero, or Masking) and the causal mask are combined with AND into the attention mask; the output's mask is
/// the query's. Where the mask is false a score gets -1e9. Keras 3.16 computes two ways: with no dropout, no returned
/// scores and rank-3 inputs it runs torch's scaled_dot_product_attention (the -1e9 added, so a query step with no key
/// to attend to averages all value steps); otherwise its masked softmax (the -1e9 in place, and such rows give 0).
/// This layer computes each case as Keras 3.16 does; a layer read from a tf.keras 2 file always adds the -1e9 (its
/// Softmax did).</para>
/// <para>Keras' call arguments <c>use_causal_mask</c> and <c>return_attention_scores</c>, and whether a key and an
/// attention mask are given, are fixed per layer here: every call of the layer uses them, and saved models record
/// them in each call, as Keras does. Weights, in Keras order: <c>query/kernel</c> (dim, heads, keyDim),
/// <c>query/bias</c> (heads, keyDim), the same for <c>key</c> and <c>value</c> (valueDim), then
/// <c>attention_output/kernel</c> (heads, valueDim, out) and <c>attention_output/bias</c> (out); Keras 3 files keep
/// them under <c>query_dense/vars</c>, <c>key_dense/vars</c>, <c>value_dense/vars</c> and <c>output_dense/vars</c>
/// (tf.keras 2.13-2.15 .keras files: <c>_query_dense/vars</c>, ...). Keras 3.16's <c>use_gate</c>,
/// <c>sliding_window</c> and <c>flash_attention</c> are not supported (refused in files unless at their defaults).</para>
/// </remarks>
[KerasLayer("MultiHeadAttention"), Keras3OnlyArgument("use_gate", false), Keras3OnlyArgument("sliding_window", null), Keras3OnlyArgument("seed", null)]
public sealed class MultiHeadAttention : Layer
{
    private static readonly string[] TensorNames = { "query", "value", "key", "attention_mask" };
    private static readonly (string Attribute, string Name)[] Sublayers = { ("query_dense", "query"), ("key_dense", "key"), ("value_dense", "value"), ("output_dense", "attention_output") };

    private bool useCausalMask;
    private bool returnAttentionScores;
    private bool hasKey;
    private bool hasAttentionMask;
    private (bool Key, bool Mask)? pendingKinds;
    private int[]? attentionAxes;
    private EinsumDense? queryDense;
    private EinsumDense? keyDense;
    private EinsumDense? valueDense;
    private EinsumDense? outputDense;
    private string? dotProductEquation;
    private string? combineEquation;
    private Shape[]? builtShapes;

    /// <summary>Creates the layer.</summary>
    /// <param name="numHeads">Number of attention heads (positive).</param>
    /// <param name="keyDim">Size of each head for the query and key (positive).</param>
    /// <param name="valueDim">Size of each head for the value (positive); null for <paramref name="keyDim"/>.</param>
    /// <param name="dropout">Fraction of the attention scores dropped while training, in [0, 1) (default 0).</param>
    /// <param name="useBias">Whether the four projections have biases (default true).</param>
    /// <param name="outputShape">The output's sizes after the batch and query axes; null (the default) for the query's last dimension.</param>
    /// <param name="attentionAxes">The axes attention runs over (after the batch axis, negative counting from the
    /// end of the projected (batch, ..., heads, dim) tensors); null (the default) for all but the batch and the last.</param>
    /// <param name="seed">Keras' dropout seed, kept in the config; the draws come from this library's generator.</param>
    /// <param name="useCausalMask">Keras' call argument: query step i attends to no key step j &gt; i (default false).</param>
    /// <param name="returnAttentionScores">Keras' call argument: a second output with the scores (default false).</param>
    /// <param name="name">Layer name; defaults to <c>multi_head_attention_N</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive, or <paramref name="dropout"/> is outside [0, 1).</exception>
    public MultiHeadAttention(int numHeads, int keyDim, int? valueDim = null, double dropout = 0.0, bool useBias = true, IReadOnlyList<int>? outputShape = null, IReadOnlyList<int>? attentionAxes = null, int? seed = null, bool useCausalMask = false, bool returnAttentionScores = false, string? name = null)
        : base(CheckedName(numHeads, keyDim, valueDim, dropout, outputShape, name))
    {
        NumHeads = numHeads;
        KeyDim = keyDim;
        ValueDim = valueDim ?? keyDim;
        Dropout = dropout;
        UseBias = useBias;
        OutputShape = outputShape is { Count: > 0 } ? outputShape.ToArray() : null;
        AttentionAxes = attentionAxes?.ToArray();
        Seed = seed;
        this.useCausalMask = useCausalMask;
        this.returnAttentionScores = returnAttentionScores;
    }

    private static string? CheckedName(int numHeads, int keyDim, int? valueDim, double dropout, IReadOnlyList<int>? outputShape, string? name)
    {
        if (numHeads <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(numHeads), numHeads, $"MultiHeadAttention: received an invalid value for argument num_heads, expected a positive integer. Received: num_heads={numHeads}");
        }

        if (keyDim <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(keyDim), keyDim, $"MultiHeadAttention: received an invalid value for argument key_dim, expected a positive integer. Received: key_dim={keyDim}");
        }

        if (valueDim is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(valueDim), valueDim, $"MultiHeadAttention: received an invalid value for argument value_dim, expected a positive integer or null. Received: value_dim={valueDim}");
        }

        if (!(dropout >= 0 && dropout < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "MultiHeadAttention: dropout must be in [0, 1).");
        }

        if (outputShape is not null && outputShape.Any(d => d <= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(outputShape), $"MultiHeadAttention: output_shape sizes must be positive, got ({string.Join(", ", outputShape)}).");
        }

        return name;
    }

    /// <summary>Number of attention heads (Keras' <c>num_heads</c>).</summary>
    public int NumHeads { get; }

    /// <summary>Size of each head for the query and key (Keras' <c>key_dim</c>).</summary>
    public int KeyDim { get; }

    /// <summary>Size of each head for the value (Keras' <c>value_dim</c>).</summary>
    public int ValueDim { get; }

    /// <summary>Fraction of the attention scores dropped while training (Keras' <c>dropout</c>).</summary>
    public double Dropout { get; }

    /// <summary>Whether the projections have biases (Keras' <c>use_bias</c>).</summary>
    public bool UseBias { get; }

    /// <summary>The output's sizes after the batch and query axes, or null for the query's last dimension (Keras' <c>output_shape</c>).</summary>
    public IReadOnlyList<int>? OutputShape { get; }

    /// <summary>The attention axes as given (Keras' <c>attention_axes</c>); once built, as Keras, the resolved ones.</summary>
    public IReadOnlyList<int>? AttentionAxes { get; private set; }

    /// <summary>Keras' <c>seed</c>, kept in the config.</summary>
    public int? Seed { get; }

    /// <summary>
    /// The projections' kernel initializer (Keras' <c>kernel_initializer</c>, default
    /// <see cref="Initializers.GlorotUniform"/>), given to each of the four EinsumDense projections (as Keras' clones:
    /// a seeded one gives projections of equal shapes equal kernels, as in Keras).
    /// </summary>
    public Initializers.Initializer KernelInitializer { get; init; } = new Initializers.GlorotUniform();

    /// <summary>The projections' bias initializer (Keras' <c>bias_initializer</c>, default <see cref="Initializers.Zeros"/>).</summary>
    public Initializers.Initializer BiasInitializer { get; init; } = new Initializers.Zeros();

    /// <summary>The kernels' penalty (Keras' <c>kernel_regularizer</c>, default null), applied to each projection's kernel.</summary>
    public Regularizers.Regularizer? KernelRegularizer { get; init; }

    /// <summary>The biases' penalty (Keras' <c>bias_regularizer</c>, default null).</summary>
    public Regularizers.Regularizer? BiasRegularizer { get; init; }

    /// <summary>The kernels' projection after each optimizer update (Keras' <c>kernel_constraint</c>, default null), given to each projection (query, key, value, attention_output) as Keras does: <c>new MultiHeadAttention(2, 4) { KernelConstraint = new MaxNorm(1) }</c>.</summary>
    public Constraints.Constraint? KernelConstraint { get; init; }

    /// <summary>The biases' projection after each optimizer update (Keras' <c>bias_constraint</c>, default null), given to each projection.</summary>
    public Constraints.Constraint? BiasConstraint { get; init; }

    /// <summary>Whether query step i attends to no key step j &gt; i (Keras' call argument <c>use_causal_mask</c>).</summary>
    public bool UseCausalMask => useCausalMask;

    /// <summary>Whether the scores are a second output (Keras' call argument <c>return_attention_scores</c>).</summary>
    public bool ReturnAttentionScores => returnAttentionScores;

    /// <summary>Whether the layer computes as tf.keras 2 did (read from a tf.keras 2 file): the -1e9 of masked scores is always added.</summary>
    internal bool TfKeras2Maths { get; private init; }

    /// <inheritdoc/>
    public override int OutputCount => returnAttentionScores ? 2 : 1;

    /// <summary>The output's mask is the query's (Keras sets it in <c>call</c>), on the first output only.</summary>
    public override bool SupportsMasking => true;

    internal override bool UsesMask => true;

    internal override bool[] OutputMasks(IReadOnlyList<bool> inputMasked) =>
        new[] { inputMasked[0] }.Concat(Enumerable.Repeat(false, OutputCount - 1)).ToArray();

    /// <inheritdoc/>
    protected override Tensor? ComputeMask(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?> masks) => masks[0];

    /// <summary>Calls the layer on symbolic tensors, as Keras' <c>layer(query, value, key=..., attention_mask=...)</c>.</summary>
    /// <param name="query">(batch, Tq, dim), or higher rank.</param>
    /// <param name="value">(batch, Tv, vdim).</param>
    /// <param name="key">(batch, Tv, kdim), or null to use the value.</param>
    /// <param name="attentionMask">(batch, Tq, Tv): nonzero where a query step may attend to a key step; or null.</param>
    /// <returns>The output (batch, Tq, out), and with <see cref="ReturnAttentionScores"/> the scores (batch, heads, Tq, Tv).</returns>
    /// <exception cref="LayerInputException">The shapes do not fit (the message names the layer and every input).</exception>
    /// <exception cref="NotSupportedException">An earlier call gave a key or an attention mask and this one does not, or the other way round.</exception>
    public IReadOnlyList<KerasTensor> CallMulti(KerasTensor query, KerasTensor value, KerasTensor? key, KerasTensor? attentionMask)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(value);
        var inputs = new[] { query, value, key, attentionMask }.OfType<KerasTensor>().ToArray();
        pendingKinds = (key is not null, attentionMask is not null);
        try
        {
            return CallMulti(inputs);
        }
        finally
        {
            pendingKinds = null;
        }
    }

    /// <summary>As <see cref="CallMulti(KerasTensor, KerasTensor, KerasTensor?, KerasTensor?)"/>, returning the single output.</summary>
    /// <exception cref="InvalidOperationException">The layer returns the scores too (use CallMulti).</exception>
    public KerasTensor Call(KerasTensor query, KerasTensor value, KerasTensor? key = null, KerasTensor? attentionMask = null) =>
        returnAttentionScores
            ? throw new InvalidOperationException($"{ClassName} '{Name}' returns 2 tensors for this call; use CallMulti to get all of them.")
            : CallMulti(query, value, key, attentionMask)[0];

    /// <summary>Calls the layer on data (eager), as <see cref="CallMulti(KerasTensor, KerasTensor, KerasTensor?, KerasTensor?)"/> on symbolic tensors.</summary>
    /// <param name="query">(batch, Tq, dim).</param>
    /// <param name="value">(batch, Tv, vdim).</param>
    /// <param name="key">(batch, Tv, kdim), or null.</param>
    /// <param name="attentionMask">(batch, Tq, Tv), nonzero where attention is allowed, or null.</param>
    /// <param name="training">Whether dropout applies.</param>
    /// <param name="queryMask">The query's mask (batch, Tq), or null.</param>
    /// <param name="valueMask">The value's mask (batch, Tv), or null.</param>
    /// <returns>The outputs (new tensors the caller owns).</returns>
    public IReadOnlyList<Tensor> InvokeMulti(Tensor query, Tensor value, Tensor? key = null, Tensor? attentionMask = null, bool training = false, Tensor? queryMask = null, Tensor? valueMask = null)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(value);
        var inputs = new[] { query, value, key, attentionMask }.OfType<Tensor>().ToArray();
        var masks = new Tensor?[inputs.Length];
        (masks[0], masks[1]) = (queryMask, valueMask);
        pendingKinds = (key is not null, attentionMask is not null);
        try
        {
            return InvokeMulti(inputs, training, masks);
        }
        finally
        {
            pendingKinds = null;
        }
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["num_heads"] = NumHeads;
        config["key_dim"] = KeyDim;
        config["value_dim"] = ValueDim;
        config["dropout"] = Dropout;
        config["use_bias"] = UseBias;
        config["use_gate"] = false;
        config["output_shape"] = OutputShape is null ? null : new JsonArray(OutputShape.Select(d => (JsonNode)d).ToArray());
        config["attention_axes"] = AttentionAxes is null ? null : new JsonArray(AttentionAxes.Select(d => (JsonNode)d).ToArray());
        config["sliding_window"] = null;
        AddKernelAndBiasConfig(config, KernelInitializer, BiasInitializer, KernelRegularizer, BiasRegularizer, kernelConstraint: KernelConstraint, biasConstraint: BiasConstraint);
        config["seed"] = Seed;
        return config;
    }

    /// <summary>
    /// Creates the layer from a Keras 3 or tf.keras 2 config. tf.keras 2's <c>query_shape</c>, <c>value_shape</c>
    /// and <c>key_shape</c> (the shapes it was built for) are checked against the first call.
    /// </summary>
    internal static MultiHeadAttention FromConfig(LayerConfig config)
    {
        var (regularizers, constraints) = ReadKernelAndBiasConfigWithConstraints(config);
        config.RequireDefault("use_gate", false);
        config.RequireDefault("sliding_window", null);
        config.RequireDefault("flash_attention", null);
        int[]? Ints(string key) => config.GetRaw(key) switch
        {
            null => null,
            JsonValue v when v.TryGetValue<int>(out var n) => new[] { n },
            JsonArray { Count: 0 } => null,
            JsonArray => config.GetIntList(key),
            var other => throw config.Error($"'{key}' must be an integer, a list of integers or null, got {other.ToJsonString()}."),
        };
        var shapes = new[] { "query_shape", "value_shape", "key_shape" }.Select(k => config.GetRaw(k) is JsonArray a ? new Shape(a.Select(d => d is JsonValue v && v.TryGetValue<int>(out var n) ? n : (int?)null).ToArray()) : null).ToArray();
        config.Ignore("query_shape", "value_shape", "key_shape");
        return new MultiHeadAttention(config.GetInt("num_heads"), config.GetInt("key_dim"), config.GetNullableInt("value_dim"), config.GetDouble("dropout", 0), config.GetBool("use_bias", true), Ints("output_shape"), Ints("attention_axes"), config.GetNullableInt("seed"), name: config.Name)
        {
            KernelInitializer = config.GetInitializer("kernel_initializer", new Initializers.GlorotUniform()),
            BiasInitializer = config.GetInitializer("bias_initializer", new Initializers.Zeros()),
            KernelRegularizer = regularizers.Kernel,
            BiasRegularizer = regularizers.Bias,
            KernelConstraint = constraints.Kernel,
            BiasConstraint = constraints.Bias,
            TfKeras2Maths = config.Keras2,
            fileShapes = shapes,
        };
    }

    private Shape?[]? fileShapes;

    /// <inheritdoc/>
    internal override JsonObject CallArguments()
    {
        var arguments = new JsonObject();
        if (returnAttentionScores)
        {
            arguments["return_attention_scores"] = true;
        }

        if (useCausalMask)
        {
            arguments["use_causal_mask"] = true;
        }

        return arguments;
    }

    /// <inheritdoc/>
    internal override void ReadCallArguments(IReadOnlyList<KeyValuePair<string, JsonNode?>> arguments, string what)
    {
        var (causal, scores) = (false, false);
        foreach (var (key, value) in arguments)
        {
            if (key is "query_mask" or "value_mask" or "key_mask" && value is null)
            {
                continue;
            }

            if (key is not ("use_causal_mask" or "return_attention_scores"))
            {
                throw new NotSupportedException($"{what}: the call argument '{key}' = {value?.ToJsonString() ?? "null"} is not supported by this library.");
            }

            var flag = value is JsonValue v && v.TryGetValue<bool>(out var b) ? b
                : throw new FormatException($"{what}: the call argument '{key}' must be true or false, got {value?.ToJsonString() ?? "null"}.");
            (causal, scores) = key == "use_causal_mask" ? (flag, scores) : (causal, flag);
        }

        if (InboundNodes.Count > 0 && (causal != useCausalMask || scores != returnAttentionScores))
        {
            throw new NotSupportedException($"{what}: its calls differ in use_causal_mask or return_attention_scores; this library fixes them per layer.");
        }

        (useCausalMask, returnAttentionScores) = (causal, scores);
    }

    /// <summary>Keras' tensor arguments of <c>call</c>, in order: query, value, key, attention_mask.</summary>
    internal override IReadOnlyList<string>? TensorArgumentNames => TensorNames;

    /// <inheritdoc/>
    internal override void ExpectTensorArguments(IReadOnlyList<string> present, string what)
    {
        if (!present.Contains("query") || !present.Contains("value"))
        {
            throw new FormatException($"{what}: a call must give the query and the value, but gives {string.Join(", ", present)}.");
        }

        pendingKinds = (present.Contains("key"), present.Contains("attention_mask"));
    }

    /// <inheritdoc/>
    internal override IReadOnlyList<string>? NodeTensorNames(Node node) =>
        TensorNames.Where(n => n is "query" or "value" || (n == "key" && hasKey) || (n == "attention_mask" && hasAttentionMask)).ToArray();

    /// <inheritdoc/>
    internal override JsonObject? BuildConfigOf(Node node, Func<Shape, JsonNode> shapeJson)
    {
        var shapes = new JsonObject { ["query_shape"] = shapeJson(node.Inputs[0].Shape), ["value_shape"] = shapeJson(node.Inputs[1].Shape) };
        if (hasKey)
        {
            shapes["key_shape"] = shapeJson(node.Inputs[2].Shape);
        }

        return new JsonObject { ["shapes_dict"] = shapes };
    }

    /// <summary>The groups of Keras 3.16's weights file: the projections under <c>query_dense/vars</c>, ..., and the empty softmax and dropout groups.</summary>
    internal override IEnumerable<(string Path, IReadOnlyList<LayerWeight> Weights)> KerasVarGroups
    {
        get
        {
            yield return ("vars", Array.Empty<LayerWeight>());
            yield return ("_dropout_layer/vars", Array.Empty<LayerWeight>());
            yield return ("_softmax/vars", Array.Empty<LayerWeight>());
            var dense = new[] { queryDense, keyDense, valueDense, outputDense };
            for (var i = 0; i < Sublayers.Length; i++)
            {
                yield return ($"{Sublayers[i].Attribute}/vars", dense[i]?.Weights ?? (IReadOnlyList<LayerWeight>)Array.Empty<LayerWeight>());
            }
        }
    }

    /// <summary>tf.keras 2.13-2.15 wrote the projections under <c>_query_dense/vars</c>, ... in .keras files.</summary>
    internal override string? LegacyVarsPath(string varsPath) =>
        Sublayers.Any(s => varsPath == $"{s.Attribute}/vars") ? "_" + varsPath : null;

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(IReadOnlyList<KerasTensor> inputs, bool list)
    {
        // A list without names is [query, value(, key)] unless an earlier call of this layer gave an attention mask.
        var (withKey, withMask) = pendingKinds
            ?? (inputs.Count == 2 + (hasKey ? 1 : 0) + (hasAttentionMask ? 1 : 0) ? (hasKey, hasAttentionMask) : (inputs.Count >= 3, inputs.Count >= 4));
        if (!list || inputs.Count != 2 + (withKey ? 1 : 0) + (withMask ? 1 : 0) || inputs.Count > 4)
        {
            throw InputError($"must be called on [query, value], [query, value, key] or, with CallMulti(query, value, key, attentionMask), an attention mask too, but got {(list ? $"a list of {inputs.Count}" : "a single tensor")}: {Describe(inputs)}.");
        }

        if ((Built || InboundNodes.Count > 0) && (withKey, withMask) != (hasKey, hasAttentionMask))
        {
            throw new NotSupportedException($"{ClassName} '{Name}': it was called {(hasKey ? "with" : "without")} a key and {(hasAttentionMask ? "with" : "without")} an attention mask, and this call {(withKey ? "gives" : "gives no")} key and {(withMask ? "an" : "no")} attention mask; this library fixes them per layer.");
        }

        var query = inputs[0];
        var value = inputs[1];
        var key = withKey ? inputs[2] : value;
        foreach (var t in withKey ? new[] { query, value, key } : new[] { query, value })
        {
            if (t.DType != DType.Float32)
            {
                throw InputError($"takes float32 query, value and key, but {t.Label} has dtype {t.DType.ToKerasName()}; inputs: {Describe(inputs)}.");
            }
        }

        var rank = query.Shape.Rank;
        if (rank < 3 || value.Shape.Rank != rank || key.Shape.Rank != rank)
        {
            throw InputError($"the query, value and key must have one rank of 3 or more (batch, steps..., dim); inputs: {Describe(inputs)}.");
        }

        for (var i = 1; i < rank - 1; i++)
        {
            if (value.Shape[i] is int a && key.Shape[i] is int b && a != b)
            {
                throw InputError($"all dimensions of the value and the key, except the last one, must be equal; inputs: {Describe(inputs)}.");
            }
        }

        foreach (var t in withKey ? new[] { query, value, key } : new[] { query, value })
        {
            if (t.Shape.Last is null)
            {
                throw InputError($"the last dimension of {t.Label} ({t.Shape}) must be known; inputs: {Describe(inputs)}.");
            }
        }

        var axes = ResolveAxes(rank + 1, inputs);
        if (builtShapes is not null)
        {
            var now = withKey ? new[] { query.Shape, value.Shape, key.Shape } : new[] { query.Shape, value.Shape };
            if (now.Zip(builtShapes).Any(p => p.First.Last != p.Second.Last))
            {
                throw InputError($"it was built for last dimensions {string.Join(", ", builtShapes.Select(s => s.Last))} (query, value{(withKey ? ", key" : "")}), but got {Describe(inputs)}.");
            }
        }

        if (fileShapes is not null)
        {
            var now = new[] { query.Shape, value.Shape, key.Shape };
            for (var i = 0; i < 3; i++)
            {
                if (fileShapes[i] is { } stored && (stored.Rank != now[i].Rank || stored.Zip(now[i]).Any(p => p.First is int s && p.Second is int n && s != n)))
                {
                    throw InputError($"its config says it was built for {new[] { "query_shape", "value_shape", "key_shape" }[i]} {stored}, but it is called on {Describe(inputs)}.");
                }
            }
        }

        // Scores: (batch, other axes..., heads, query attention axes..., key attention axes...).
        var projectedQuery = query.Shape.Take(rank - 1).Append(NumHeads).Append(KeyDim).ToArray();
        var projectedValue = value.Shape.Take(rank - 1).Append(NumHeads).Append(ValueDim).ToArray();
        var batchDims = Enumerable.Range(0, rank).Where(i => !axes.Contains(i)).ToArray();
        var scores = batchDims.Select(i => projectedQuery[i]).Concat(axes.Select(i => projectedQuery[i])).Concat(axes.Select(i => projectedValue[i])).ToArray();
        if (withMask)
        {
            var mask = inputs[^1];
            // The mask lines up with the scores without the heads axis, from the right.
            var target = scores.Where((_, i) => i != batchDims.Length - 1).ToArray();
            if (mask.Shape.Rank > target.Length || mask.Shape.Reverse().Zip(target.Reverse()).Any(p => p.First is int m && p.Second is int t && m != 1 && m != t))
            {
                throw InputError($"the attention mask {mask.Label} with shape {mask.Shape} does not broadcast to the query and key steps ({string.Join(", ", target.Select(d => d?.ToString(CultureInfo.InvariantCulture) ?? "None"))}); inputs: {Describe(inputs)}.");
            }
        }

        var output = new Shape(query.Shape.Take(rank - 1).Concat(OutputShape?.Select(d => (int?)d) ?? new[] { query.Shape.Last }).ToArray());
        (hasKey, hasAttentionMask) = (withKey, withMask);
        pendingKinds = null;
        return returnAttentionScores
            ? new[] { (output, DType.Float32), (new Shape(scores), DType.Float32) }
            : new[] { (output, DType.Float32) };
    }

    /// <summary>Keras' <c>_build_attention</c>: the attention axes of the projected tensors (of rank <paramref name="rank"/>).</summary>
    private int[] ResolveAxes(int rank, IReadOnlyList<KerasTensor> inputs)
    {
        var axes = AttentionAxes is null ? Enumerable.Range(1, rank - 3).ToArray() : AttentionAxes.Select(a => a >= 0 ? a : rank - 1 + a).ToArray();
        if (axes.Length == 0 || axes.Any(a => a < 1 || a >= rank - 1) || axes.Distinct().Count() != axes.Length)
        {
            throw InputError($"attention_axes ({string.Join(", ", AttentionAxes ?? Array.Empty<int>())}) must be distinct axes between 1 and {rank - 2} of the projected (batch, ..., heads, dim) tensors; inputs: {Describe(inputs)}.");
        }

        return axes;
    }

    /// <summary>Keras' <c>_build_proj_equation</c>.</summary>
    private static (string Equation, string BiasAxes, int OutputRank) ProjectionEquation(int freeDims, int boundDims, int outputDims)
    {
        static char Letter(int i) => (char)('a' + i);
        string input = string.Empty, kernel = string.Empty, output = string.Empty, bias = string.Empty;
        for (var i = 0; i < freeDims; i++)
        {
            input += Letter(i);
            output += Letter(i);
        }

        for (var i = 0; i < boundDims; i++)
        {
            input += Letter(freeDims + i);
            kernel += Letter(freeDims + i);
        }

        for (var i = 0; i < outputDims; i++)
        {
            var c = Letter(freeDims + boundDims + i);
            kernel += c;
            output += c;
            bias += c;
        }

        return ($"{input},{kernel}->{output}", bias, output.Length);
    }

    /// <summary>Keras' <c>_build_attention_equation</c>: the key-query product and the combination with the value.</summary>
    private static (string DotProduct, string Combine) AttentionEquations(int rank, int[] axes)
    {
        static char Letter(int i) => (char)('a' + i);
        var target = new string(Enumerable.Range(0, rank).Select(Letter).ToArray());
        var batchDims = Enumerable.Range(0, rank).Where(i => !axes.Contains(i) && i != rank - 1).ToArray();
        var offset = rank;
        var source = string.Empty;
        for (var i = 0; i < rank; i++)
        {
            source += batchDims.Contains(i) || i == rank - 1 ? target[i] : Letter(offset++);
        }

        var product = new string(batchDims.Select(i => target[i]).Concat(axes.Select(i => target[i])).Concat(axes.Select(i => source[i])).ToArray());
        return ($"{source},{target}->{product}", $"{product},{source}->{target}");
    }

    private static int?[] Unknown(int count, IEnumerable<int> last) => Enumerable.Repeat<int?>(null, count).Concat(last.Select(d => (int?)d)).ToArray();

    /// <inheritdoc/>
    protected override void Build(IReadOnlyList<KerasTensor> inputs)
    {
        var query = inputs[0].Shape;
        var value = inputs[1].Shape;
        var key = hasKey ? inputs[2].Shape : value;
        var rank = query.Rank;
        EinsumDense Projection(int outputLast, string name)
        {
            var (equation, bias, outputRank) = ProjectionEquation(rank - 1, 1, 2);
            return new EinsumDense(equation, Unknown(outputRank - 1 - 2, new[] { NumHeads, outputLast }), biasAxes: UseBias ? bias : null, name: name)
            {
                KernelInitializer = KernelInitializer,
                BiasInitializer = BiasInitializer,
                KernelRegularizer = KernelRegularizer,
                BiasRegularizer = BiasRegularizer,
                KernelConstraint = KernelConstraint,
                BiasConstraint = BiasConstraint,
            };
        }

        queryDense = Projection(KeyDim, "query");
        keyDense = Projection(KeyDim, "key");
        valueDense = Projection(ValueDim, "value");
        var outputLast = OutputShape ?? new[] { query.Last!.Value };
        var (outEquation, outBias, outRank) = ProjectionEquation(rank - 1, 2, outputLast.Count);
        outputDense = new EinsumDense(outEquation, Unknown(outRank - 1 - outputLast.Count, outputLast), biasAxes: UseBias ? outBias : null, name: "attention_output")
        {
            KernelInitializer = KernelInitializer,
            BiasInitializer = BiasInitializer,
            KernelRegularizer = KernelRegularizer,
            BiasRegularizer = BiasRegularizer,
            KernelConstraint = KernelConstraint,
            BiasConstraint = BiasConstraint,
        };
        KerasTensor Spec(Shape shape) => new(shape, DType.Float32, this, InboundNodes.Count, 0);
        var projectedQuery = queryDense.BuildInside(this, Spec(query))[0].Shape;
        keyDense.BuildInside(this, Spec(key));
        valueDense.BuildInside(this, Spec(value));
        outputDense.BuildInside(this, Spec(projectedQuery.With(rank, ValueDim)));
        attentionAxes = ResolveAxes(rank + 1, inputs);
        (dotProductEquation, combineEquation) = AttentionEquations(rank + 1, attentionAxes);
        AttentionAxes = attentionAxes;
        builtShapes = hasKey ? new[] { query, value, key } : new[] { query, value };
        foreach (var (dense, (_, name)) in new[] { queryDense, keyDense, valueDense, outputDense }.Zip(Sublayers))
        {
            foreach (var weight in dense.Weights)
            {
                weight.MoveInto(this, name);
            }

            AdoptWeights(dense.Weights);
        }
    }

    /// <summary>Releases the projections' weights (moved into this layer) and the projections.</summary>
    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            queryDense?.Dispose();
            keyDense?.Dispose();
            valueDense?.Dispose();
            outputDense?.Dispose();
        }
    }

    /// <summary>Whether Keras 3.16 runs torch's scaled_dot_product_attention (adding the -1e9) rather than its masked softmax.</summary>
    private bool AddsMask => TfKeras2Maths || (Dropout == 0 && !returnAttentionScores && builtShapes![0].Rank == 3);

    /// <inheritdoc/>
    protected override IReadOnlyList<Tensor> Call(IReadOnlyList<Tensor> inputs, bool training, IReadOnlyList<Tensor?> masks)
    {
        var query = inputs[0];
        var value = inputs[1];
        var key = hasKey ? inputs[2] : value;
        var attention = hasAttentionMask ? inputs[^1] : null;
        Tensor? mask = null;
        void And(Tensor m) => mask = mask is null ? m : mask.logical_and(m);
        if (masks[0] is { } queryMask)
        {
            And(queryMask.to_type(ScalarType.Bool).unsqueeze(-1));
        }

        if (masks[1] is { } valueMask)
        {
            And(valueMask.to_type(ScalarType.Bool).unsqueeze(-2));
        }

        if (hasKey && masks[2] is { } keyMask)
        {
            And(keyMask.to_type(ScalarType.Bool).unsqueeze(-2));
        }

        if (useCausalMask)
        {
            And(ones(query.shape[1], value.shape[1], dtype: ScalarType.Bool).tril().unsqueeze(0));
        }

        if (attention is not null)
        {
            var cast = attention.to_type(ScalarType.Bool);
            mask = mask is null ? cast : cast.logical_and(mask);
        }

        var q = queryDense!.Forward(new[] { query }, new Tensor?[1], training).Outputs[0];
        var k = keyDense!.Forward(new[] { key }, new Tensor?[1], training).Outputs[0];
        var v = valueDense!.Forward(new[] { value }, new Tensor?[1], training).Outputs[0];
        var scores = einsum(dotProductEquation!, k, q.mul(Scalars.Of(1.0 / Math.Sqrt(KeyDim))));
        if (mask is not null)
        {
            for (var i = mask.dim(); i < scores.dim(); i++)
            {
                mask = mask.unsqueeze(-attentionAxes!.Length * 2 - 1);
            }

            scores = where(mask, scores, AddsMask ? scores.sub(Scalars.Of(1e9)) : full_like(scores, Scalars.Of(-1e9)));
        }

        var normalized = attentionAxes!.Length == 1 ? scores.softmax(-1) : scores.flatten(scores.dim() - attentionAxes.Length).softmax(-1).reshape(scores.shape);
        if (mask is not null && !AddsMask)
        {
            normalized = where(mask, normalized, zeros_like(normalized));
        }

        var weights = training && Dropout > 0 ? DropoutMask.Apply(normalized.contiguous(), Dropout, RandomStreams.NextSeed(Random)) : normalized;
        var combined = einsum(combineEquation!, weights, v);
        var output = outputDense!.Forward(new[] { combined }, new Tensor?[1], training).Outputs[0];
        return returnAttentionScores ? new[] { output, normalized } : new[] { output };
    }

    /// <summary>
    /// ONNX: as <see cref="Call(IReadOnlyList{Tensor}, bool, IReadOnlyList{Tensor})"/> in inference: the four Einsum
    /// projections, Einsum scores, the masks (query, value, key, causal (a constant, which needs known lengths),
    /// attention mask) combined with And and applied with Where, Softmax over the attention axes (flattened when
    /// there are several), and the combination Einsum.
    /// </summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call)
    {
        var (query, value) = (call.Inputs[0], call.Inputs[1]);
        var key = hasKey ? call.Inputs[2] : value;
        string? mask = null;
        var maskRank = 0;
        void And(string m, int rank)
        {
            mask = mask is null ? m : graph.Add("And", Name, new[] { mask, m });
            maskRank = Math.Max(maskRank, rank);
        }

        var inputRank = query.Shape.Rank;
        if (query.Mask is { } queryMask)
        {
            And(graph.Unsqueeze(queryMask, Name, -1), inputRank);
        }

        if (value.Mask is { } valueMask)
        {
            And(graph.Unsqueeze(valueMask, Name, -2), inputRank);
        }

        if (hasKey && key.Mask is { } keyMask)
        {
            And(graph.Unsqueeze(keyMask, Name, -2), inputRank);
        }

        if (useCausalMask)
        {
            if (query.Shape[1] is not int tq || value.Shape[1] is not int tv)
            {
                throw OnnxGraph.Unsupported(this, $"needs known query and value lengths for its causal mask, but the query has shape {query.Shape} and the value {value.Shape}.");
            }

            var lower = Enumerable.Range(0, tq).SelectMany(i => Enumerable.Range(0, tv).Select(j => j <= i ? 1f : 0f)).ToArray();
            And(graph.Add("Cast", Name, new[] { graph.Floats($"{Name}/causal", lower, 1, tq, tv) }, OnnxGraph.Attr("to", (long)OnnxGraph.Bool)), 3);
        }

        if (hasAttentionMask)
        {
            var cast = graph.Add("Cast", Name, new[] { call.Inputs[^1].Name }, OnnxGraph.Attr("to", (long)OnnxGraph.Bool));
            mask = mask is null ? cast : graph.Add("And", Name, new[] { cast, mask });
            maskRank = Math.Max(maskRank, call.Inputs[^1].Shape.Rank);
        }

        var onnxCall = (Layer dense, OnnxValue input) => dense.ExportOnnx(graph, new OnnxCall(new[] { input }, new[] { input.Shape }))[0];
        var q = onnxCall(queryDense!, new OnnxValue(query.Name, query.Shape));
        var k = onnxCall(keyDense!, new OnnxValue(key.Name, key.Shape));
        var v = onnxCall(valueDense!, new OnnxValue(value.Name, value.Shape));
        var scaled = graph.Add("Mul", Name, new[] { q, graph.Scalar((float)(1.0 / Math.Sqrt(KeyDim))) });
        var scores = graph.Add("Einsum", Name, new[] { k, scaled }, OnnxGraph.Attr("equation", dotProductEquation!));
        var rank = query.Shape.Rank + 1;
        var scoresRank = rank - 1 + attentionAxes!.Length;
        if (mask is not null)
        {
            for (var i = maskRank; i < scoresRank; i++)
            {
                mask = graph.Unsqueeze(mask, Name, -attentionAxes.Length * 2 - 1);
            }

            var masked = AddsMask ? graph.Add("Sub", Name, new[] { scores, graph.Scalar(1e9f) }) : graph.Scalar(-1e9f);
            scores = graph.Add("Where", Name, new[] { mask, scores, masked });
        }

        string normalized;
        if (attentionAxes.Length == 1)
        {
            normalized = graph.Add("Softmax", Name, new[] { scores }, OnnxGraph.Attr("axis", -1L));
        }
        else
        {
            var flat = graph.Add("Reshape", Name, new[] { scores, graph.ConcatShapes(Name, graph.ShapeOf(scores, Name, 0, scoresRank - attentionAxes.Length), graph.Int64s(-1)) });
            normalized = graph.Add("Reshape", Name, new[] { graph.Add("Softmax", Name, new[] { flat }, OnnxGraph.Attr("axis", -1L)), graph.ShapeOf(scores, Name, 0) });
        }

        if (mask is not null && !AddsMask)
        {
            normalized = graph.Add("Where", Name, new[] { mask, normalized, graph.Scalar(0f) });
        }

        var combined = graph.Add("Einsum", Name, new[] { normalized, v }, OnnxGraph.Attr("equation", combineEquation!));
        var output = onnxCall(outputDense!, new OnnxValue(combined, call.OutputShapes[0]));
        return returnAttentionScores ? new[] { output, normalized } : new[] { output };
    }
}
