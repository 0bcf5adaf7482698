using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Dropout that keeps the mean and variance of SELU activations while training, as Keras'
/// <c>keras.layers.AlphaDropout</c> (keras/src/layers/regularization/alpha_dropout.py): each entry is kept where a
/// uniform draw is at least <c>rate</c>, else set to α' = -1.7580993408473766 (-SELU's α × scale), then the result
/// is a × x + b with a = ((1 - rate)(1 + rate α'²))^-½ and b = -a α' rate; the identity in inference. Shape
/// (batch, ...) unchanged; passes masks on; no weights. The draws come from the layer's own generator, not Keras' seed.
/// </summary>
[KerasLayer("AlphaDropout")]
public sealed class AlphaDropout : Layer
{
    private const double Alpha = 1.6732632423543772848170429916717;
    private const double SeluScale = 1.0507009873554804934193349852946;

    /// <summary>Creates the layer.</summary>
    /// <param name="rate">The drop probability, in [0, 1] as Keras accepts it (1 fails when called in training, as
    /// Keras divides by zero there).</param>
    /// <param name="noiseShape">Keras' <c>noise_shape</c>: the shape of the keep/drop draws, including the batch axis,
    /// with null for "as the input" (e.g. <c>[null, 1, null]</c> shares one draw across the steps); default null,
    /// one draw per entry. Each given size must be 1 or the input's size on that axis.</param>
    /// <param name="name">Layer name; defaults to <c>alpha_dropout_N</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">The rate is outside [0, 1], or a noise size is below 1.</exception>
    public AlphaDropout(double rate, int?[]? noiseShape = null, string? name = null)
        : base(name)
    {
        Rate = rate is >= 0 and <= 1 ? rate : throw new ArgumentOutOfRangeException(nameof(rate), rate, "AlphaDropout: rate must be in [0, 1].");
        if (noiseShape is not null && noiseShape.Any(d => d is < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(noiseShape), $"AlphaDropout: noise_shape sizes must be positive or null, got [{string.Join(", ", noiseShape.Select(d => d?.ToString() ?? "None"))}].");
        }

        NoiseShape = noiseShape?.ToArray();
    }

    /// <summary>The drop probability (Keras' <c>rate</c>).</summary>
    public double Rate { get; }

    /// <summary>The draws' shape with the batch axis (Keras' <c>noise_shape</c>), or null for the input's.</summary>
    public IReadOnlyList<int?>? NoiseShape { get; }

    /// <inheritdoc/>
    public override bool SupportsMasking => true;

    internal override bool BuiltAtInit => true;

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["rate"] = Rate;
        config["seed"] = null;
        config["noise_shape"] = NoiseShape is null ? null : new JsonArray(NoiseShape.Select(d => d is int v ? JsonValue.Create(v) : null).ToArray<JsonNode?>());
        return config;
    }

    /// <summary>Creates the layer from a Keras 3 config (<c>seed</c> read; the draws are this library's).</summary>
    internal static AlphaDropout FromConfig(LayerConfig config)
    {
        config.Ignore("seed");
        var raw = config.GetRaw("noise_shape");
        int?[]? noise = raw switch
        {
            null => null,
            JsonArray list when list.All(d => d is null || (d is JsonValue v && v.TryGetValue<int>(out _))) => list.Select(d => d is null ? (int?)null : d.GetValue<int>()).ToArray(),
            _ => throw config.Error($"'noise_shape' {raw.ToJsonString()} is not a list of sizes and nulls."),
        };
        return new AlphaDropout(config.GetDouble("rate", 0), noise, config.Name);
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        RequireFloat(input);
        if (NoiseShape is not null)
        {
            var fits = NoiseShape.Count == input.Shape.Rank
                && NoiseShape.Select((d, i) => d is null || d == 1 || i > 0 && input.Shape[i] is null || input.Shape[i] == d).All(ok => ok);
            if (!fits)
            {
                throw InputError($"noise_shape ({string.Join(", ", NoiseShape.Select(d => d?.ToString() ?? "None"))}) does not broadcast to {input.Label} with shape {input.Shape}.");
            }
        }

        return new[] { (input.Shape, input.DType) };
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask)
    {
        if (!training || Rate == 0)
        {
            return input.alias();
        }

        if (Rate >= 1)
        {
            throw new InvalidOperationException($"AlphaDropout '{Name}': rate 1 makes the scale ((1 - rate)(1 + rate α'²))^-½ infinite in training (Keras divides by zero there too).");
        }

        var shape = NoiseShape is null ? input.shape : NoiseShape.Select((d, i) => d is int v ? (long)v : input.shape[i]).ToArray();
        if (NoiseShape is not null && shape.Where((d, i) => d != 1 && d != input.shape[i]).Any())
        {
            throw new LayerInputException(Name, $"AlphaDropout '{Name}': noise_shape ({string.Join(", ", shape)}) does not broadcast to an input of shape ({string.Join(", ", input.shape)}).");
        }

        var alphaP = -Alpha * SeluScale;
        var a = Math.Pow((1 - Rate) * (1 + (Rate * alphaP * alphaP)), -0.5);
        var b = -a * alphaP * Rate;
        var kept = rand(shape, dtype: input.dtype, device: input.device, generator: Random).ge(Scalars.Of(Rate)).to_type(input.dtype);
        // x × kept + α' (1 - kept), then a x + b.
        var x = input.mul(kept).add(Scalars.OneMinus(kept).mul(Scalars.Of(alphaP)), Scalars.IntOne);
        return x.mul(Scalars.Of(a)).add(Scalars.Of(b), Scalars.IntOne);
    }

    /// <summary>ONNX: the inference form, which passes its input on unchanged.</summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call) => new[] { call.Input.Name };
}
