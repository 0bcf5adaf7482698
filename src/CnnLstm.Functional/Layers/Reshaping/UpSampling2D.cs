using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Enlarges each image by integer factors, as Keras' <c>keras.layers.UpSampling2D</c>
/// (keras/src/layers/reshaping/up_sampling2d.py): (batch, height, width, channels) to (batch, height × size.Height,
/// width × size.Width, channels). <c>nearest</c> repeats each row and column; <c>bilinear</c> interpolates as Keras 3
/// on the torch backend (keras/src/backend/torch/image.py <c>resize</c>: <c>interpolate(mode="bilinear",
/// align_corners=False)</c>, half-pixel centres, edges clamped). Channels-last only. No weights.
/// </summary>
[KerasLayer("UpSampling2D")]
public sealed class UpSampling2D : Layer
{
    private readonly int[] sizes;

    /// <summary>Creates the layer with the same factor for height and width.</summary>
    /// <param name="size">Factor of the height and width; positive.</param>
    /// <param name="interpolation"><c>nearest</c> (Keras' default) or <c>bilinear</c>, any case.</param>
    /// <param name="name">Layer name; defaults to <c>up_sampling2d_N</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size below 1.</exception>
    /// <exception cref="ArgumentException">Another interpolation (Keras' <c>bicubic</c>, <c>lanczos3</c>, <c>lanczos5</c> are not implemented here).</exception>
    public UpSampling2D(int size, string interpolation = "nearest", string? name = null)
        : this((size, size), interpolation, name)
    {
    }

    /// <summary>Creates the layer (Keras' default size (2, 2)).</summary>
    /// <param name="size">Factors of the height and width; positive; null for (2, 2).</param>
    /// <param name="interpolation"><c>nearest</c> (Keras' default) or <c>bilinear</c>, any case.</param>
    /// <param name="name">Layer name; defaults to <c>up_sampling2d_N</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size below 1.</exception>
    /// <exception cref="ArgumentException">Another interpolation (Keras' <c>bicubic</c>, <c>lanczos3</c>, <c>lanczos5</c> are not implemented here).</exception>
    public UpSampling2D((int Height, int Width)? size = null, string interpolation = "nearest", string? name = null)
        : base(name)
    {
        var value = size ?? (2, 2);
        sizes = SpatialSides.CheckSizes(nameof(UpSampling2D), nameof(size), new[] { value.Height, value.Width });
        Interpolation = interpolation.ToLowerInvariant();
        if (Interpolation is not ("nearest" or "bilinear"))
        {
            throw new ArgumentException($"UpSampling2D: interpolation '{interpolation}' is not supported; expected 'nearest' or 'bilinear' (Keras' 'bicubic', 'lanczos3' and 'lanczos5' are not implemented).", nameof(interpolation));
        }
    }

    /// <summary>Factors of the height and width (Keras' <c>size</c>).</summary>
    public (int Height, int Width) Size => (sizes[0], sizes[1]);

    /// <summary><c>nearest</c> or <c>bilinear</c> (Keras' <c>interpolation</c>).</summary>
    public string Interpolation { get; }

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["size"] = SpatialSides.Json(sizes);
        config["data_format"] = "channels_last";
        config["interpolation"] = Interpolation;
        return config;
    }

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config; refuses <c>channels_first</c>.</summary>
    internal static UpSampling2D FromConfig(LayerConfig config)
    {
        config.RequireDefault("data_format", "channels_last");
        var size = config.GetTuple("size", 2, 2);
        return new UpSampling2D((size[0], size[1]), config.GetString("interpolation", "nearest"), config.Name);
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        RequireRank(input, 4, "(batch, height, width, channels)");
        if (Interpolation == "bilinear")
        {
            RequireFloat(input);
        }

        return new[] { (SpatialSides.RepeatedShape(input, sizes, (size, what) => DerivedDim(size, input, what)), input.DType) };
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask)
    {
        if (Interpolation == "nearest")
        {
            return SpatialSides.Repeat(input, sizes);
        }

        using var channelsFirst = input.permute(0, 3, 1, 2);
        using var resized = nn.functional.interpolate(channelsFirst, new[] { input.shape[1] * sizes[0], input.shape[2] * sizes[1] }, mode: InterpolationMode.Bilinear, align_corners: false);
        return resized.permute(0, 2, 3, 1).contiguous();
    }

    /// <summary>
    /// ONNX: Resize; nearest at integer scales over the channels-last axes, bilinear as <c>linear</c> with
    /// <c>half_pixel</c> coordinates over (batch, channels, height, width) between two Transposes.
    /// </summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call) => Interpolation == "nearest"
        ? new[] { SpatialSides.OnnxRepeat(graph, call.Input.Name, Name, sizes) }
        : new[] { graph.ChannelsFirst(call.Input.Name, 2, Name, x => graph.Add("Resize", Name, new[] { x, "", graph.Floats($"{Name}_scales", new[] { 1f, 1f, sizes[0], sizes[1] }, 4) },
            OnnxGraph.Attr("mode", "linear"), OnnxGraph.Attr("coordinate_transformation_mode", "half_pixel"))) };
}
