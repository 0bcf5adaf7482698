using KerasStyle.Engine;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// The element-wise mean of its inputs, as Keras' <c>keras.layers.Average</c> (keras/src/layers/merging/average.py). Called on a list of
/// float32 tensors that broadcast as <see cref="Merge"/> describes; no weights (0 parameters).
/// </summary>
[KerasLayer("Average")]
public sealed class Average : Merge
{
    /// <summary>Creates the layer.</summary>
    /// <param name="name">Layer name; defaults to <c>average_N</c>.</param>
    public Average(string? name = null)
        : base(name)
    {
    }

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config (name, trainable, dtype).</summary>
    internal static Average FromConfig(LayerConfig config) => new(config.Name);

    private protected override Tensor Combine(Tensor a, Tensor b) => a.add(b, Scalars.IntOne);

    private protected override Tensor Merged(IReadOnlyList<Tensor> inputs) => base.Merged(inputs).div(Scalars.OfInt(inputs.Count));

    private protected override string OnnxCombine => "Add";

    private protected override string OnnxFinish(OnnxGraph graph, string combined, int inputs) => graph.Add("Div", Name, new[] { combined, graph.Scalar(inputs) });
}
