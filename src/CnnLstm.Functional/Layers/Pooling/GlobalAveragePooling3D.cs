using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// The mean over the depth, height and width of channels-last volumes, as Keras' <c>keras.layers.GlobalAveragePooling3D</c>:
/// (batch, depth, height, width, channels) to (batch, channels), or (batch, 1, 1, 1, channels) with <c>keepdims</c>. No weights.
/// </summary>
[KerasLayer("GlobalAveragePooling3D")]
public sealed class GlobalAveragePooling3D : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="keepdims">Keep depth, height and width with size 1 (Keras' default false).</param>
    /// <param name="name">Layer name; defaults to <c>global_average_pooling3d_N</c>.</param>
    public GlobalAveragePooling3D(bool keepdims = false, string? name = null)
        : base(name)
    {
        Keepdims = keepdims;
    }

    /// <summary>Whether depth, height and width are kept (Keras' <c>keepdims</c>).</summary>
    public bool Keepdims { get; }

    internal override bool BuiltAtInit => true;

    /// <inheritdoc/>
    public override JsonObject GetConfig() => GlobalPooling.Config(base.GetConfig(), Keepdims);

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config.</summary>
    internal static GlobalAveragePooling3D FromConfig(LayerConfig config) => new(GlobalPooling.ReadKeepdims(config), config.Name);

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input) => GlobalPooling.Specs3D(this, input, Keepdims);

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask) => input.mean(new long[] { 1, 2, 3 }, keepdim: Keepdims);

    /// <summary>ONNX: ReduceMean over the depth, height and width.</summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call) =>
        new[] { graph.Add("ReduceMean", Name, new[] { call.Input.Name }, OnnxGraph.Ints("axes", 1L, 2L, 3L), OnnxGraph.Attr("keepdims", Keepdims ? 1L : 0L)) };
}
