using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Turns integer token ids into dense vectors, as Keras' <c>Embedding</c>. Weight: embeddings (inputDim, outputDim),
/// initialised uniform(-0.05, 0.05).
/// </summary>
[KerasLayer("Embedding", TakesIntegerIds = true), Keras3OnlyArgument("quantization_config", null), Keras3OnlyArgument("lora_rank", null), Keras3OnlyArgument("lora_alpha", null), TfKeras2OnlyArgument("input_length", null)]
public sealed class Embedding : Layer
{
    private LayerWeight? embeddings;

    /// <summary>Creates an embedding layer.</summary>
    /// <param name="inputDim">Vocabulary size: ids must be in [0, inputDim).</param>
    /// <param name="outputDim">Size of each vector.</param>
    /// <param name="inputLength">Sequence length; when given, a <see cref="KerasStyle.Models.Sequential"/> model can start with
    /// this layer (Keras' <c>input_length</c>).</param>
    /// <param name="name">Layer name; defaults to <c>embedding_N</c>.</param>
    /// <param name="maskZero">Whether id 0 is padding (Keras' <c>mask_zero</c>, default false): the output then carries
    /// a mask, (batch, steps), true where the id is not 0, which recurrent layers use to skip padded steps and losses
    /// to leave them out. Id 0 still has a vector; <paramref name="inputDim"/> must count it.</param>
    public Embedding(int inputDim, int outputDim, int? inputLength = null, string? name = null, bool maskZero = false)
        : base(name)
    {
        MaskZero = maskZero;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputDim);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputDim);
        if (inputLength is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(inputLength), inputLength, "Embedding: inputLength must be positive.");
        }

        InputDim = inputDim;
        OutputDim = outputDim;
        InputLength = inputLength;
    }

    /// <summary>Vocabulary size.</summary>
    public int InputDim { get; }

    /// <summary>Size of each vector.</summary>
    public int OutputDim { get; }

    /// <summary>Whether id 0 is padding and the output carries a mask (Keras' <c>mask_zero</c>).</summary>
    public bool MaskZero { get; }

    internal override bool[] OutputMasks(IReadOnlyList<bool> inputMasked) => new[] { MaskZero };

    /// <summary>The ids reach this layer as they are.</summary>
    internal override IEnumerable<Layer> IdCheckersFedBy(int index) => new[] { this };

    /// <summary>Refuses token ids outside [0, <see cref="InputDim"/>) before a model runs.</summary>
    internal override void CheckIdRange(long min, long max, string input, string argument)
    {
        if (min < 0 || max >= InputDim)
        {
            throw new ArgumentOutOfRangeException(argument, $"{argument}: token ids for input '{input}' range over [{min}, {max}], but Embedding '{Name}' accepts ids in [0, {InputDim}).");
        }
    }

    /// <summary>With <see cref="InputLength"/>, a Sequential model can start with this layer: its input is int64 (batch, inputLength).</summary>
    internal override (int[] Shape, DType DType)? ImplicitInput => InputLength is int length ? (new[] { length }, DType.Int64) : null;

    /// <summary>Keras' <c>not_equal(ids, 0)</c>.</summary>
    protected override Tensor? ComputeMask(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?> masks) => MaskZero ? inputs[0].ne(Scalars.OfInt(0)) : null;

    /// <summary>The fixed sequence length, if given.</summary>
    public int? InputLength { get; }

    /// <summary>The embeddings' initializer (Keras' <c>embeddings_initializer</c>, default <see cref="Initializers.RandomUniform"/> over [-0.05, 0.05)).</summary>
    public Initializers.Initializer EmbeddingsInitializer { get; init; } = new Initializers.RandomUniform();

    /// <summary>The embeddings' penalty (Keras' <c>embeddings_regularizer</c>, default null).</summary>
    public Regularizers.Regularizer? EmbeddingsRegularizer { get; init; }

    /// <summary>The embeddings' projection after each optimizer update (Keras' <c>embeddings_constraint</c>, default null), over (input_dim, output_dim): <c>new UnitNorm(axis: 1)</c> keeps every row a unit vector.</summary>
    public Constraints.Constraint? EmbeddingsConstraint { get; init; }

    /// <inheritdoc/>
    /// <remarks><c>input_length</c> is written only when set; Keras 3 accepts it with a deprecation warning.</remarks>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["input_dim"] = InputDim;
        config["output_dim"] = OutputDim;
        config["embeddings_initializer"] = EmbeddingsInitializer.Serialize();
        config["embeddings_regularizer"] = EmbeddingsRegularizer?.Serialize();
        config["activity_regularizer"] = ActivityRegularizer?.Serialize();
        config["embeddings_constraint"] = EmbeddingsConstraint?.Serialize();
        config["mask_zero"] = MaskZero;
        // Keras 3 writes no input_length (it warns that the argument is deprecated); the InputLayer holds the length.
        config["quantization_config"] = null;
        return config;
    }

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config.</summary>
    internal static Embedding FromConfig(LayerConfig config)
    {
        config.RequireDefault("lora_rank", null);

        config.RequireDefault("sparse", false);
        // Keras 3.13+ writes quantization_config for every Embedding; null means a float layer.
        config.RequireDefault("quantization_config", null);
        config.Ignore("lora_alpha");
        return new Embedding(config.GetInt("input_dim"), config.GetInt("output_dim"), config.GetNullableSize("input_length"), config.Name, config.GetBool("mask_zero", false))
        {
            EmbeddingsInitializer = config.GetInitializer("embeddings_initializer", new Initializers.RandomUniform()),
            EmbeddingsRegularizer = config.GetRegularizer("embeddings_regularizer"),
            EmbeddingsConstraint = config.GetConstraint("embeddings_constraint"),
        };
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        RequireRank(input, 2, "(batch, sequence length) of token ids");
        if (!input.DType.IsInteger())
        {
            throw InputError($"expected integer token ids (int32 or int64), but got {input.Label} with dtype {input.DType.ToKerasName()} and shape {input.Shape}; declare the input as new Input(shape, dtype: DType.Int64).");
        }

        if (InputLength is int length && input.Shape[1] is int steps && steps != length)
        {
            throw InputError($"inputLength is {length}, but {input.Label} has shape {input.Shape}.");
        }

        return new[] { (new Shape(null, input.Shape[1], OutputDim), DType.Float32) };
    }

    /// <inheritdoc/>
    protected override void Build(KerasTensor input)
    {
        var shape = new long[] { InputDim, OutputDim };
        embeddings = AddWeight("embeddings", shape, Initial(EmbeddingsInitializer, shape, "embeddings"));
        embeddings.Regularizer = EmbeddingsRegularizer;
        embeddings.Constraint = EmbeddingsConstraint;
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask)
    {
        var flat = input.reshape(-1);
        Tensor vectors;
        if (training && Trainable && is_grad_enabled() && LayerWeight.CollectingRowGradients)
        {
            // In the trainer's step the rows become their own leaf, so backward yields their gradient instead of a
            // dense (inputDim, outputDim) one that is almost all zeros; the optimizer applies it by rows.
            using var table = embeddings!.Variable.detach();
            vectors = Lookup(table, flat).requires_grad_(true);
            embeddings.AddRowLookup(flat, vectors);
        }
        else
        {
            vectors = Lookup(embeddings!.Variable, flat);
            flat.Dispose();
        }

        return vectors.view(input.shape[0], input.shape[1], OutputDim);
    }

    /// <summary>
    /// The rows at <paramref name="ids"/>. A model checks the ids its inputs bring to an Embedding before anything
    /// runs; ids that reach this layer another way (computed by a layer before it, or a direct call) are checked here,
    /// where libtorch would report an id out of range only as a bare <c>ExternalException</c>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">An id is negative or at least <see cref="InputDim"/>; the message
    /// names the layer, the ids' range and the range accepted.</exception>
    private Tensor Lookup(Tensor table, Tensor ids)
    {
        try
        {
            return table.index_select(0, ids);
        }
        catch (System.Runtime.InteropServices.ExternalException)
        {
            var (low, high) = ids.aminmax();
            using (low)
            using (high)
            {
                var (min, max) = (low.item<long>(), high.item<long>());
                if (min < 0 || max >= InputDim)
                {
                    throw new ArgumentOutOfRangeException("x", $"x: token ids reaching Embedding '{Name}' range over [{min}, {max}], but it accepts ids in [0, {InputDim}); id {(min < 0 ? min : max)} is out of range.");
                }
            }

            throw;
        }
    }

    /// <summary>ONNX: Gather of the rows at the ids (cast to int64).</summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call) =>
        new[] { graph.Add("Gather", Name, new[] { graph.Weight(embeddings!), OnnxIds(graph, call) }) };

    /// <summary>ONNX: with <see cref="MaskZero"/>, true where the id is not 0.</summary>
    internal override string? ExportOnnxMask(OnnxGraph graph, OnnxCall call) =>
        MaskZero ? graph.Add("Not", Name, new[] { graph.Add("Equal", Name, new[] { OnnxIds(graph, call), graph.Int64s(0) }) }) : null;

    private string OnnxIds(OnnxGraph graph, OnnxCall call) => graph.Add("Cast", Name, new[] { call.Input.Name }, OnnxGraph.Attr("to", (long)OnnxGraph.Int64));
}
