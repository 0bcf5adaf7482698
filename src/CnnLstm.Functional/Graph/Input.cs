using KerasStyle.Layers;

namespace KerasStyle.Graph;

/// <summary>
/// A model input, as Keras' <c>Input(shape=...)</c>: a symbolic tensor made by a new <see cref="InputLayer"/>.
/// </summary>
public sealed class Input : KerasTensor
{
    /// <summary>Creates an input whose samples have the given shape (batch dimension excluded).</summary>
    /// <param name="shape">Per-sample shape, e.g. <c>new[] { 1, 3 }</c> for one step of three features.</param>
    /// <param name="dtype">Element type: <see cref="DType.Float32"/> for features, an integer type for token ids.</param>
    /// <param name="name">Layer name; defaults to <c>input_N</c>.</param>
    public Input(int[] shape, DType dtype = DType.Float32, string? name = null)
        : this(new InputLayer(shape, dtype, name))
    {
    }

    private Input(InputLayer layer)
        : base(layer.OutputShape, layer.DType, layer, 0, 0)
    {
        layer.SetOutput(this);
    }

    internal static Input ForLayer(InputLayer layer) => new(layer);
}
