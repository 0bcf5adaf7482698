using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Removes entries at the edges of each volume, as Keras' <c>keras.layers.Cropping3D</c>
/// (keras/src/layers/reshaping/cropping3d.py): (batch, depth, height, width, channels) to (batch, depth minus its two
/// croppings, height minus its two, width minus its two, channels); at least one entry must remain on each axis.
/// Channels-last only. No weights.
/// </summary>
[KerasLayer("Cropping3D")]
public sealed class Cropping3D : Layer
{
    private readonly (int Start, int End)[] sides;

    /// <summary>Creates the layer with the same cropping on every side.</summary>
    /// <param name="cropping">Entries removed on each side of each spatial axis; 0 or more.</param>
    /// <param name="name">Layer name; defaults to <c>cropping3d_N</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A negative cropping.</exception>
    public Cropping3D(int cropping, string? name = null)
        : this(((cropping, cropping), (cropping, cropping), (cropping, cropping)), name)
    {
    }

    /// <summary>Creates the layer with symmetric cropping per axis (Keras' <c>(dim1_crop, dim2_crop, dim3_crop)</c>).</summary>
    /// <param name="cropping">Entries removed at both ends of the depth, height and width; 0 or more.</param>
    /// <param name="name">Layer name; defaults to <c>cropping3d_N</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A negative cropping.</exception>
    public Cropping3D((int Depth, int Height, int Width) cropping, string? name = null)
        : this(((cropping.Depth, cropping.Depth), (cropping.Height, cropping.Height), (cropping.Width, cropping.Width)), name)
    {
    }

    /// <summary>Creates the layer with its own cropping on each side (Keras' <c>((d1, d2), (h1, h2), (w1, w2))</c>); Keras' default is 1 everywhere.</summary>
    /// <param name="cropping">Entries removed at the start and end of the depth, height and width; 0 or more; null for Keras' default ((1, 1), (1, 1), (1, 1)).</param>
    /// <param name="name">Layer name; defaults to <c>cropping3d_N</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A negative cropping.</exception>
    public Cropping3D(((int Start, int End) Depth, (int Start, int End) Height, (int Start, int End) Width)? cropping = null, string? name = null)
        : base(name)
    {
        var value = cropping ?? ((1, 1), (1, 1), (1, 1));
        sides = SpatialSides.Check(nameof(Cropping3D), nameof(cropping), new[] { value.Depth, value.Height, value.Width });
    }

    /// <summary>Entries removed at the start and end of the depth, height and width (Keras' <c>cropping</c>).</summary>
    public ((int Start, int End) Depth, (int Start, int End) Height, (int Start, int End) Width) Cropping => (sides[0], sides[1], sides[2]);

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["cropping"] = SpatialSides.Json(sides);
        config["data_format"] = "channels_last";
        return config;
    }

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config; refuses <c>channels_first</c>.</summary>
    internal static Cropping3D FromConfig(LayerConfig config)
    {
        config.RequireDefault("data_format", "channels_last");
        var c = config.GetSidePairs("cropping", 3, new[] { (1, 1), (1, 1), (1, 1) });
        return new Cropping3D((c[0], c[1], c[2]), config.Name);
    }

    /// <inheritdoc/>
    /// <exception cref="LayerInputException">A known depth, height or width not larger than its two croppings.</exception>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        RequireRank(input, 5, "(batch, depth, height, width, channels)");
        var shape = SpatialSides.CroppedShape(input.Shape, sides)
            ?? throw InputError($"cropping {SpatialSides.Text(sides)} leaves nothing of {input.Label} with shape {input.Shape}; each depth, height and width must be larger than its two croppings.");
        return new[] { (shape, input.DType) };
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask)
    {
        if (SpatialSides.CroppedShape(new Shape(input.shape.Select(d => (int?)d).ToArray()), sides) is null)
        {
            throw InputError($"cropping {SpatialSides.Text(sides)} leaves nothing of an input with shape ({string.Join(", ", input.shape)}); each depth, height and width must be larger than its two croppings.");
        }

        return SpatialSides.Crop(input, sides);
    }

    /// <summary>ONNX: Slice of the depth, height and width.</summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call) =>
        new[] { SpatialSides.OnnxCrop(graph, call.Input.Name, Name, sides) };
}
