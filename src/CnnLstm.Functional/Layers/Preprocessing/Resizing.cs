using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving;
using KerasStyle.Saving.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Resizes each image to (height, width), as Keras 3.16's <c>keras.layers.Resizing</c>
/// (keras/src/layers/preprocessing/image_preprocessing/resizing.py) on the torch backend
/// (keras/src/backend/torch/image.py <c>resize</c>): (batch, in_height, in_width, channels) to (batch, height, width,
/// channels), channels last. <c>bilinear</c> and <c>bicubic</c> are torch's <c>interpolate</c> with
/// <c>align_corners=False</c> (half-pixel centres; bicubic's coefficient -0.75), <c>nearest</c> is torch's
/// <c>nearest-exact</c>; <c>antialias</c> widens the bilinear and bicubic filters when shrinking (torch's
/// <c>antialias=True</c>) and does nothing for <c>nearest</c>, as Keras. <c>crop_to_aspect_ratio</c> first takes the
/// largest centred window of the target aspect ratio; <c>pad_to_aspect_ratio</c> first adds rows or columns of
/// <c>fill_value</c> evenly on both sides of the short side. The training flag changes nothing. No weights.
/// </summary>
/// <remarks>
/// Keras 3.16's torch backend refuses <c>lanczos3</c> and <c>lanczos5</c> and does not know <c>area</c>; so does this
/// layer. A tf.keras 2 file is read as tf.keras 2 computed it: its bilinear and nearest are TensorFlow's half-pixel
/// resizes, the same as above; its <c>bicubic</c> (TensorFlow's Keys kernel, coefficient -0.5) and its other methods
/// are refused. Keras accepts unbatched (rank-3) images and integer images; this layer takes a float32 batch
/// (rank 4): add a batch axis of 1 for one image.
/// </remarks>
[KerasLayer("Resizing"), TfKeras2Differs("interpolation", "bicubic")]
[Keras3OnlyArgument("pad_to_aspect_ratio", false), Keras3OnlyArgument("fill_mode", "constant"), Keras3OnlyArgument("fill_value", 0)]
[Keras3OnlyArgument("antialias", false), Keras3OnlyArgument("data_format", "channels_last")]
public sealed class Resizing : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="height">Height of the output images; positive.</param>
    /// <param name="width">Width of the output images; positive.</param>
    /// <param name="interpolation"><c>bilinear</c> (Keras' default), <c>nearest</c> or <c>bicubic</c>.</param>
    /// <param name="cropToAspectRatio">Crop each image to the largest centred window of the target aspect ratio before resizing (default false).</param>
    /// <param name="padToAspectRatio">Pad each image evenly on its short side to the target aspect ratio before resizing (default false).</param>
    /// <param name="fillMode">How padding is filled: only <c>constant</c> (Keras' only mode).</param>
    /// <param name="fillValue">The value of the padding (default 0).</param>
    /// <param name="antialias">Antialias when shrinking with bilinear or bicubic (default false).</param>
    /// <param name="name">Layer name; defaults to <c>resizing_N</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A height or width below 1.</exception>
    /// <exception cref="ArgumentException">Another interpolation or fill mode, or both aspect-ratio options at once (as Keras refuses).</exception>
    public Resizing(int height, int width, string interpolation = "bilinear", bool cropToAspectRatio = false, bool padToAspectRatio = false,
        string fillMode = "constant", double fillValue = 0.0, bool antialias = false, string? name = null)
        : base(CheckedName(height, width, interpolation, cropToAspectRatio, padToAspectRatio, fillMode, name))
    {
        Height = height;
        Width = width;
        Interpolation = interpolation;
        CropToAspectRatio = cropToAspectRatio;
        PadToAspectRatio = padToAspectRatio;
        FillMode = fillMode;
        FillValue = fillValue;
        Antialias = antialias;
    }

    /// <summary>Height of the output images (Keras' <c>height</c>).</summary>
    public int Height { get; }

    /// <summary>Width of the output images (Keras' <c>width</c>).</summary>
    public int Width { get; }

    /// <summary><c>bilinear</c>, <c>nearest</c> or <c>bicubic</c> (Keras' <c>interpolation</c>).</summary>
    public string Interpolation { get; }

    /// <summary>Keras' <c>crop_to_aspect_ratio</c>.</summary>
    public bool CropToAspectRatio { get; }

    /// <summary>Keras' <c>pad_to_aspect_ratio</c>.</summary>
    public bool PadToAspectRatio { get; }

    /// <summary>Keras' <c>fill_mode</c>: <c>constant</c>.</summary>
    public string FillMode { get; }

    /// <summary>Keras' <c>fill_value</c>: the value of the padding.</summary>
    public double FillValue { get; }

    /// <summary>Keras' <c>antialias</c>.</summary>
    public bool Antialias { get; }

    private static string? CheckedName(int height, int width, string interpolation, bool crop, bool pad, string fillMode, string? name)
    {
        CheckSize(nameof(Resizing), nameof(height), height);
        CheckSize(nameof(Resizing), nameof(width), width);
        if (interpolation is "lanczos3" or "lanczos5")
        {
            throw new ArgumentException($"Resizing: interpolation '{interpolation}' is not supported (Keras 3.16's torch backend refuses Lanczos interpolation too); expected 'bilinear', 'nearest' or 'bicubic'.", nameof(interpolation));
        }

        if (interpolation is not ("bilinear" or "nearest" or "bicubic"))
        {
            throw new ArgumentException($"Resizing: interpolation '{interpolation}' is not supported; expected 'bilinear', 'nearest' or 'bicubic' (Keras 3.16's torch backend has no other).", nameof(interpolation));
        }

        if (fillMode != "constant")
        {
            throw new ArgumentException($"Resizing: fill_mode '{fillMode}' is not supported; Keras supports only 'constant'.", nameof(fillMode));
        }

        if (crop && pad)
        {
            throw new ArgumentException("Resizing: only one of crop_to_aspect_ratio and pad_to_aspect_ratio can be true.", nameof(pad));
        }

        return name;
    }

    internal static void CheckSize(string layer, string what, int size)
    {
        if (size < 1)
        {
            throw new ArgumentOutOfRangeException(what, size, $"{layer}: {what} must be at least 1, but got {size}.");
        }
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["data_format"] = "channels_last";
        config["height"] = Height;
        config["width"] = Width;
        config["interpolation"] = Interpolation;
        config["crop_to_aspect_ratio"] = CropToAspectRatio;
        config["pad_to_aspect_ratio"] = PadToAspectRatio;
        config["fill_mode"] = FillMode;
        config["fill_value"] = FillValue;
        config["antialias"] = Antialias;
        return config;
    }

    /// <summary>Creates the layer from a Keras 3 or tf.keras 2 config; refuses <c>channels_first</c> and tf.keras 2's other methods than bilinear and nearest.</summary>
    internal static Resizing FromConfig(LayerConfig config)
    {
        config.RequireDefault("data_format", "channels_last");
        var interpolation = config.GetString("interpolation", "bilinear");
        if (config.Keras2 && interpolation != "bilinear" && interpolation != "nearest")
        {
            throw config.Error($"tf.keras 2's interpolation '{interpolation}' is not supported (TensorFlow's resize computes it otherwise than torch); only 'bilinear' and 'nearest'.");
        }

        try
        {
            return new Resizing(config.GetInt("height"), config.GetInt("width"), interpolation, config.GetBool("crop_to_aspect_ratio", false),
                config.GetBool("pad_to_aspect_ratio", false), config.GetString("fill_mode", "constant"), config.GetDouble("fill_value", 0.0),
                config.GetBool("antialias", false), config.Name);
        }
        catch (ArgumentException e)
        {
            throw config.Error(e.Message);
        }
    }

    /// <inheritdoc/>
    /// <exception cref="LayerInputException">Not a float32 batch of images (rank 4), or a known height or width of 0.</exception>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input) =>
        new[] { (ImageOutputShape(this, input, Height, Width), input.DType) };

    /// <summary>The checks both image layers make, and their output shape (batch, height, width, channels).</summary>
    internal static Shape ImageOutputShape(Layer layer, KerasTensor input, int height, int width)
    {
        if (input.Shape.Rank != 4)
        {
            throw new LayerInputException(layer.Name, $"{layer.ClassName} '{layer.Name}': expected a batch of channels-last images of rank 4 (batch, height, width, channels), but got {input.Label} with shape {input.Shape} (rank {input.Shape.Rank}); for one image (Keras' unbatched rank-3 call) add a batch axis of 1.");
        }

        if (input.DType != DType.Float32)
        {
            throw new LayerInputException(layer.Name, $"{layer.ClassName} '{layer.Name}': expected float32 images, but got {input.Label} with dtype {input.DType.ToKerasName()} and shape {input.Shape}.");
        }

        if (input.Shape[1] == 0 || input.Shape[2] == 0)
        {
            throw new LayerInputException(layer.Name, $"{layer.ClassName} '{layer.Name}': cannot resize {input.Label} with shape {input.Shape}: its height and width must be at least 1.");
        }

        return new Shape(input.Shape[0], height, width, input.Shape[3]);
    }

    /// <summary>Refuses an image of no height or width at run time.</summary>
    internal static void CheckImages(Layer layer, Tensor input)
    {
        if (input.shape[1] == 0 || input.shape[2] == 0)
        {
            throw new LayerInputException(layer.Name, $"{layer.ClassName} '{layer.Name}': cannot resize images of shape ({string.Join(", ", input.shape)}): their height and width must be at least 1.");
        }
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask)
    {
        CheckImages(this, input);
        using var scope = NewDisposeScope();
        var images = input.permute(0, 3, 1, 2);
        var (inHeight, inWidth) = ((int)images.shape[2], (int)images.shape[3]);
        if (CropToAspectRatio)
        {
            var (top, left, cropHeight, cropWidth) = AspectCrop(inHeight, inWidth, Height, Width);
            images = images.narrow(2, top, cropHeight).narrow(3, left, cropWidth);
        }
        else if (PadToAspectRatio)
        {
            var (top, left) = AspectPad(inHeight, inWidth, Height, Width);
            var fill = Scalars.Of((float)FillValue);
            if (top > 0)
            {
                var rows = full(new long[] { images.shape[0], images.shape[1], top, inWidth }, fill, images.dtype);
                images = cat(new[] { rows, images, rows }, 2);
            }

            if (left > 0)
            {
                var columns = full(new long[] { images.shape[0], images.shape[1], inHeight, left }, fill, images.dtype);
                images = cat(new[] { columns, images, columns }, 3);
            }
        }

        return Resize(images, Height, Width, Interpolation, Antialias).permute(0, 2, 3, 1).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The centred window of the target aspect ratio, as Keras computes it (torch backend's <c>resize</c> with
    /// <c>crop_to_aspect_ratio</c>, and <c>smart_resize</c>): its start and size along the height and width.
    /// </summary>
    internal static (int Top, int Left, int Height, int Width) AspectCrop(int height, int width, int targetHeight, int targetWidth)
    {
        var cropHeight = Math.Max(Math.Min(height, (int)((double)((long)width * targetHeight) / targetWidth)), 1);
        var cropWidth = Math.Max(Math.Min(width, (int)((double)((long)height * targetWidth) / targetHeight)), 1);
        return ((int)((double)(height - cropHeight) / 2), (int)((double)(width - cropWidth) / 2), cropHeight, cropWidth);
    }

    /// <summary>The rows (top) or columns (left) of padding added on each side, as Keras' <c>pad_to_aspect_ratio</c>.</summary>
    internal static (int Top, int Left) AspectPad(int height, int width, int targetHeight, int targetWidth)
    {
        var padHeight = Math.Max(height, (int)((double)((long)width * targetHeight) / targetWidth));
        var padWidth = Math.Max(width, (int)((double)((long)height * targetWidth) / targetHeight));
        return ((int)((double)(padHeight - height) / 2), (int)((double)(padWidth - width) / 2));
    }

    /// <summary>torch's <c>interpolate</c> of channels-first images as Keras' torch backend calls it.</summary>
    internal static Tensor Resize(Tensor images, int height, int width, string interpolation, bool antialias)
    {
        var size = new long[] { height, width };
        return interpolation switch
        {
            "nearest" => nn.functional.interpolate(images, size, mode: InterpolationMode.NearestExact),
            "bicubic" => nn.functional.interpolate(images, size, mode: InterpolationMode.Bicubic, align_corners: false, antialias: antialias),
            _ => nn.functional.interpolate(images, size, mode: InterpolationMode.Bilinear, align_corners: false, antialias: antialias),
        };
    }

    /// <summary>
    /// ONNX: between two Transposes, a Slice (crop) or Pad (constant <c>fill_value</c>) of images of known size, then
    /// Resize to (batch, channels, height, width) with <c>half_pixel</c> coordinates: <c>linear</c> or <c>nearest</c> rounding half up (torch's <c>nearest-exact</c>).
    /// </summary>
    /// <exception cref="NotSupportedException"><c>bicubic</c>, <c>antialias</c> with bilinear (ONNX's Resize has it from opset 18; the library writes 17), or cropping or padding images of unknown height or width.</exception>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call)
    {
        if (Antialias && Interpolation != "nearest")
        {
            throw OnnxGraph.Unsupported(this, "with antialias has no ONNX form at opset 17 (Resize's antialias attribute needs opset 18).");
        }

        if (Interpolation == "bicubic")
        {
            throw OnnxGraph.Unsupported(this, "with interpolation 'bicubic' has no ONNX form here (ONNX Runtime's cubic Resize refuses shrinking a 4-D image).");
        }

        var (inHeight, inWidth) = (call.Input.Shape[1], call.Input.Shape[2]);
        if ((CropToAspectRatio || PadToAspectRatio) && (inHeight is null || inWidth is null))
        {
            throw OnnxGraph.Unsupported(this, $"with {(CropToAspectRatio ? "crop_to_aspect_ratio" : "pad_to_aspect_ratio")} has no ONNX form for images of unknown height or width ({call.Input.Shape}).");
        }

        return new[]
        {
            graph.ChannelsFirst(call.Input.Name, 2, Name, x =>
            {
                if (CropToAspectRatio)
                {
                    var (top, left, h, w) = AspectCrop(inHeight!.Value, inWidth!.Value, Height, Width);
                    x = OnnxWindow(graph, x, Name, top, left, h, w);
                }
                else if (PadToAspectRatio)
                {
                    var (top, left) = AspectPad(inHeight!.Value, inWidth!.Value, Height, Width);
                    if (top > 0 || left > 0)
                    {
                        x = graph.Add("Pad", Name, new[] { x, graph.Int64s(0, 0, top, left, 0, 0, top, left), graph.Scalar((float)FillValue) }, OnnxGraph.Attr("mode", "constant"));
                    }
                }

                return OnnxResize(graph, x, Name, Height, Width, Interpolation);
            }),
        };
    }

    /// <summary>ONNX: the window [top, top + height) × [left, left + width) of channels-first images.</summary>
    internal static string OnnxWindow(OnnxGraph graph, string x, string hint, int top, int left, int height, int width) =>
        graph.Add("Slice", hint, new[] { x, graph.Int64s(top, left), graph.Int64s(top + height, left + width), graph.Int64s(2, 3) });

    /// <summary>ONNX: Resize of channels-first images to (height, width), as torch's <c>interpolate</c> in Keras' torch backend.</summary>
    internal static string OnnxResize(OnnxGraph graph, string x, string hint, int height, int width, string interpolation)
    {
        var sizes = graph.ConcatShapes(hint, graph.ShapeOf(x, hint, 0, 2), graph.Int64s(height, width));
        var attributes = interpolation switch
        {
            "nearest" => new[] { OnnxGraph.Attr("mode", "nearest"), OnnxGraph.Attr("nearest_mode", "round_prefer_ceil") },
            _ => new[] { OnnxGraph.Attr("mode", "linear") },
        };
        return graph.Add("Resize", hint, new[] { x, "", "", sizes }, attributes.Append(OnnxGraph.Attr("coordinate_transformation_mode", "half_pixel")).ToArray());
    }
}
