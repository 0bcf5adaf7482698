using KerasStyle.Saving;

namespace KerasStyle.Layers;

/// <summary>
/// The shared part of <see cref="MaxPooling2D"/> and <see cref="AveragePooling2D"/>: <see cref="BasePooling"/> with
/// windows of (height, width) over channels-last images. Input (batch, height, width, channels); output (batch, out
/// height, out width, channels).
/// </summary>
public abstract class Pooling2D : BasePooling
{
    private protected Pooling2D((int H, int W) poolSize, (int H, int W)? strides, string padding, string? name)
        : base(2, new[] { poolSize.H, poolSize.W }, strides is var (h, w) ? new[] { h, w } : null, padding, name)
    {
    }

    /// <summary>Window (height, width) (Keras' <c>pool_size</c>).</summary>
    public (int H, int W) PoolSize => (PoolSizes[0], PoolSizes[1]);

    /// <summary>Steps between windows (Keras' <c>strides</c>).</summary>
    public (int H, int W) Strides => (StridesPerAxis[0], StridesPerAxis[1]);

    /// <summary>The pool size, strides and padding of a Keras config.</summary>
    private protected static ((int H, int W) PoolSize, (int H, int W)? Strides, string Padding) Read(LayerConfig config) =>
        Read<(int H, int W)>(config, key => config.GetPair(key, (2, 2)));
}
