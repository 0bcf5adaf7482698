using KerasStyle.Engine;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// The element-wise sum of its inputs, as Keras' <c>keras.layers.Add</c> (keras/src/layers/merging/add.py). Called on a list of
/// float32 tensors that broadcast as <see cref="Merge"/> describes; no weights (0 parameters).
/// </summary>
[KerasLayer("Add")]
public sealed class Add : Merge
{
    /// <summary>Creates the layer.</summary>
    /// <param name="name">Layer name; defaults to <c>add_N</c>.</param>
    public Add(string? name = null)
        : base(name)
    {
    }

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config (name, trainable, dtype).</summary>
    internal static Add FromConfig(LayerConfig config) => new(config.Name);

    private protected override Tensor Combine(Tensor a, Tensor b) => a.add(b, Scalars.IntOne);

    private protected override string OnnxCombine => "Add";
}
