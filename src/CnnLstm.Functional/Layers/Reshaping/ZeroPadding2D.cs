using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Adds rows and columns of zeros around each image, as Keras' <c>keras.layers.ZeroPadding2D</c>
/// (keras/src/layers/reshaping/zero_padding2d.py): (batch, height, width, channels) to (batch, top + height + bottom,
/// left + width + right, channels). Channels-last only. No weights.
/// </summary>
[KerasLayer("ZeroPadding2D")]
public sealed class ZeroPadding2D : Layer
{
    private readonly (int Start, int End)[] sides;

    /// <summary>Creates the layer with the same padding on every side (Keras' default 1).</summary>
    /// <param name="padding">Zero rows and columns on each side; 0 or more.</param>
    /// <param name="name">Layer name; defaults to <c>zero_padding2d_N</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A negative padding.</exception>
    public ZeroPadding2D(int padding = 1, string? name = null)
        : this(((padding, padding), (padding, padding)), name)
    {
    }

    /// <summary>Creates the layer with symmetric padding per axis (Keras' <c>(symmetric_height_pad, symmetric_width_pad)</c>).</summary>
    /// <param name="padding">Zero rows above and below, zero columns left and right; 0 or more.</param>
    /// <param name="name">Layer name; defaults to <c>zero_padding2d_N</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A negative padding.</exception>
    public ZeroPadding2D((int Height, int Width) padding, string? name = null)
        : this(((padding.Height, padding.Height), (padding.Width, padding.Width)), name)
    {
    }

    /// <summary>Creates the layer with its own padding on each side (Keras' <c>((top, bottom), (left, right))</c>).</summary>
    /// <param name="padding">Zero rows at the top and bottom, zero columns at the left and right; 0 or more.</param>
    /// <param name="name">Layer name; defaults to <c>zero_padding2d_N</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A negative padding.</exception>
    public ZeroPadding2D(((int Top, int Bottom) Height, (int Left, int Right) Width) padding, string? name = null)
        : base(name)
    {
        sides = SpatialSides.Check(nameof(ZeroPadding2D), nameof(padding), new[] { padding.Height, padding.Width });
    }

    /// <summary>Zero rows (top, bottom) and columns (left, right) (Keras' <c>padding</c>).</summary>
    public ((int Top, int Bottom) Height, (int Left, int Right) Width) Padding => (sides[0], sides[1]);

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["padding"] = SpatialSides.Json(sides);
        config["data_format"] = "channels_last";
        return config;
    }

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config; refuses <c>channels_first</c>.</summary>
    internal static ZeroPadding2D FromConfig(LayerConfig config)
    {
        config.RequireDefault("data_format", "channels_last");
        var p = config.GetSidePairs("padding", 2, new[] { (1, 1), (1, 1) });
        return new ZeroPadding2D((p[0], p[1]), config.Name);
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        RequireRank(input, 4, "(batch, height, width, channels)");
        return new[] { (SpatialSides.PaddedShape(input, sides, (size, what) => DerivedDim(size, input, what)), input.DType) };
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask) => nn.functional.pad(input, SpatialSides.TorchPad(sides));

    /// <summary>ONNX: Pad with zeros along the height and width.</summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call) =>
        new[] { graph.Add("Pad", Name, new[] { call.Input.Name, graph.Int64s(SpatialSides.OnnxPads(sides)) }) };
}
