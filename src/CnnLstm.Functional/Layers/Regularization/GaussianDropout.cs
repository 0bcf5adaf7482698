using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Multiplies by Gaussian noise of mean 1 while training, as Keras' <c>keras.layers.GaussianDropout</c>
/// (keras/src/layers/regularization/gaussian_dropout.py): x × N(1, rate / (1 - rate)) in training, x in inference.
/// Shape (batch, ...) unchanged; passes masks on; no weights. The noise comes from the layer's own generator
/// (<c>Utils.SetRandomSeed</c>), not from Keras' <c>seed</c>, which configs keep null.
/// </summary>
[KerasLayer("GaussianDropout")]
public sealed class GaussianDropout : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="rate">The drop probability, in [0, 1] as Keras accepts it; the noise's standard deviation is
    /// sqrt(rate / (1 - rate)). A rate of 1 (an infinite deviation) fails when called in training, as in Keras.</param>
    /// <param name="name">Layer name; defaults to <c>gaussian_dropout_N</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">The rate is outside [0, 1].</exception>
    public GaussianDropout(double rate, string? name = null)
        : base(name)
    {
        Rate = rate is >= 0 and <= 1 ? rate : throw new ArgumentOutOfRangeException(nameof(rate), rate, "GaussianDropout: rate must be in [0, 1].");
    }

    /// <summary>The drop probability (Keras' <c>rate</c>).</summary>
    public double Rate { get; }

    /// <inheritdoc/>
    public override bool SupportsMasking => true;

    internal override bool BuiltAtInit => true;

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["rate"] = Rate;
        config["seed"] = null;
        return config;
    }

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config (<c>seed</c> read; the noise is this library's).</summary>
    internal static GaussianDropout FromConfig(LayerConfig config)
    {
        config.Ignore("seed");
        return new GaussianDropout(config.GetDouble("rate", 0), config.Name);
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        RequireFloat(input);
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
            throw new InvalidOperationException($"GaussianDropout '{Name}': rate 1 gives an infinite noise deviation sqrt(rate / (1 - rate)) in training (Keras divides by zero there too).");
        }

        var noise = randn(input.shape, dtype: input.dtype, device: input.device, generator: Random).mul(Scalars.Of(Math.Sqrt(Rate / (1 - Rate)))).add(Scalars.IntOne, Scalars.IntOne);
        return input.mul(noise);
    }

    /// <summary>ONNX: the inference form, which passes its input on unchanged.</summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call) => new[] { call.Input.Name };
}
