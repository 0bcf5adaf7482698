using KerasStyle.Engine;
using KerasStyle.Graph;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Turns integer token ids into dense vectors, as Keras' <c>Embedding</c>. Weight: embeddings (inputDim, outputDim),
/// initialised uniform(-0.05, 0.05).
/// </summary>
public sealed class Embedding : Layer
{
    private LayerWeight? embeddings;

    /// <summary>Creates an embedding layer.</summary>
    /// <param name="inputDim">Vocabulary size: ids must be in [0, inputDim).</param>
    /// <param name="outputDim">Size of each vector.</param>
    /// <param name="inputLength">Sequence length; when given, a <see cref="KerasStyle.Models.Sequential"/> model can start with
    /// this layer (Keras' <c>input_length</c>).</param>
    /// <param name="name">Layer name; defaults to <c>embedding_N</c>.</param>
    public Embedding(int inputDim, int outputDim, int? inputLength = null, string? name = null)
        : base(name)
    {
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

    /// <summary>The fixed sequence length, if given.</summary>
    public int? InputLength { get; }

    private protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
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

    private protected override void Build(KerasTensor input)
    {
        embeddings = AddWeight("embeddings", new[] { InputDim, OutputDim }, Initializers.Uniform(new long[] { InputDim, OutputDim }, -0.05, 0.05));
    }

    internal override IReadOnlyList<Tensor> Forward(Tensor input, bool training)
    {
        using var flat = input.reshape(-1);
        var vectors = embeddings!.Variable.index_select(0, flat);
        return new[] { vectors.view(input.shape[0], input.shape[1], OutputDim) };
    }
}
