using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// The mean over windows of channels-last images, as Keras' <c>keras.layers.AveragePooling2D</c>; with <c>same</c>,
/// a window past the edge averages only the cells inside it; see <see cref="Pooling2D"/>.
/// </summary>
[KerasLayer("AveragePooling2D")]
public sealed class AveragePooling2D : Pooling2D
{
    /// <summary>Creates the layer.</summary>
    /// <param name="poolSize">Window (height, width); required, as in Keras 3.16.</param>
    /// <param name="strides">Steps between windows; defaults to the window.</param>
    /// <param name="padding"><c>valid</c> (default) or <c>same</c>.</param>
    /// <param name="name">Layer name; defaults to <c>average_pooling2d_N</c>.</param>
    public AveragePooling2D((int H, int W) poolSize, (int H, int W)? strides = null, string padding = "valid", string? name = null)
        : base(poolSize, strides, padding, name)
    {
    }

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config.</summary>
    internal static AveragePooling2D FromConfig(LayerConfig config)
    {
        var (pool, strides, padding) = Read(config);
        return new AveragePooling2D(pool, strides, padding, config.Name);
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask)
    {
        var (patches, height, width) = Windows2D.Cut(input, PoolSize, Strides, (1, 1), PaddingMode, 0);
        var sums = patches.sum(new long[] { 2 });
        if (PaddingMode != Layers.Padding.Same)
        {
            return Windows2D.ToChannelsLast(sums.div(Scalars.OfInt(PoolSize.H * PoolSize.W)), height, width);
        }

        // The count of real cells in each window: the same windows over ones.
        using var real = ones(1, input.shape[1], input.shape[2], 1, dtype: input.dtype, device: input.device);
        var (counts, _, _) = Windows2D.Cut(real, PoolSize, Strides, (1, 1), PaddingMode, 0);
        return Windows2D.ToChannelsLast(sums / counts.sum(new long[] { 2 }), height, width);
    }

    private protected override string OnnxOperator => "AveragePool";
}
