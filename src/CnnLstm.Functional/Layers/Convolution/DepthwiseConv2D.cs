using KerasStyle.Saving;

namespace KerasStyle.Layers;

/// <summary>
/// A depthwise 2-D convolution, as Keras' <c>keras.layers.DepthwiseConv2D</c>
/// (keras/src/layers/convolutional/depthwise_conv2d.py); arguments, checks, weights and config are
/// <see cref="BaseDepthwiseConv"/>'s. Input (batch, height, width, channels); output (batch, out height, out width,
/// channels × depth multiplier); kernel (kernel height, kernel width, channels, depth multiplier).
/// </summary>
[KerasLayer("DepthwiseConv2D"), TfKeras2OnlyArgument("groups", 1)]
public sealed class DepthwiseConv2D : BaseDepthwiseConv
{
    /// <summary>Creates the layer.</summary>
    /// <param name="kernelSize">Kernel (height, width).</param>
    /// <param name="strides">Strides (height, width); default (1, 1).</param>
    /// <param name="padding"><c>valid</c> (default) or <c>same</c>.</param>
    /// <param name="depthMultiplier">Kernels per input channel (default 1).</param>
    /// <param name="dilationRate">Dilation (height, width); default (1, 1).</param>
    /// <param name="activation">Keras activation name, or null for linear.</param>
    /// <param name="useBias">Whether to add a bias (default true).</param>
    /// <param name="name">Layer name; defaults to <c>depthwise_conv2d_N</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size or the depth multiplier is not positive.</exception>
    /// <exception cref="ArgumentException">Unknown padding or activation.</exception>
    public DepthwiseConv2D((int H, int W) kernelSize, (int H, int W)? strides = null, string padding = "valid", int depthMultiplier = 1,
        (int H, int W)? dilationRate = null, string? activation = null, bool useBias = true, string? name = null)
        : base(2, depthMultiplier, Pair(kernelSize), Pair(strides ?? (1, 1)), padding, Pair(dilationRate ?? (1, 1)), activation, useBias, name)
    {
    }

    /// <summary>Creates the layer with a square kernel.</summary>
    /// <param name="kernelSize">Kernel height and width.</param>
    /// <param name="strides">Stride on both axes (default 1).</param>
    /// <param name="padding"><c>valid</c> (default) or <c>same</c>.</param>
    /// <param name="depthMultiplier">Kernels per input channel (default 1).</param>
    /// <param name="activation">Keras activation name, or null for linear.</param>
    /// <param name="name">Layer name; defaults to <c>depthwise_conv2d_N</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size or the depth multiplier is not positive.</exception>
    /// <exception cref="ArgumentException">Unknown padding or activation.</exception>
    public DepthwiseConv2D(int kernelSize, int strides = 1, string padding = "valid", int depthMultiplier = 1, string? activation = null, string? name = null)
        : this((kernelSize, kernelSize), (strides, strides), padding, depthMultiplier, null, activation, true, name)
    {
    }

    /// <summary>Kernel (height, width).</summary>
    public (int H, int W) KernelSize => (KernelSizes[0], KernelSizes[1]);

    /// <summary>Strides (height, width).</summary>
    public (int H, int W) Strides => (StridesPerAxis[0], StridesPerAxis[1]);

    /// <summary>Dilation (height, width).</summary>
    public (int H, int W) DilationRate => (DilationPerAxis[0], DilationPerAxis[1]);

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config.</summary>
    internal static DepthwiseConv2D FromConfig(LayerConfig config)
    {
        var (a, depthMultiplier, depthwise, depthwiseConstraint) = ReadDepthwiseConfig(config, 2);
        return new DepthwiseConv2D((a.KernelSize[0], a.KernelSize[1]), (a.Strides[0], a.Strides[1]), a.Padding, depthMultiplier, (a.DilationRate[0], a.DilationRate[1]),
            a.Activation, a.UseBias, a.Name)
        {
            DepthwiseRegularizer = depthwise,
            DepthwiseConstraint = depthwiseConstraint,
            BiasConstraint = a.Constraints.Bias,
            DepthwiseInitializer = a.InitialValues.Kernel,
            BiasInitializer = a.InitialValues.Bias,
            BiasRegularizer = a.Regularizers.Bias,
        };
    }

    private static int[] Pair((int H, int W) sizes) => new[] { sizes.H, sizes.W };
}
