using KerasStyle.Saving;

namespace KerasStyle.Layers;

/// <summary>
/// A depthwise 1-D convolution, as Keras' <c>keras.layers.DepthwiseConv1D</c>
/// (keras/src/layers/convolutional/depthwise_conv1d.py); arguments, checks, weights and config are
/// <see cref="BaseDepthwiseConv"/>'s. Input (batch, steps, channels); output (batch, out steps, channels × depth
/// multiplier); kernel (kernel size, channels, depth multiplier).
/// </summary>
[KerasLayer("DepthwiseConv1D"), TfKeras2OnlyArgument("groups", 1)]
public sealed class DepthwiseConv1D : BaseDepthwiseConv
{
    /// <summary>Creates the layer.</summary>
    /// <param name="kernelSize">Window length; positive.</param>
    /// <param name="strides">Stride (default 1).</param>
    /// <param name="padding"><c>valid</c> (default) or <c>same</c>.</param>
    /// <param name="depthMultiplier">Kernels per input channel (default 1).</param>
    /// <param name="dilationRate">Dilation (default 1).</param>
    /// <param name="activation">Keras activation name, or null for linear.</param>
    /// <param name="useBias">Whether to add a bias (default true).</param>
    /// <param name="name">Layer name; defaults to <c>depthwise_conv1d_N</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size or the depth multiplier is not positive.</exception>
    /// <exception cref="ArgumentException">Unknown padding or activation.</exception>
    public DepthwiseConv1D(int kernelSize, int strides = 1, string padding = "valid", int depthMultiplier = 1, int dilationRate = 1,
        string? activation = null, bool useBias = true, string? name = null)
        : base(1, depthMultiplier, new[] { kernelSize }, new[] { strides }, padding, new[] { dilationRate }, activation, useBias, name)
    {
    }

    /// <summary>Window length.</summary>
    public int KernelSize => KernelSizes[0];

    /// <summary>Stride.</summary>
    public int Strides => StridesPerAxis[0];

    /// <summary>Dilation.</summary>
    public int DilationRate => DilationPerAxis[0];

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config.</summary>
    internal static DepthwiseConv1D FromConfig(LayerConfig config)
    {
        var (a, depthMultiplier, depthwise, depthwiseConstraint) = ReadDepthwiseConfig(config, 1);
        return new DepthwiseConv1D(a.KernelSize[0], a.Strides[0], a.Padding, depthMultiplier, a.DilationRate[0], a.Activation, a.UseBias, a.Name)
        {
            DepthwiseRegularizer = depthwise,
            DepthwiseConstraint = depthwiseConstraint,
            BiasConstraint = a.Constraints.Bias,
            DepthwiseInitializer = a.InitialValues.Kernel,
            BiasInitializer = a.InitialValues.Bias,
            BiasRegularizer = a.Regularizers.Bias,
        };
    }
}
