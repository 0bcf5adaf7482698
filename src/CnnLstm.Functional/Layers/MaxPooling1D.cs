using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Max pooling over the steps of channels-last sequences (batch, steps, channels), as Keras' <c>MaxPooling1D</c>.
/// Output length is floor((L - poolSize) / strides) + 1 for <c>valid</c>, ceil(L / strides) for <c>same</c>.
/// </summary>
public sealed class MaxPooling1D : Layer
{
    private readonly Padding padding;

    /// <summary>Creates a max-pooling layer.</summary>
    /// <param name="poolSize">Window length; must be positive (Keras default 2).</param>
    /// <param name="strides">Step between windows; null means <paramref name="poolSize"/>, as in Keras.</param>
    /// <param name="padding"><c>valid</c> or <c>same</c>.</param>
    /// <param name="name">Layer name; defaults to <c>max_pooling1d_N</c>.</param>
    public MaxPooling1D(int poolSize = 2, int? strides = null, string padding = "valid", string? name = null)
        : base(name)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(poolSize);
        if (strides is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(strides), strides, "MaxPooling1D: strides must be positive.");
        }

        PoolSize = poolSize;
        Strides = strides ?? poolSize;
        this.padding = PaddingRules.Parse(padding, nameof(MaxPooling1D), allowCausal: false);
    }

    /// <summary>Window length.</summary>
    public int PoolSize { get; }

    /// <summary>Step between windows.</summary>
    public int Strides { get; }

    /// <summary>The padding mode: <c>valid</c> or <c>same</c>.</summary>
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
    internal static MaxPooling1D FromConfig(LayerConfig config)
    {
        config.RequireDefault("data_format", "channels_last");
        return new MaxPooling1D(config.GetSize("pool_size", 2), config.GetNullableSize("strides"), config.GetString("padding", "valid"), config.Name);
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        RequireRank(input, 3, "(batch, steps, channels)");
        RequireFloat(input);
        int? steps = input.Shape[1];
        if (steps is int length)
        {
            steps = PaddingRules.OutputLength(length, PoolSize, Strides, padding);
            if (steps <= 0)
            {
                throw InputError($"pool size {PoolSize} is longer than the input sequence: {input.Label} has shape {input.Shape}, which gives output length {steps} with padding '{Padding}'. Expected at least {PoolSize} steps, or padding 'same'.");
            }
        }

        return new[] { (input.Shape.With(1, steps), DType.Float32) };
    }

    /// <inheritdoc/>
    protected internal override IReadOnlyList<Tensor> Forward(Tensor input, bool training)
    {
        if (PoolSize == 1 && Strides == 1)
        {
            // Pooling one step at a time is the identity (the seed's regression model).
            return new[] { input.alias() };
        }

        var x = input;
        if (padding == Layers.Padding.Same)
        {
            // TensorFlow pads 'same' pooling with -inf so padded cells never win.
            var (left, right) = PaddingRules.SamePadding((int)input.shape[1], PoolSize, Strides);
            if (left + right > 0)
            {
                x = nn.functional.pad(input, new[] { 0L, 0L, left, right }, value: double.NegativeInfinity);
            }
        }

        // The libtorch path for the input's memory layout whose check passed on this CPU, or unfold and max.
        return new[] { MaxPool1DKernels.Run(x, PoolSize, Strides) };
    }
}
