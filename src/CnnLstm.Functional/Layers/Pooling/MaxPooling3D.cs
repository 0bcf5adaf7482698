using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>The maximum over windows of channels-last volumes, as Keras' <c>keras.layers.MaxPooling3D</c>; see <see cref="Pooling3D"/>.</summary>
[KerasLayer("MaxPooling3D")]
public sealed class MaxPooling3D : Pooling3D
{
    /// <summary>Creates the layer.</summary>
    /// <param name="poolSize">Window (depth, height, width); Keras' default (2, 2, 2).</param>
    /// <param name="strides">Steps between windows; defaults to the window.</param>
    /// <param name="padding"><c>valid</c> (default) or <c>same</c> (padded cells never win).</param>
    /// <param name="name">Layer name; defaults to <c>max_pooling3d_N</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A pool size or stride below 1.</exception>
    /// <exception cref="ArgumentException">A padding other than <c>valid</c> or <c>same</c>.</exception>
    public MaxPooling3D((int D, int H, int W)? poolSize = null, (int D, int H, int W)? strides = null, string padding = "valid", string? name = null)
        : base(poolSize ?? (2, 2, 2), strides, padding, name)
    {
    }

    /// <summary>Creates the layer with a cubic window.</summary>
    /// <param name="poolSize">Window on each axis.</param>
    /// <param name="strides">Steps between windows on each axis; defaults to the window.</param>
    /// <param name="padding"><c>valid</c> (default) or <c>same</c>.</param>
    /// <param name="name">Layer name; defaults to <c>max_pooling3d_N</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A pool size or stride below 1.</exception>
    /// <exception cref="ArgumentException">A padding other than <c>valid</c> or <c>same</c>.</exception>
    public MaxPooling3D(int poolSize, int? strides = null, string padding = "valid", string? name = null)
        : this((poolSize, poolSize, poolSize), strides is int s ? (s, s, s) : null, padding, name)
    {
    }

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config.</summary>
    internal static MaxPooling3D FromConfig(LayerConfig config)
    {
        var (pool, strides, padding) = Read(config);
        return new MaxPooling3D(pool, strides, padding, config.Name);
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask)
    {
        using var x = ChannelsFirstPadded(input, double.NegativeInfinity);
        using var pooled = nn.functional.max_pool3d(x, PoolSizes.Select(p => (long)p).ToArray(), StridesPerAxis.Select(s => (long)s).ToArray());
        return pooled.permute(0, 2, 3, 4, 1).contiguous();
    }

    private protected override string OnnxOperator => "MaxPool";
}
