using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// The mean over the time axis, as Keras' <c>keras.layers.GlobalAveragePooling1D</c>
/// (keras/src/layers/pooling/global_average_pooling1d.py): (batch, steps, features) to (batch, features), or
/// (batch, 1, features) with <c>keepdims</c>. With a mask, the mean of the unmasked steps (no mask comes out). No
/// weights.
/// </summary>
[KerasLayer("GlobalAveragePooling1D")]
public sealed class GlobalAveragePooling1D : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="keepdims">Whether to keep the time axis with length 1 (Keras' default false).</param>
    /// <param name="name">Layer name; defaults to <c>global_average_pooling1d_N</c>.</param>
    public GlobalAveragePooling1D(bool keepdims = false, string? name = null)
        : base(name)
    {
        Keepdims = keepdims;
    }

    /// <summary>Whether the time axis is kept (Keras' <c>keepdims</c>).</summary>
    public bool Keepdims { get; }

    /// <summary>Averages over the unmasked steps only, as Keras does.</summary>
    internal override bool UsesMask => true;

    internal override bool BuiltAtInit => true;

    /// <inheritdoc/>
    public override JsonObject GetConfig() => GlobalPooling.Config(base.GetConfig(), Keepdims);

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config.</summary>
    internal static GlobalAveragePooling1D FromConfig(LayerConfig config) => new(GlobalPooling.ReadKeepdims(config), config.Name);

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input) => GlobalPooling.Specs(this, input, Keepdims);

    /// <summary>The mean over the steps; with a mask, over the unmasked steps only.</summary>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask)
    {
        if (mask is null)
        {
            return input.mean(new long[] { 1 }, keepdim: Keepdims);
        }

        var weights = mask.to_type(input.dtype).unsqueeze(-1);
        return (input * weights).sum(new long[] { 1 }, keepdim: Keepdims) / weights.sum(new long[] { 1 }, keepdim: Keepdims);
    }

    /// <summary>ONNX: ReduceMean over the steps; with a mask, the sum of the unmasked steps over their count.</summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call)
    {
        var keep = OnnxGraph.Attr("keepdims", Keepdims ? 1L : 0L);
        if (call.Input.Mask is not { } mask)
        {
            return new[] { graph.Add("ReduceMean", Name, new[] { call.Input.Name }, OnnxGraph.Ints("axes", 1L), keep) };
        }

        var weights = graph.Unsqueeze(graph.MaskAsFloat(mask, Name), Name, -1);
        var sum = graph.Add("ReduceSum", Name, new[] { graph.Add("Mul", Name, new[] { call.Input.Name, weights }), graph.Int64s(1) }, keep);
        return new[] { graph.Add("Div", Name, new[] { sum, graph.Add("ReduceSum", Name, new[] { weights, graph.Int64s(1) }, keep) }) };
    }
}
