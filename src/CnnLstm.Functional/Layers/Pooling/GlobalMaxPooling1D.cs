using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// The maximum over the time axis, as Keras' <c>keras.layers.GlobalMaxPooling1D</c>
/// (keras/src/layers/pooling/global_max_pooling1d.py): (batch, steps, features) to (batch, features), or
/// (batch, 1, features) with <c>keepdims</c>. No weights.
/// </summary>
[KerasLayer("GlobalMaxPooling1D")]
public sealed class GlobalMaxPooling1D : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="keepdims">Whether to keep the time axis with length 1 (Keras' default false).</param>
    /// <param name="name">Layer name; defaults to <c>global_max_pooling1d_N</c>.</param>
    public GlobalMaxPooling1D(bool keepdims = false, string? name = null)
        : base(name)
    {
        Keepdims = keepdims;
    }

    /// <summary>Whether the time axis is kept (Keras' <c>keepdims</c>).</summary>
    public bool Keepdims { get; }

    internal override bool BuiltAtInit => true;

    /// <inheritdoc/>
    public override JsonObject GetConfig() => GlobalPooling.Config(base.GetConfig(), Keepdims);

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config.</summary>
    internal static GlobalMaxPooling1D FromConfig(LayerConfig config) => new(GlobalPooling.ReadKeepdims(config), config.Name);

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input) => GlobalPooling.Specs(this, input, Keepdims);

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask) => input.amax(new long[] { 1 }, keepdim: Keepdims);

    /// <summary>ONNX: ReduceMax over the steps.</summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call) =>
        new[] { graph.Add("ReduceMax", Name, new[] { call.Input.Name }, OnnxGraph.Ints("axes", 1L), OnnxGraph.Attr("keepdims", Keepdims ? 1L : 0L)) };
}
