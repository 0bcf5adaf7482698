using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// The element-wise product of its inputs, as Keras' <c>keras.layers.Multiply</c> (keras/src/layers/merging/multiply.py). Called on a list of
/// float32 tensors that broadcast as <see cref="Merge"/> describes; no weights (0 parameters).
/// </summary>
public sealed class Multiply : Merge
{
    /// <summary>Creates the layer.</summary>
    /// <param name="name">Layer name; defaults to <c>multiply_N</c>.</param>
    public Multiply(string? name = null)
        : base(name)
    {
    }

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config (name, trainable, dtype).</summary>
    internal static Multiply FromConfig(LayerConfig config) => new(config.Name);

    private protected override Tensor Combine(Tensor a, Tensor b) => a * b;

    private protected override string OnnxCombine => "Mul";
}
