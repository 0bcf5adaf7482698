using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Removes rows and columns at the edges of each image, as Keras' <c>keras.layers.Cropping2D</c>
/// (keras/src/layers/reshaping/cropping2d.py): (batch, height, width, channels) to (batch, height - top - bottom,
/// width - left - right, channels); at least one row and column must remain. Channels-last only. No weights.
/// </summary>
[KerasLayer("Cropping2D")]
public sealed class Cropping2D : Layer
{
    private readonly (int Start, int End)[] sides;

    /// <summary>Creates the layer with the same cropping on every side (Keras' default 0).</summary>
    /// <param name="cropping">Rows and columns removed on each side; 0 or more.</param>
    /// <param name="name">Layer name; defaults to <c>cropping2d_N</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A negative cropping.</exception>
    public Cropping2D(int cropping = 0, string? name = null)
        : this(((cropping, cropping), (cropping, cropping)), name)
    {
    }

    /// <summary>Creates the layer with symmetric cropping per axis (Keras' <c>(symmetric_height_crop, symmetric_width_crop)</c>).</summary>
    /// <param name="cropping">Rows removed at the top and at the bottom, columns at the left and at the right; 0 or more.</param>
    /// <param name="name">Layer name; defaults to <c>cropping2d_N</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A negative cropping.</exception>
    public Cropping2D((int Height, int Width) cropping, string? name = null)
        : this(((cropping.Height, cropping.Height), (cropping.Width, cropping.Width)), name)
    {
    }

    /// <summary>Creates the layer with its own cropping on each side (Keras' <c>((top, bottom), (left, right))</c>).</summary>
    /// <param name="cropping">Rows removed at the top and bottom, columns at the left and right; 0 or more.</param>
    /// <param name="name">Layer name; defaults to <c>cropping2d_N</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A negative cropping.</exception>
    public Cropping2D(((int Top, int Bottom) Height, (int Left, int Right) Width) cropping, string? name = null)
        : base(name)
    {
        sides = SpatialSides.Check(nameof(Cropping2D), nameof(cropping), new[] { cropping.Height, cropping.Width });
    }

    /// <summary>Rows (top, bottom) and columns (left, right) removed (Keras' <c>cropping</c>).</summary>
    public ((int Top, int Bottom) Height, (int Left, int Right) Width) Cropping => (sides[0], sides[1]);

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["cropping"] = SpatialSides.Json(sides);
        config["data_format"] = "channels_last";
        return config;
    }

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config; refuses <c>channels_first</c>.</summary>
    internal static Cropping2D FromConfig(LayerConfig config)
    {
        config.RequireDefault("data_format", "channels_last");
        var c = config.GetSidePairs("cropping", 2, new[] { (0, 0), (0, 0) });
        return new Cropping2D((c[0], c[1]), config.Name);
    }

    /// <inheritdoc/>
    /// <exception cref="LayerInputException">A known height or width not larger than its two croppings.</exception>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        RequireRank(input, 4, "(batch, height, width, channels)");
        var shape = SpatialSides.CroppedShape(input.Shape, sides)
            ?? throw InputError($"cropping {SpatialSides.Text(sides)} leaves nothing of {input.Label} with shape {input.Shape}; each height and width must be larger than its two croppings.");
        return new[] { (shape, input.DType) };
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask)
    {
        if (SpatialSides.CroppedShape(new Shape(input.shape.Select(d => (int?)d).ToArray()), sides) is null)
        {
            throw InputError($"cropping {SpatialSides.Text(sides)} leaves nothing of an input with shape ({string.Join(", ", input.shape)}); each height and width must be larger than its two croppings.");
        }

        return SpatialSides.Crop(input, sides);
    }

    /// <summary>ONNX: Slice of the height and width.</summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call) =>
        new[] { SpatialSides.OnnxCrop(graph, call.Input.Name, Name, sides) };
}
