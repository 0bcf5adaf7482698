using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Drops whole feature maps while training, as Keras' <c>keras.layers.SpatialDropout3D</c>
/// (keras/src/layers/regularization/spatial_dropout.py): one keep/drop draw per sample and channel, shared by every
/// position, kept values scaled by 1 / (1 - rate); the identity in inference. Input and output (batch, dim1, dim2, dim3, channels)
/// (<c>channels_last</c>, the default) or (batch, channels, dim1, dim2, dim3) (<c>channels_first</c>); passes masks on; no weights. The draws
/// come from the layer's own generator, not from Keras' seed.
/// </summary>
[KerasLayer("SpatialDropout3D")]
public sealed class SpatialDropout3D : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="rate">The fraction of channels to drop, in [0, 1).</param>
    /// <param name="dataFormat">Where the channels are: <c>"channels_last"</c> (default, Keras' default) or <c>"channels_first"</c>.</param>
    /// <param name="name">Layer name; defaults to <c>spatial_dropout3d_N</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">The rate is outside [0, 1).</exception>
    /// <exception cref="ArgumentException">The data format is neither of the two.</exception>
    public SpatialDropout3D(double rate, string dataFormat = "channels_last", string? name = null)
        : base(name)
    {
        Rate = rate >= 0 && rate < 1 ? rate : throw new ArgumentOutOfRangeException(nameof(rate), rate, "SpatialDropout3D: rate must be in [0, 1).");
        DataFormat = dataFormat is "channels_last" or "channels_first" ? dataFormat
            : throw new ArgumentException($"SpatialDropout3D: data_format must be 'channels_last' or 'channels_first', got '{dataFormat}'.", nameof(dataFormat));
    }

    /// <summary>The fraction of channels dropped (Keras' <c>rate</c>).</summary>
    public double Rate { get; }

    /// <summary>Where the channels are (Keras' <c>data_format</c>).</summary>
    public string DataFormat { get; }

    /// <inheritdoc/>
    public override bool SupportsMasking => true;

    internal override bool BuiltAtInit => true;

    /// <inheritdoc/>
    /// <remarks>Keras' own shape for this layer: rate, seed, name, a plain dtype string, then data_format; no
    /// <c>trainable</c> (keras/src/layers/regularization/spatial_dropout.py).</remarks>
    public override JsonObject GetConfig() => new()
    {
        ["rate"] = Rate,
        ["seed"] = null,
        ["name"] = Name,
        ["dtype"] = "float32",
        ["data_format"] = DataFormat,
    };

    /// <summary>Creates the layer from a Keras 3 config.</summary>
    internal static SpatialDropout3D FromConfig(LayerConfig config)
    {
        config.Ignore("seed");
        return new SpatialDropout3D(config.GetDouble("rate", 0), config.GetString("data_format", "channels_last"), config.Name);
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        RequireRank(input, 5, DataFormat == "channels_last" ? "(batch, dim1, dim2, dim3, channels)" : "(batch, channels, dim1, dim2, dim3)");
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

        var shape = DataFormat == "channels_last" ? new[] { input.shape[0], 1, 1, 1, input.shape[4] } : new[] { input.shape[0], input.shape[1], 1, 1, 1 };
        var keep = empty(shape, dtype: input.dtype, device: input.device).bernoulli_(1 - Rate, generator: Random);
        return input.mul(keep).div(Scalars.Of(1 - Rate));
    }

    /// <summary>ONNX: the inference form, which passes its input on unchanged.</summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call) => new[] { call.Input.Name };
}
