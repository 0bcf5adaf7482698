using KerasStyle.Engine;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// The element-wise product of its inputs, as Keras' <c>keras.layers.Multiply</c> (keras/src/layers/merging/multiply.py). Called on a list of
/// float32 tensors that broadcast as <see cref="Merge"/> describes; no weights (0 parameters).
/// </summary>
[KerasLayer("Multiply")]
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

    /// <summary>
    /// As Keras 3.16's <c>Multiply._merge_function</c>: masked entries count as 1 (the product's neutral value); when
    /// every input carries a mask, entries masked in all of them are 0.
    /// </summary>
    private protected override Tensor Merged(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?> masks)
    {
        var (xs, ms) = AlignWithMasks(inputs, masks);
        var output = xs.Select((x, i) => ms[i] is { } mask ? x.masked_fill(mask.logical_not(), Scalars.IntOne) : x).Aggregate((a, b) => a * b);
        return ms.All(m => m is not null) ? output.masked_fill(ms.Aggregate((a, b) => a!.logical_or(b!))!.logical_not(), Scalars.OfInt(0)) : output;
    }

    private protected override string OnnxMerged(OnnxGraph graph, string[] inputs, string?[] masks)
    {
        var one = graph.Scalar(1f);
        var output = inputs.Select((x, i) => masks[i] is { } mask ? graph.Add("Where", Name, new[] { mask, x, one }) : x)
            .Aggregate((a, b) => graph.Add("Mul", Name, new[] { a, b }));
        return masks.All(m => m is not null)
            ? graph.Add("Where", Name, new[] { masks.Aggregate((a, b) => graph.Add("Or", Name, new[] { a!, b! }))!, output, graph.Scalar(0f) })
            : output;
    }

    private protected override string OnnxCombine => "Mul";
}
