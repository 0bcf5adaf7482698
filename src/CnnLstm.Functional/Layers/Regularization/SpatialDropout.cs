using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// What <see cref="SpatialDropout2D"/> and <see cref="SpatialDropout3D"/> share, as Keras' spatial_dropout.py: one
/// keep/drop draw per sample and channel, shared by every position of a rank-(2 + spatial rank) input, kept values
/// scaled by 1 / (1 - rate); the identity in inference. Channels last (the default) or first; passes masks on; no
/// weights. The draws come from the layer's own generator, not from Keras' seed.
/// </summary>
public abstract class SpatialDropout : Layer
{
    private readonly int spatialRank;

    private protected SpatialDropout(int spatialRank, double rate, string dataFormat, string? name)
        : base(name)
    {
        this.spatialRank = spatialRank;
        Rate = rate >= 0 && rate < 1 ? rate : throw new ArgumentOutOfRangeException(nameof(rate), rate, $"{ClassName}: rate must be in [0, 1).");
        DataFormat = dataFormat is "channels_last" or "channels_first" ? dataFormat
            : throw new ArgumentException($"{ClassName}: data_format must be 'channels_last' or 'channels_first', got '{dataFormat}'.", nameof(dataFormat));
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

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        var spatial = string.Join(", ", Enumerable.Range(1, spatialRank).Select(d => $"dim{d}"));
        RequireRank(input, spatialRank + 2, DataFormat == "channels_last" ? $"(batch, {spatial}, channels)" : $"(batch, channels, {spatial})");
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

        // One draw per sample and channel: size 1 on every spatial axis.
        var shape = Enumerable.Repeat(1L, spatialRank + 2).ToArray();
        shape[0] = input.shape[0];
        var channels = DataFormat == "channels_last" ? spatialRank + 1 : 1;
        shape[channels] = input.shape[channels];
        var keep = empty(shape, dtype: input.dtype, device: input.device).bernoulli_(1 - Rate, generator: Random);
        return input.mul(keep).div(Scalars.Of(1 - Rate));
    }

    /// <summary>ONNX: the inference form, which passes its input on unchanged.</summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call) => new[] { call.Input.Name };
}
