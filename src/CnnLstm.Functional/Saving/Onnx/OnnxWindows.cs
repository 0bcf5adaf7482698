using KerasStyle.Layers;
using KerasStyle.Saving.Onnx.Proto;

namespace KerasStyle.Saving.Onnx;

/// <summary>The padding attributes of ONNX's Conv, MaxPool and AveragePool for Keras' padding modes.</summary>
internal static class OnnxWindows
{
    /// <summary>
    /// <c>pads</c> (all begins, then all ends) for the spatial axes: none for <c>valid</c>, (window - 1, 0) for
    /// <c>causal</c>, TensorFlow's split (the extra element at the end) for <c>same</c>.
    /// </summary>
    /// <param name="padding">The layer's padding mode.</param>
    /// <param name="lengths">The spatial lengths (known: inputs have known shapes after the batch axis).</param>
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
            default:
                var split = Enumerable.Range(0, axes).Select(a => PaddingRules.SamePadding(lengths[a] ?? throw new InvalidOperationException("A spatial length is unknown."), windows[a], strides[a])).ToArray();
                return OnnxGraph.Ints("pads", split.Select(s => s.Left).Concat(split.Select(s => s.Right)).ToArray());
        }
    }
}
