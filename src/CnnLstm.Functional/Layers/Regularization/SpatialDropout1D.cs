using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Drops whole feature channels while training, as Keras' <c>keras.layers.SpatialDropout1D</c>
/// (keras/src/layers/regularization/spatial_dropout.py): one keep/drop draw per sample and channel, shared by every
/// step, kept values scaled by 1 / (1 - rate); the identity in inference. Input and output (batch, steps, features);
/// passes masks on; no weights. The draws come from the layer's own generator, not from Keras' seed.
/// </summary>
[KerasLayer("SpatialDropout1D")]
public sealed class SpatialDropout1D : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="rate">The fraction of channels to drop, in [0, 1).</param>
    /// <param name="name">Layer name; defaults to <c>spatial_dropout1d_N</c>.</param>
    public SpatialDropout1D(double rate, string? name = null)
        : base(name)
    {
        Rate = rate >= 0 && rate < 1 ? rate : throw new ArgumentOutOfRangeException(nameof(rate), rate, "SpatialDropout1D: rate must be in [0, 1).");
    }

    /// <summary>The fraction of channels dropped (Keras' <c>rate</c>).</summary>
    public double Rate { get; }

    /// <inheritdoc/>
    public override bool SupportsMasking => true;

    internal override bool BuiltAtInit => true;

    /// <inheritdoc/>
    /// <remarks>Keras' own shape for this layer: rate, seed, name and a plain dtype string, no <c>trainable</c>
    /// (keras/src/layers/regularization/spatial_dropout.py, <c>BaseSpatialDropout.get_config</c>).</remarks>
    public override JsonObject GetConfig() => new()
    {
        ["rate"] = Rate,
        ["seed"] = null,
        ["name"] = Name,
        ["dtype"] = "float32",
    };

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config.</summary>
    internal static SpatialDropout1D FromConfig(LayerConfig config)
    {
        config.Ignore("seed", "noise_shape");
        return new SpatialDropout1D(config.GetDouble("rate", 0), config.Name);
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        RequireRank(input, 3, "(batch, steps, features)");
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

        var keep = empty(new[] { input.shape[0], 1, input.shape[2] }, dtype: input.dtype, device: input.device).bernoulli_(1 - Rate, generator: Random);
        return (input * keep).div(Scalars.Of(1 - Rate));
    }

    /// <summary>ONNX: the inference form, which passes its input on unchanged.</summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call) => new[] { call.Input.Name };
}
