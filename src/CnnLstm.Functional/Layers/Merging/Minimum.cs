using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// The element-wise minimum of its inputs, as Keras' <c>keras.layers.Minimum</c> (keras/src/layers/merging/minimum.py). Called on a list of
/// float32 tensors that broadcast as <see cref="Merge"/> describes; no weights (0 parameters).
/// </summary>
[KerasLayer("Minimum")]
public sealed class Minimum : Merge
{
    /// <summary>Creates the layer.</summary>
    /// <param name="name">Layer name; defaults to <c>minimum_N</c>.</param>
    public Minimum(string? name = null)
        : base(name)
    {
    }

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config (name, trainable, dtype).</summary>
    internal static Minimum FromConfig(LayerConfig config) => new(config.Name);

    private protected override Tensor Combine(Tensor a, Tensor b) => minimum(a, b);

    /// <summary>Masked entries never win, as Keras 3.16's <c>_apply_merge_op_and_or_mask</c> (see <see cref="Merge.FoldMasked"/>).</summary>
    private protected override Tensor Merged(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?> masks) => FoldMasked(inputs, masks, minimum);

    private protected override string OnnxMerged(OnnxGraph graph, string[] inputs, string?[] masks) => OnnxFoldMasked(graph, inputs, masks);

    private protected override string OnnxCombine => "Min";
}
