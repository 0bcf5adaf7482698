using KerasStyle.Saving;

namespace KerasStyle.Layers;

/// <summary>
/// The shared part of <see cref="MaxPooling1D"/> and <see cref="AveragePooling1D"/>: <see cref="BasePooling"/> over
/// the steps of channels-last sequences (batch, steps, channels), output length floor((L - poolSize) / strides) + 1
/// for <c>valid</c>, ceil(L / strides) for <c>same</c>.
/// </summary>
public abstract class Pooling1D : BasePooling
{
    private protected Pooling1D(int poolSize, int? strides, string padding, string? name)
        : base(1, new[] { poolSize }, strides is int step ? new[] { step } : null, padding, name)
    {
    }

    /// <summary>Steps per window (Keras' <c>pool_size</c>).</summary>
    public int PoolSize => PoolSizes[0];

    /// <summary>Steps between windows (Keras' <c>strides</c>).</summary>
    public int Strides => StridesPerAxis[0];

    /// <summary>The pool size, strides and padding of a Keras config.</summary>
    private protected static (int PoolSize, int? Strides, string Padding) Read(LayerConfig config) => Read(config, key => config.GetSize(key, 2));
}
