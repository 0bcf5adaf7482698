using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving;
using KerasStyle.Saving.Onnx;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Multiplies its input by <c>scale</c> and adds <c>offset</c>, as Keras 3.16's <c>keras.layers.Rescaling</c>
/// (keras/src/layers/preprocessing/rescaling.py): <c>x * scale + offset</c> in float32, each a scalar or a list of
/// one value per channel (the last axis; Keras broadcasts it there with channels-last data). Any shape (batch, ...)
/// in, the same out; integer inputs are cast to float32 first, as Keras casts to its compute dtype. Passes masks on;
/// no weights, the training flag changes nothing.
/// </summary>
/// <remarks>
/// Keras accepts any array that broadcasts against the input; this layer takes scalars and one-dimensional lists (a
/// list of one value or of one value per channel), and refuses other shapes when created or read from a config.
/// Configs write lists as Keras writes Python lists; Keras' serialized NumPy arrays (<c>__numpy__</c>) and tf.keras
/// 2's plain numbers are read too.
/// </remarks>
[KerasLayer("Rescaling")]
public sealed class Rescaling : Layer
{
    private readonly double[] scale;
    private readonly double[] offset;

    /// <summary>Creates the layer with scalars.</summary>
    /// <param name="scale">The factor (e.g. 1/255 to bring [0, 255] to [0, 1]).</param>
    /// <param name="offset">Added after scaling (default 0).</param>
    /// <param name="name">Layer name; defaults to <c>rescaling_N</c>.</param>
    /// <exception cref="ArgumentException">A value that is not finite.</exception>
    public Rescaling(double scale, double offset = 0.0, string? name = null)
        : this(new[] { scale }, true, new[] { offset }, true, name)
    {
    }

    /// <summary>Creates the layer with one scale and offset per channel (the last axis), or one value in a list.</summary>
    /// <param name="scale">The factors: one value, or one per channel.</param>
    /// <param name="offset">The offsets: null for 0, one value, or one per channel.</param>
    /// <param name="name">Layer name; defaults to <c>rescaling_N</c>.</param>
    /// <exception cref="ArgumentException">An empty list, lists of two different lengths above 1, or a value that is not finite.</exception>
    public Rescaling(double[] scale, double[]? offset = null, string? name = null)
        : this(scale ?? throw new ArgumentNullException(nameof(scale)), false, offset ?? new[] { 0.0 }, offset is null, name)
    {
    }

    private Rescaling(double[] scale, bool scaleScalar, double[] offset, bool offsetScalar, string? name)
        : base(CheckedName(scale, offset, name))
    {
        this.scale = (double[])scale.Clone();
        this.offset = (double[])offset.Clone();
        ScaleIsScalar = scaleScalar;
        OffsetIsScalar = offsetScalar;
    }

    /// <summary>The factor(s) (Keras' <c>scale</c>): one value, or one per channel.</summary>
    public IReadOnlyList<double> Scale => scale;

    /// <summary>The offset(s) (Keras' <c>offset</c>): one value, or one per channel.</summary>
    public IReadOnlyList<double> Offset => offset;

    /// <summary>Whether <see cref="Scale"/> is a scalar (written as a number) rather than a list.</summary>
    public bool ScaleIsScalar { get; }

    /// <summary>Whether <see cref="Offset"/> is a scalar (written as a number) rather than a list.</summary>
    public bool OffsetIsScalar { get; }

    /// <inheritdoc/>
    public override bool SupportsMasking => true;

    internal override bool BuiltAtInit => true;

    private static string? CheckedName(double[] scale, double[] offset, string? name)
    {
        foreach (var (what, values) in new[] { ("scale", scale), ("offset", offset) })
        {
            if (values.Length == 0)
            {
                throw new ArgumentException($"Rescaling: {what} is an empty list; give a number or one value per channel.", what);
            }

            if (values.Any(v => !double.IsFinite(v)))
            {
                throw new ArgumentException($"Rescaling: {what} [{string.Join(", ", values)}] must be finite.", what);
            }
        }

        if (scale.Length > 1 && offset.Length > 1 && scale.Length != offset.Length)
        {
            throw new ArgumentException($"Rescaling: scale has {scale.Length} values and offset {offset.Length}; per-channel lists must have the same length (they broadcast along the channels axis).", nameof(offset));
        }

        return name;
    }

