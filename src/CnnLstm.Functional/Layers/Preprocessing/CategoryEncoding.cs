using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving;
using KerasStyle.Saving.Onnx;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Encodes integer category ids as float32 vectors of <c>num_tokens</c>, as Keras 3.16's
/// <c>keras.layers.CategoryEncoding</c> (keras/src/layers/preprocessing/category_encoding.py, through
/// keras/src/utils/numerical_utils.py <c>encode_categorical_inputs</c> on the torch backend):
/// <list type="bullet">
/// <item><c>one_hot</c>: each id becomes a vector with a 1 at its index: (batch, ...) to (batch, ..., num_tokens); a
/// last axis of size 1 is replaced, (batch, 1) to (batch, num_tokens).</item>
/// <item><c>multi_hot</c> (the default; tf.keras 2's <c>binary</c> is read as it): a 1 at each id present along axis 1,
/// (batch, n) to (batch, num_tokens), (batch, n, m) to (batch, m, num_tokens).</item>
/// <item><c>count</c>: how often each id occurs along axis 1, optionally weighted by <c>count_weights</c>
/// (see <see cref="Invoke(Array, Array)"/>).</item>
/// </list>
/// Ids are int32/int64, or floats truncated toward zero (Keras casts them to int64). A negative id gives a row of
/// zeros, as Keras' torch backend; an id of <c>num_tokens</c> or more is refused with a
/// <see cref="LayerInputException"/> (Keras 3.16 on torch fails with "Class values must be smaller than
/// num_classes"). No weights; the training flag changes nothing.
/// </summary>
/// <remarks>
/// Keras treats a rank-1 input of <c>multi_hot</c> or <c>count</c> as one sample and returns (num_tokens) without a
/// batch axis; this layer refuses it (reshape to (1, n)). <c>sparse=True</c> is refused, as Keras' torch backend
/// refuses it. The ONNX form cannot fail on an id of num_tokens or more: it gives a row of zeros there.
/// </remarks>
[KerasLayer("CategoryEncoding")]
public sealed class CategoryEncoding : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="numTokens">The number of categories (Keras' <c>num_tokens</c>, required): ids are 0 to numTokens - 1.</param>
    /// <param name="outputMode"><c>multi_hot</c> (Keras' default), <c>one_hot</c> or <c>count</c>; <c>binary</c> is read as <c>multi_hot</c>, as Keras.</param>
    /// <param name="sparse">Keras' <c>sparse</c>: only false (the torch backend has no sparse outputs).</param>
    /// <param name="name">Layer name; defaults to <c>category_encoding_N</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">numTokens below 1.</exception>
    /// <exception cref="ArgumentException">Another output mode, or sparse true.</exception>
    public CategoryEncoding(int numTokens, string outputMode = "multi_hot", bool sparse = false, string? name = null)
        : base(CheckedName(numTokens, ref outputMode, sparse, name))
    {
        NumTokens = numTokens;
        OutputMode = outputMode;
    }

    /// <summary>The number of categories (Keras' <c>num_tokens</c>).</summary>
    public int NumTokens { get; }

    /// <summary><c>one_hot</c>, <c>multi_hot</c> or <c>count</c> (Keras' <c>output_mode</c>).</summary>
    public string OutputMode { get; }

    internal override bool BuiltAtInit => true;

    private static string? CheckedName(int numTokens, ref string outputMode, bool sparse, string? name)
    {
        ArgumentNullException.ThrowIfNull(outputMode);
        if (outputMode == "binary")
        {
            outputMode = "multi_hot";
        }

        if (outputMode is not ("one_hot" or "multi_hot" or "count"))
        {
            throw new ArgumentException($"CategoryEncoding: unknown output_mode '{outputMode}'; expected 'one_hot', 'multi_hot' or 'count' (Keras: \"Unknown arg for output_mode\").", nameof(outputMode));
        }

        if (numTokens < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(numTokens), numTokens, $"CategoryEncoding: num_tokens must be >= 1, but got {numTokens}.");
        }

        RefuseSparse(nameof(CategoryEncoding), sparse);
        return name;
    }

    /// <summary>Keras' torch backend has no sparse tensors; both encoding layers refuse <c>sparse=True</c>.</summary>
    internal static void RefuseSparse(string layer, bool sparse)
    {
        if (sparse)
        {
            throw new ArgumentException($"{layer}: sparse=True is not supported (Keras 3.16 on the torch backend refuses it too: \"sparse=True cannot be used with backend torch\"); outputs are dense float32.", nameof(sparse));
        }
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["num_tokens"] = NumTokens;
        config["output_mode"] = OutputMode;
        config["sparse"] = false;
        return config;
    }

    /// <summary>Creates the layer from a Keras 3 or tf.keras 2 config (<c>binary</c> read as <c>multi_hot</c>; tf.keras 2.4's <c>max_tokens</c> as <c>num_tokens</c>).</summary>
    internal static CategoryEncoding FromConfig(LayerConfig config)
    {
        var numTokens = config.GetNullableInt("num_tokens") ?? (config.Keras2 ? config.GetNullableInt("max_tokens") : null)
            ?? throw config.Error("num_tokens must be set to use this layer (Keras refuses it too; use IntegerLookup when the number of tokens is not known).");
        try
        {
            return new CategoryEncoding(numTokens, config.GetString("output_mode", "multi_hot"), config.GetBool("sparse", false), config.Name);
        }
        catch (ArgumentException e)
        {
            throw config.Error(e.Message);
        }
    }

    /// <inheritdoc/>
    /// <exception cref="LayerInputException">A rank-1 input in multi_hot or count mode.</exception>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input) =>
        new[] { (EncodedShape(this, input, OutputMode, NumTokens), DType.Float32) };

    /// <summary>The shape Keras' <c>encode_categorical_inputs</c> gives (see the class summary).</summary>
    internal static Shape EncodedShape(Layer layer, KerasTensor input, string mode, int depth)
    {
        var dims = Enumerable.Range(0, input.Shape.Rank).Select(d => input.Shape[d]).ToList();
        if (mode == "one_hot")
        {
            if (dims.Count > 1 && dims[^1] == 1)
            {
                dims.RemoveAt(dims.Count - 1);
            }
        }
        else
        {
            if (dims.Count < 2)
            {
                throw new LayerInputException(layer.Name, $"{layer.ClassName} '{layer.Name}': output_mode '{mode}' needs input of rank 2 or more (batch, n, ...), but got {input.Label} with shape {input.Shape}; Keras reads a rank-1 input as one sample without a batch axis: reshape it to (1, n).");
            }

            dims.RemoveAt(1);
        }

        dims.Add(depth);
        return new Shape(dims.ToArray());
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask)
    {
        using var scope = NewDisposeScope();
        return Encode(this, Ids(input), OutputMode, NumTokens, null).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Encodes ids with per-id weights in <c>count</c> mode, as Keras' <c>layer(inputs, count_weights=...)</c>: each
    /// occurrence adds its weight instead of 1. Eager only (Keras' <c>count_weights</c> is a call argument).
    /// </summary>
    /// <param name="inputs">Ids (int, long, float or double array), (batch, n) or more.</param>
    /// <param name="countWeights">One float or double weight per id, the shape of <paramref name="inputs"/>.</param>
    /// <returns>The weighted counts, float32 (batch, num_tokens) (or (batch, m, num_tokens) for (batch, n, m)).</returns>
    /// <exception cref="ArgumentException">Not count mode (Keras: "count_weights is not used when output_mode is not 'count'"), or weights of another shape.</exception>
    /// <exception cref="LayerInputException">Ids the layer cannot take (see the class summary).</exception>
    public Array Invoke(Array inputs, Array countWeights)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(countWeights);
        if (OutputMode != "count")
        {
            throw new ArgumentException($"CategoryEncoding '{Name}': count_weights is not used when output_mode is not 'count' (it is '{OutputMode}').", nameof(countWeights));
        }

        using var scope = NewDisposeScope();
        var ids = TensorData.FromArray(inputs, nameof(inputs));
        var weights = TensorData.FromArray(countWeights, nameof(countWeights)).to_type(ScalarType.Float32);
        if (!weights.shape.SequenceEqual(ids.shape))
        {
            throw new ArgumentException($"CategoryEncoding '{Name}': count_weights has shape ({string.Join(", ", weights.shape)}), but the ids have shape ({string.Join(", ", ids.shape)}); give one weight per id.", nameof(countWeights));
        }

        // The checks and shapes of a plain call first.
        var spec = new KerasTensor(Shape.WithBatch(ids.shape.Skip(1).Select(d => (int?)checked((int)d))), DType.Int64, this, $"ids of shape ({string.Join(", ", ids.shape)})");
        EncodedShape(this, spec, OutputMode, NumTokens);
        return TensorData.ToArray(Encode(this, Ids(ids), OutputMode, NumTokens, weights));
    }

    /// <summary>Ids as int64, floats truncated toward zero (Keras' cast).</summary>
    internal static Tensor Ids(Tensor input) => input.dtype == ScalarType.Int64 ? input : input.to_type(ScalarType.Int64);

    /// <summary>
    /// Keras' <c>encode_categorical_inputs</c> for one_hot, multi_hot and count on int64 ids: a negative id gives
    /// zeros; an id of <paramref name="depth"/> or more is refused.
    /// </summary>
    internal static Tensor Encode(Layer layer, Tensor ids, string mode, int depth, Tensor? countWeights)
    {
        if (ids.numel() > 0 && ids.max().item<long>() is var max && max >= depth)
        {
            throw new LayerInputException(layer.Name, $"{layer.ClassName} '{layer.Name}': ids must be below {depth} (num_tokens {depth}), but the input holds {max} (Keras 3.16 on torch fails too: \"Class values must be smaller than num_classes\").");
        }

        if (mode == "one_hot" && ids.dim() > 1 && ids.shape[^1] == 1)
        {
            ids = ids.squeeze(-1);
        }

        var classes = arange(Scalars.OfInt(0), Scalars.OfInt(depth), Scalars.IntOne, ScalarType.Int64, ids.device);
        var oneHot = ids.unsqueeze(-1).eq(classes).to_type(ScalarType.Float32);
        return mode switch
        {
            "one_hot" => oneHot,
            "multi_hot" => oneHot.amax(new long[] { 1 }),
            _ => (countWeights is null ? oneHot : oneHot.mul(countWeights.unsqueeze(-1))).sum(1),
        };
    }

    /// <summary>ONNX: ids compared with 0 to depth - 1 (Equal, a row of zeros for ids out of range), then ReduceMax or ReduceSum over axis 1.</summary>
    internal static string OnnxEncode(OnnxGraph graph, string ids, Shape inputShape, string mode, int depth, string hint)
    {
        var x = graph.Add("Cast", hint, new[] { ids }, OnnxGraph.Attr("to", (long)OnnxGraph.Int64));
        if (mode == "one_hot" && inputShape.Rank > 1 && inputShape[inputShape.Rank - 1] == 1)
        {
            x = graph.Squeeze(x, hint, -1);
        }

        var classes = graph.Int64s(Enumerable.Range(0, depth).Select(i => (long)i).ToArray());
        var oneHot = graph.Add("Cast", hint, new[] { graph.Add("Equal", hint, new[] { graph.Unsqueeze(x, hint, -1), classes }) }, OnnxGraph.Attr("to", (long)OnnxGraph.Float));
        return mode switch
        {
            "one_hot" => oneHot,
            "multi_hot" => graph.Add("ReduceMax", hint, new[] { oneHot }, OnnxGraph.Ints("axes", 1), OnnxGraph.Attr("keepdims", 0L)),
            _ => graph.Add("ReduceSum", hint, new[] { oneHot, graph.Int64s(1) }, OnnxGraph.Attr("keepdims", 0L)),
        };
    }

    /// <summary>ONNX: the encoding of <see cref="OnnxEncode"/>.</summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call) =>
        new[] { OnnxEncode(graph, call.Input.Name, call.Input.Shape, OutputMode, NumTokens, Name) };
}
