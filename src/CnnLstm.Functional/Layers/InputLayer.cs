using KerasStyle.Graph;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// The layer behind <see cref="Input"/>: it has no weights and one node that produces the model input tensor.
/// </summary>
public sealed class InputLayer : Layer
{
    private Input? output;

    /// <summary>Creates an input layer for samples of the given shape.</summary>
    /// <param name="shape">Per-sample shape (batch dimension excluded); every size must be positive.</param>
    /// <param name="dtype">Element type of the input.</param>
    /// <param name="name">Layer name; defaults to <c>input_N</c>.</param>
    public InputLayer(int[] shape, DType dtype = DType.Float32, string? name = null)
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Length == 0 || shape.Any(d => d <= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(shape), $"InputLayer '{Name}': shape must have at least one dimension and only positive sizes, got ({string.Join(", ", shape)}).");
        }

        OutputShape = Shape.WithBatch(shape.Select(d => (int?)d));
        DType = dtype;
    }

    /// <summary>The shape of the input tensor, batch dimension unknown.</summary>
    public Shape OutputShape { get; }

    /// <summary>The input's element type.</summary>
    public DType DType { get; }

    /// <summary>The symbolic tensor this layer produces (made on first use when the layer was built directly).</summary>
    public KerasTensor Output => output ??= Input.ForLayer(this);

    /// <summary>Keras names input layers <c>input_N</c>.</summary>
    protected override string DefaultNamePrefix => "input";

    /// <summary>Records the layer's only node, whose output is <paramref name="tensor"/>.</summary>
    internal void SetOutput(Input tensor)
    {
        output = tensor;
        RegisterNode(Array.Empty<KerasTensor>(), new KerasTensor[] { tensor });
    }

    private protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input) =>
        throw InputError("an InputLayer cannot be called on a tensor; use its Output.");

    internal override IReadOnlyList<Tensor> Forward(Tensor input, bool training) => new[] { input };
}