    /// <summary>The number of channels the lists ask for (1 when both are single values).</summary>
    private int Channels => Math.Max(scale.Length, offset.Length);

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["scale"] = ToJson(scale, ScaleIsScalar);
        config["offset"] = ToJson(offset, OffsetIsScalar);
        return config;
    }

    private static JsonNode ToJson(double[] values, bool scalar) => scalar ? JsonValue.Create(values[0]) : new JsonArray(values.Select(v => (JsonNode)JsonValue.Create(v)).ToArray());

    /// <summary>Creates the layer from a Keras 3 or tf.keras 2 config: numbers, lists, or Keras' serialized NumPy arrays.</summary>
    internal static Rescaling FromConfig(LayerConfig config)
    {
        var (scale, scaleScalar) = ReadValues(config, "scale", required: true);
        var (offset, offsetScalar) = ReadValues(config, "offset", required: false);
        try
        {
            return new Rescaling(scale, scaleScalar, offset, offsetScalar, config.Name);
        }
        catch (ArgumentException e)
        {
            throw config.Error(e.Message);
        }
    }

    private static (double[] Values, bool Scalar) ReadValues(LayerConfig config, string key, bool required)
    {
        var raw = config.GetRaw(key);
        if (raw is JsonObject { } numpy && numpy["class_name"] is JsonValue cls && cls.TryGetValue<string>(out var className) && className == "__numpy__")
        {
            raw = numpy["config"]?["value"];
        }

        return raw switch
        {
            null when !required => (new[] { 0.0 }, true),
            null => throw config.Error($"the argument '{key}' is required."),
            JsonValue v when v.TryGetValue<double>(out var number) => (new[] { number }, true),
            JsonArray list when list.All(e => e is JsonValue ev && ev.TryGetValue<double>(out _)) => (list.Select(e => e!.GetValue<double>()).ToArray(), false),
            _ => throw config.Error($"'{key}' {raw.ToJsonString()} is not supported; this library takes a number or a flat list of one value per channel."),
        };
    }

    /// <inheritdoc/>
    /// <exception cref="LayerInputException">Per-channel lists whose length differs from the input's known last axis.</exception>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        if (Channels > 1 && input.Shape[input.Shape.Rank - 1] is { } last && last != Channels)
        {
            throw InputError($"scale/offset have {Channels} values, one per channel, but {input.Label} has shape {input.Shape}, with {last} on its last (channels) axis.");
        }

        return new[] { (input.Shape, DType.Float32) };
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask)
    {
        if (Channels > 1 && input.shape[^1] != Channels)
        {
            throw InputError($"scale/offset have {Channels} values, one per channel, but the input has shape ({string.Join(", ", input.shape)}).");
        }

        using var scope = NewDisposeScope();
        var x = input.dtype == ScalarType.Float32 ? input : input.to_type(ScalarType.Float32);
        var scaled = scale.Length == 1 ? x.mul(Scalars.Of((float)scale[0])) : x.mul(Values(scale, x));
        var result = offset.Length == 1 ? scaled.add(Scalars.Of((float)offset[0]), Scalars.IntOne) : scaled.add(Values(offset, x), Scalars.IntOne);
        return result.MoveToOuterDisposeScope();
    }

    private static Tensor Values(double[] values, Tensor like) => tensor(values.Select(v => (float)v).ToArray(), device: like.device);

    /// <summary>ONNX: a Cast of integer inputs, Mul by the scale and Add of the offset (float32 constants).</summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call)
    {
        // Cast to float32 (nothing for float32 inputs; integer inputs as Keras casts them).
        var x = graph.Add("Cast", Name, new[] { call.Input.Name }, OnnxGraph.Attr("to", (long)OnnxGraph.Float));

        var scaled = graph.Add("Mul", Name, new[] { x, graph.Floats($"{Name}_scale", scale.Select(v => (float)v).ToArray(), scale.Length) });
        return new[] { graph.Add("Add", Name, new[] { scaled, graph.Floats($"{Name}_offset", offset.Select(v => (float)v).ToArray(), offset.Length) }) };
    }
}
