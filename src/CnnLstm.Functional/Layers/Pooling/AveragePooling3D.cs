using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// The mean over windows of channels-last volumes, as Keras' <c>keras.layers.AveragePooling3D</c>; with <c>same</c>,
/// a window past the edge averages only the cells inside it (keras/src/backend/torch/nn.py <c>average_pool</c>); see
/// <see cref="Pooling3D"/>.
/// </summary>
[KerasLayer("AveragePooling3D")]
public sealed class AveragePooling3D : Pooling3D
{
    /// <summary>Creates the layer.</summary>
    /// <param name="poolSize">Window (depth, height, width); required, as in Keras 3.16.</param>
    /// <param name="strides">Steps between windows; defaults to the window.</param>
    /// <param name="padding"><c>valid</c> (default) or <c>same</c>.</param>
    /// <param name="name">Layer name; defaults to <c>average_pooling3d_N</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A pool size or stride below 1.</exception>
    /// <exception cref="ArgumentException">A padding other than <c>valid</c> or <c>same</c>.</exception>
    public AveragePooling3D((int D, int H, int W) poolSize, (int D, int H, int W)? strides = null, string padding = "valid", string? name = null)
        : base(poolSize, strides, padding, name)
    {
    }

    /// <summary>Creates the layer with a cubic window.</summary>
    /// <param name="poolSize">Window on each axis; required, as in Keras 3.16.</param>
    /// <param name="strides">Steps between windows on each axis; defaults to the window.</param>
    /// <param name="padding"><c>valid</c> (default) or <c>same</c>.</param>
    /// <param name="name">Layer name; defaults to <c>average_pooling3d_N</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A pool size or stride below 1.</exception>
    /// <exception cref="ArgumentException">A padding other than <c>valid</c> or <c>same</c>.</exception>
    public AveragePooling3D(int poolSize, int? strides = null, string padding = "valid", string? name = null)
        : this((poolSize, poolSize, poolSize), strides is int s ? (s, s, s) : null, padding, name)
    {
    }

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config.</summary>
    internal static AveragePooling3D FromConfig(LayerConfig config)
    {
        if (config.GetRaw("pool_size") is null)
        {
            throw config.Error("the argument 'pool_size' is required.");
        }

        var (pool, strides, padding) = Read(config);
        return new AveragePooling3D(pool, strides, padding, config.Name);
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask)
    {
        var kernel = PoolSizes.Select(p => (long)p).ToArray();
        var strides = StridesPerAxis.Select(s => (long)s).ToArray();
        using var x = ChannelsFirstPadded(input, 0);
        using var means = nn.functional.avg_pool3d(x, kernel, strides);
        if (PaddingMode != Layers.Padding.Same)
        {
            return means.permute(0, 2, 3, 4, 1).contiguous();
        }

        // Windows past the edge: the mean over zeros divided by the share of real cells (the same windows over ones).
        using var real = ones(new long[] { 1, input.shape[1], input.shape[2], input.shape[3], 1 }, dtype: input.dtype, device: input.device);
        using var paddedReal = ChannelsFirstPadded(real, 0);
        using var share = nn.functional.avg_pool3d(paddedReal, kernel, strides);
        using var ratio = means.div(share);
        return ratio.permute(0, 2, 3, 4, 1).contiguous();
    }

    private protected override string OnnxOperator => "AveragePool";
}
