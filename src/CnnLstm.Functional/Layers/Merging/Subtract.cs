using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// The first input minus the second, as Keras' <c>keras.layers.Subtract</c> (keras/src/layers/merging/subtract.py). Called on a list of
/// float32 tensors that broadcast as <see cref="Merge"/> describes; exactly two inputs; no weights (0 parameters).
/// </summary>
[KerasLayer("Subtract")]
public sealed class Subtract : Merge
{
    /// <summary>Creates the layer.</summary>
    /// <param name="name">Layer name; defaults to <c>subtract_N</c>.</param>
    public Subtract(string? name = null)
        : base(name)
    {
    }

    private protected override int? ExactInputs => 2;

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config (name, trainable, dtype).</summary>
    internal static Subtract FromConfig(LayerConfig config) => new(config.Name);

    private protected override Tensor Combine(Tensor a, Tensor b) => a - b;

    private protected override string OnnxCombine => "Sub";
}
