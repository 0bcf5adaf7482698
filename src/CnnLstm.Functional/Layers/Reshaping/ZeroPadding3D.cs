using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Adds zeros around each volume, as Keras' <c>keras.layers.ZeroPadding3D</c>
/// (keras/src/layers/reshaping/zero_padding3d.py): (batch, depth, height, width, channels) to (batch, depth + its
/// padding, height + its padding, width + its padding, channels). Channels-last only. No weights.
/// </summary>
[KerasLayer("ZeroPadding3D")]
public sealed class ZeroPadding3D : Layer
{
    private readonly (int Start, int End)[] sides;

    /// <summary>Creates the layer with the same padding on every side (Keras' default 1).</summary>
    /// <param name="padding">Zeros on each side of each spatial axis; 0 or more.</param>
    /// <param name="name">Layer name; defaults to <c>zero_padding3d_N</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A negative padding.</exception>
    public ZeroPadding3D(int padding = 1, string? name = null)
        : this(((padding, padding), (padding, padding), (padding, padding)), name)
    {
    }

    /// <summary>Creates the layer with symmetric padding per axis (Keras' <c>(dim1_pad, dim2_pad, dim3_pad)</c>).</summary>
    /// <param name="padding">Zeros on both sides of the depth, height and width; 0 or more.</param>
    /// <param name="name">Layer name; defaults to <c>zero_padding3d_N</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A negative padding.</exception>
    public ZeroPadding3D((int Depth, int Height, int Width) padding, string? name = null)
        : this(((padding.Depth, padding.Depth), (padding.Height, padding.Height), (padding.Width, padding.Width)), name)
    {
    }

    /// <summary>Creates the layer with its own padding on each side (Keras' <c>((d1, d2), (h1, h2), (w1, w2))</c>).</summary>
    /// <param name="padding">Zeros at the start and end of the depth, height and width; 0 or more.</param>
    /// <param name="name">Layer name; defaults to <c>zero_padding3d_N</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A negative padding.</exception>
    public ZeroPadding3D(((int Start, int End) Depth, (int Start, int End) Height, (int Start, int End) Width) padding, string? name = null)
        : base(name)
    {
        sides = SpatialSides.Check(nameof(ZeroPadding3D), nameof(padding), new[] { padding.Depth, padding.Height, padding.Width });
    }

    /// <summary>Zeros at the start and end of the depth, height and width (Keras' <c>padding</c>).</summary>
    public ((int Start, int End) Depth, (int Start, int End) Height, (int Start, int End) Width) Padding => (sides[0], sides[1], sides[2]);

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["padding"] = SpatialSides.Json(sides);
        config["data_format"] = "channels_last";
        return config;
    }

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config; refuses <c>channels_first</c>.</summary>
    internal static ZeroPadding3D FromConfig(LayerConfig config)
    {
        config.RequireDefault("data_format", "channels_last");
        var p = config.GetSidePairs("padding", 3, new[] { (1, 1), (1, 1), (1, 1) });
        return new ZeroPadding3D((p[0], p[1], p[2]), config.Name);
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        RequireRank(input, 5, "(batch, depth, height, width, channels)");
        return new[] { (SpatialSides.PaddedShape(input, sides, (size, what) => DerivedDim(size, input, what)), input.DType) };
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask) => nn.functional.pad(input, SpatialSides.TorchPad(sides));

    /// <summary>ONNX: Pad with zeros along the depth, height and width.</summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call) =>
        new[] { graph.Add("Pad", Name, new[] { call.Input.Name, graph.Int64s(SpatialSides.OnnxPads(sides)) }) };
}
