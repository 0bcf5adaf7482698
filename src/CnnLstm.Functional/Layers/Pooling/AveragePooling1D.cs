using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// The mean over sliding windows of steps, as Keras' <c>keras.layers.AveragePooling1D</c>
/// (keras/src/layers/pooling/average_pooling1d.py): (batch, steps, features) to (batch, pooled steps, features), with
/// Keras' output lengths for <c>valid</c> and <c>same</c>. With <c>same</c>, a window that reaches past the sequence
/// averages only the steps inside it (as TensorFlow and Keras do). No weights.
/// </summary>
public sealed class AveragePooling1D : Layer
{
    private readonly Padding padding;

    /// <summary>Creates the layer.</summary>
    /// <param name="poolSize">Steps per window; required, as in Keras 3.16.</param>
    /// <param name="strides">Steps between windows; defaults to <paramref name="poolSize"/>.</param>
    /// <param name="padding"><c>valid</c> (default) or <c>same</c>.</param>
    /// <param name="name">Layer name; defaults to <c>average_pooling1d_N</c>.</param>
    public AveragePooling1D(int poolSize, int? strides = null, string padding = "valid", string? name = null)
        : base(name)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(poolSize);
        if (strides is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(strides), strides, "AveragePooling1D: strides must be positive.");
        }

        PoolSize = poolSize;
        Strides = strides ?? poolSize;
        this.padding = PaddingRules.Parse(padding, nameof(AveragePooling1D), allowCausal: false);
    }

    /// <summary>Steps per window (Keras' <c>pool_size</c>).</summary>
    public int PoolSize { get; }

    /// <summary>Steps between windows (Keras' <c>strides</c>).</summary>
    public int Strides { get; }

    /// <summary><c>valid</c> or <c>same</c>.</summary>
    public string Padding => padding.Name();

    internal override bool BuiltAtInit => true;

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["pool_size"] = new JsonArray(PoolSize);
        config["padding"] = Padding;
        config["strides"] = new JsonArray(Strides);
        config["data_format"] = "channels_last";
        return config;
    }

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config.</summary>
    internal static AveragePooling1D FromConfig(LayerConfig config)
    {
        config.RequireDefault("data_format", "channels_last");
        return new AveragePooling1D(config.GetSize("pool_size", 2), config.GetNullableSize("strides"), config.GetString("padding", "valid"), config.Name);
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        RequireRank(input, 3, "(batch, steps, features)");
        RequireFloat(input);
        int? steps = input.Shape[1] is int length ? PaddingRules.OutputLength(length, PoolSize, Strides, padding) : null;
        if (steps <= 0)
        {
            throw InputError($"pool size {PoolSize} is longer than the input sequence: {input.Label} has shape {input.Shape}, which gives output length {steps} with padding '{Padding}'.");
        }

        return new[] { (input.Shape.With(1, steps), DType.Float32) };
    }

    /// <inheritdoc/>
    protected internal override IReadOnlyList<Tensor> Forward(Tensor input, bool training)
    {
        var x = input.transpose(1, 2);
        if (padding != Layers.Padding.Same)
        {
            return new[] { nn.functional.avg_pool1d(x, PoolSize, Strides).transpose(1, 2) };
        }

        // Zero padding, then the windows' sums over the counts of real steps in them.
        var (left, right) = PaddingRules.SamePadding((int)input.shape[1], PoolSize, Strides);
        var padded = nn.functional.pad(x, new[] { left, right });
        using var real = nn.functional.pad(ones(1, 1, input.shape[1], dtype: input.dtype, device: input.device), new[] { left, right });
        return new[] { (nn.functional.avg_pool1d(padded, PoolSize, Strides) / nn.functional.avg_pool1d(real, PoolSize, Strides)).transpose(1, 2) };
    }
}
