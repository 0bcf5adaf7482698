using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>The maximum over windows of channels-last images, as Keras' <c>keras.layers.MaxPooling2D</c>; see <see cref="Pooling2D"/>.</summary>
[KerasLayer("MaxPooling2D")]
public sealed class MaxPooling2D : Pooling2D
{
    /// <summary>Creates the layer.</summary>
    /// <param name="poolSize">Window (height, width); Keras' default (2, 2).</param>
    /// <param name="strides">Steps between windows; defaults to the window.</param>
    /// <param name="padding"><c>valid</c> (default) or <c>same</c> (padded cells never win).</param>
    /// <param name="name">Layer name; defaults to <c>max_pooling2d_N</c>.</param>
    public MaxPooling2D((int H, int W)? poolSize = null, (int H, int W)? strides = null, string padding = "valid", string? name = null)
        : base(poolSize ?? (2, 2), strides, padding, name)
    {
    }

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config.</summary>
    internal static MaxPooling2D FromConfig(LayerConfig config)
    {
        var (pool, strides, padding) = Read(config);
        return new MaxPooling2D(pool, strides, padding, config.Name);
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask)
    {
        var (patches, height, width) = Windows2D.Cut(input, PoolSize, Strides, (1, 1), PaddingMode, double.NegativeInfinity);
        return Windows2D.ToChannelsLast(patches.amax(new long[] { 2 }), height, width);
    }

    private protected override string OnnxOperator => "MaxPool";
}
