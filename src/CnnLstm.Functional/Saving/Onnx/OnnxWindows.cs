using KerasStyle.Layers;
using KerasStyle.Saving.Onnx.Proto;

namespace KerasStyle.Saving.Onnx;

/// <summary>The padding attributes of ONNX's Conv, MaxPool and AveragePool for Keras' padding modes.</summary>
internal static class OnnxWindows
{
    /// <summary>
    /// <c>pads</c> (all begins, then all ends) for the spatial axes: none for <c>valid</c>, (window - 1, 0) for
    /// <c>causal</c>, TensorFlow's split (the extra element at the end) for <c>same</c>; for <c>same</c> over an unknown
    /// (None) length, <c>auto_pad</c> <c>SAME_UPPER</c>, the same split computed by the runtime at each length.
    /// </summary>
    /// <param name="padding">The layer's padding mode.</param>
    /// <param name="lengths">The spatial lengths (null: unknown, any length).</param>
    /// <param name="windows">The effective window per axis ((kernel - 1) * dilation + 1).</param>
    /// <param name="strides">The stride per axis.</param>
    public static AttributeProto Pads(Padding padding, IReadOnlyList<int?> lengths, IReadOnlyList<int> windows, IReadOnlyList<int> strides)
    {
        var axes = windows.Count;
        switch (padding)
        {
            case Padding.Valid:
                return OnnxGraph.Ints("pads", new long[2 * axes]);
            case Padding.Causal:
                return OnnxGraph.Ints("pads", windows[0] - 1L, 0L);
            case Padding.Same when lengths.Any(l => l is null):
                return OnnxGraph.Attr("auto_pad", "SAME_UPPER");
            default:
                var split = Enumerable.Range(0, axes).Select(a => PaddingRules.SamePadding(lengths[a]!.Value, windows[a], strides[a])).ToArray();
                return OnnxGraph.Ints("pads", split.Select(s => s.Left).Concat(split.Select(s => s.Right)).ToArray());
        }
    }
}
