using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Saving;
using KerasStyle.Saving.Onnx;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Crops the centre of each image to (height, width), as Keras 3.16's <c>keras.layers.CenterCrop</c>
/// (keras/src/layers/preprocessing/image_preprocessing/center_crop.py): (batch, in_height, in_width, channels) to
/// (batch, height, width, channels), channels last. The window starts at ⌊(in_height - height) / 2⌋ and
/// ⌊(in_width - width) / 2⌋. When the image is smaller than the target on either side, Keras resizes instead
/// (<c>keras.utils.smart_resize</c>): it takes the largest centred window of the target aspect ratio and resizes it
/// bilinearly (torch's <c>interpolate</c>, <c>align_corners=False</c>), which this layer does too, deciding per call
/// from the images' size. The training flag changes nothing. No weights.
/// </summary>
/// <remarks>
/// Keras also takes unbatched (rank-3) and integer images (cast to float32); this layer takes a float32 batch
/// (rank 4): add a batch axis of 1 for one image. tf.keras 2.11's CenterCrop computes the same (its config has no
/// <c>data_format</c>).
/// </remarks>
[KerasLayer("CenterCrop"), Keras3OnlyArgument("data_format", "channels_last")]
public sealed class CenterCrop : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="height">Height of the output images; positive.</param>
    /// <param name="width">Width of the output images; positive.</param>
    /// <param name="name">Layer name; defaults to <c>center_crop_N</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A height or width below 1.</exception>
    public CenterCrop(int height, int width, string? name = null)
        : base(CheckedName(height, width, name))
    {
        Height = height;
        Width = width;
    }

    /// <summary>Height of the output images (Keras' <c>height</c>).</summary>
    public int Height { get; }

    /// <summary>Width of the output images (Keras' <c>width</c>).</summary>
    public int Width { get; }

    private static string? CheckedName(int height, int width, string? name)
    {
        Resizing.CheckSize(nameof(CenterCrop), nameof(height), height);
        Resizing.CheckSize(nameof(CenterCrop), nameof(width), width);
        return name;
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["data_format"] = "channels_last";
        config["height"] = Height;
        config["width"] = Width;
        return config;
    }

    /// <summary>Creates the layer from a Keras 3 or tf.keras 2 config; refuses <c>channels_first</c>.</summary>
    internal static CenterCrop FromConfig(LayerConfig config)
    {
        config.RequireDefault("data_format", "channels_last");
        try
        {
            return new CenterCrop(config.GetInt("height"), config.GetInt("width"), config.Name);
        }
        catch (ArgumentException e)
        {
            throw config.Error(e.Message);
        }
    }

    /// <inheritdoc/>
    /// <exception cref="LayerInputException">Not a float32 batch of images (rank 4), or a known height or width of 0.</exception>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input) =>
        new[] { (Resizing.ImageOutputShape(this, input, Height, Width), input.DType) };

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask)
    {
        Resizing.CheckImages(this, input);
        var (inHeight, inWidth) = ((int)input.shape[1], (int)input.shape[2]);
        if (inHeight >= Height && inWidth >= Width)
        {
            using var window = input.narrow(1, (inHeight - Height) / 2, Height).narrow(2, (inWidth - Width) / 2, Width);
            return window.contiguous();
        }

        using var scope = NewDisposeScope();
        var (top, left, h, w) = Resizing.AspectCrop(inHeight, inWidth, Height, Width);
        var images = input.permute(0, 3, 1, 2).narrow(2, top, h).narrow(3, left, w);
        return Resizing.Resize(images, Height, Width, "bilinear", antialias: false).permute(0, 2, 3, 1).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// ONNX, for images of known size: a Slice of the window, or (an image smaller than the target) a Slice of the
    /// aspect-ratio window and a bilinear Resize with <c>half_pixel</c> coordinates between two Transposes.
    /// </summary>
    /// <exception cref="NotSupportedException">Images of unknown height or width: whether Keras crops or resizes depends on their size.</exception>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call)
    {
        if (call.Input.Shape[1] is not int inHeight || call.Input.Shape[2] is not int inWidth)
        {
            throw OnnxGraph.Unsupported(this, $"has no ONNX form for images of unknown height or width ({call.Input.Shape}): whether it crops or resizes depends on their size.");
        }

        if (inHeight >= Height && inWidth >= Width)
        {
            return new[] { graph.Add("Slice", Name, new[] { call.Input.Name, graph.Int64s((inHeight - Height) / 2, (inWidth - Width) / 2), graph.Int64s(((inHeight - Height) / 2) + Height, ((inWidth - Width) / 2) + Width), graph.Int64s(1, 2) }) };
        }

        var (top, left, h, w) = Resizing.AspectCrop(inHeight, inWidth, Height, Width);
        return new[] { graph.ChannelsFirst(call.Input.Name, 2, Name, x => Resizing.OnnxResize(graph, Resizing.OnnxWindow(graph, x, Name, top, left, h, w), Name, Height, Width, "bilinear")) };
    }
}
