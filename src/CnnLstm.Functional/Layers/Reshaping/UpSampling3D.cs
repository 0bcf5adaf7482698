using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Repeats each entry of each volume, as Keras' <c>keras.layers.UpSampling3D</c>
/// (keras/src/layers/reshaping/up_sampling3d.py): (batch, depth, height, width, channels) to (batch, depth ×
/// size.Depth, height × size.Height, width × size.Width, channels). Channels-last only. No weights.
/// </summary>
[KerasLayer("UpSampling3D")]
public sealed class UpSampling3D : Layer
{
    private readonly int[] sizes;

    /// <summary>Creates the layer with the same factor on every spatial axis.</summary>
    /// <param name="size">Repeats along the depth, height and width; positive.</param>
    /// <param name="name">Layer name; defaults to <c>up_sampling3d_N</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size below 1.</exception>
    public UpSampling3D(int size, string? name = null)
        : this((size, size, size), name)
    {
    }

    /// <summary>Creates the layer (Keras' default size (2, 2, 2)).</summary>
    /// <param name="size">Repeats along the depth, height and width; positive; null for (2, 2, 2).</param>
    /// <param name="name">Layer name; defaults to <c>up_sampling3d_N</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size below 1.</exception>
    public UpSampling3D((int Depth, int Height, int Width)? size = null, string? name = null)
        : base(name)
    {
        var value = size ?? (2, 2, 2);
        sizes = SpatialSides.CheckSizes(nameof(UpSampling3D), nameof(size), new[] { value.Depth, value.Height, value.Width });
    }

    /// <summary>Repeats along the depth, height and width (Keras' <c>size</c>).</summary>
    public (int Depth, int Height, int Width) Size => (sizes[0], sizes[1], sizes[2]);

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["size"] = SpatialSides.Json(sizes);
        config["data_format"] = "channels_last";
        return config;
    }

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config; refuses <c>channels_first</c>.</summary>
    internal static UpSampling3D FromConfig(LayerConfig config)
    {
        config.RequireDefault("data_format", "channels_last");
        var size = config.GetTuple("size", 3, 2);
        return new UpSampling3D((size[0], size[1], size[2]), config.Name);
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        RequireRank(input, 5, "(batch, depth, height, width, channels)");
        return new[] { (SpatialSides.RepeatedShape(input, sizes, (size, what) => DerivedDim(size, input, what)), input.DType) };
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask) => SpatialSides.Repeat(input, sizes);

    /// <summary>ONNX: Resize with nearest neighbours at integer scales over the channels-last axes.</summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call) =>
        new[] { SpatialSides.OnnxRepeat(graph, call.Input.Name, Name, sizes) };
}
