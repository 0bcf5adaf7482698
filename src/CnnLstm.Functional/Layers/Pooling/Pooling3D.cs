using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// The shared part of <see cref="MaxPooling3D"/> and <see cref="AveragePooling3D"/>: <see cref="BasePooling"/> with
/// windows of (depth, height, width) over channels-last volumes. Input (batch, depth, height, width, channels); output
/// (batch, out depth, out height, out width, channels).
/// </summary>
public abstract class Pooling3D : BasePooling
{
    private protected Pooling3D((int D, int H, int W) poolSize, (int D, int H, int W)? strides, string padding, string? name)
        : base(3, new[] { poolSize.D, poolSize.H, poolSize.W }, strides is var (d, h, w) ? new[] { d, h, w } : null, padding, name)
    {
    }

    /// <summary>Window (depth, height, width) (Keras' <c>pool_size</c>).</summary>
    public (int D, int H, int W) PoolSize => (PoolSizes[0], PoolSizes[1], PoolSizes[2]);

    /// <summary>Steps between windows (Keras' <c>strides</c>).</summary>
    public (int D, int H, int W) Strides => (StridesPerAxis[0], StridesPerAxis[1], StridesPerAxis[2]);

    /// <summary>The pool size, strides and padding of a Keras config.</summary>
    private protected static ((int D, int H, int W) PoolSize, (int D, int H, int W)? Strides, string Padding) Read(LayerConfig config) =>
        Read<(int D, int H, int W)>(config, key => config.GetTuple(key, 3, 2) is var t ? (t[0], t[1], t[2]) : default);

    /// <summary>
    /// The input as (batch, channels, depth, height, width), with Keras' <c>same</c> padding (the extra cell at the
    /// end) filled with <paramref name="fill"/>.
    /// </summary>
    private protected Tensor ChannelsFirstPadded(Tensor input, double fill)
    {
        var x = input.permute(0, 4, 1, 2, 3);
        if (PaddingMode != Layers.Padding.Same)
        {
            return x;
        }

        var pads = new long[6];
        for (var axis = 0; axis < 3; axis++)
        {
            var (before, after) = PaddingRules.SamePadding((int)input.shape[axis + 1], PoolSizes[axis], StridesPerAxis[axis]);
            pads[4 - (2 * axis)] = before;
            pads[5 - (2 * axis)] = after;
        }

        using (x)
        {
            return nn.functional.pad(x, pads, value: fill);
        }
    }
}
