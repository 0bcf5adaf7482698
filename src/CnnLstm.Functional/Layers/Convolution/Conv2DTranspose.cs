using KerasStyle.Saving;

namespace KerasStyle.Layers;

/// <summary>
/// A transposed 2-D convolution, as Keras' <c>keras.layers.Conv2DTranspose</c>
/// (keras/src/layers/convolutional/conv2d_transpose.py); arguments, checks, sizes, weights and config are
/// <see cref="BaseConvTranspose"/>'s. Input (batch, height, width, channels); output (batch, out height, out width,
/// filters); kernel (kernel height, kernel width, filters, channels).
/// </summary>
[KerasLayer("Conv2DTranspose"), TfKeras2OnlyArgument("groups", 1)]
public sealed class Conv2DTranspose : BaseConvTranspose
{
    /// <summary>Creates the layer.</summary>
    /// <param name="filters">Output channels; positive.</param>
    /// <param name="kernelSize">Kernel (height, width).</param>
    /// <param name="strides">Strides (height, width); default (1, 1).</param>
    /// <param name="padding"><c>valid</c> (default) or <c>same</c>.</param>
    /// <param name="outputPadding">Extra cells at the end per axis (each below its stride), or null for Keras' default.</param>
    /// <param name="dilationRate">Dilation (height, width); default (1, 1).</param>
    /// <param name="activation">Keras activation name, or null for linear.</param>
    /// <param name="useBias">Whether to add a bias (default true).</param>
    /// <param name="name">Layer name; defaults to <c>conv2d_transpose_N</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive.</exception>
    /// <exception cref="ArgumentException">See <see cref="BaseConvTranspose"/>.</exception>
    public Conv2DTranspose(int filters, (int H, int W) kernelSize, (int H, int W)? strides = null, string padding = "valid", (int H, int W)? outputPadding = null,
        (int H, int W)? dilationRate = null, string? activation = null, bool useBias = true, string? name = null)
        : base(2, filters, Pair(kernelSize), Pair(strides ?? (1, 1)), padding, outputPadding is { } p ? Pair(p) : null, Pair(dilationRate ?? (1, 1)), activation, useBias, name)
    {
    }

    /// <summary>Creates the layer with a square kernel.</summary>
    /// <param name="filters">Output channels; positive.</param>
    /// <param name="kernelSize">Kernel height and width.</param>
    /// <param name="strides">Stride on both axes (default 1).</param>
    /// <param name="padding"><c>valid</c> (default) or <c>same</c>.</param>
    /// <param name="activation">Keras activation name, or null for linear.</param>
    /// <param name="name">Layer name; defaults to <c>conv2d_transpose_N</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive.</exception>
    /// <exception cref="ArgumentException">Unknown padding or activation.</exception>
    public Conv2DTranspose(int filters, int kernelSize, int strides = 1, string padding = "valid", string? activation = null, string? name = null)
        : this(filters, (kernelSize, kernelSize), (strides, strides), padding, null, null, activation, true, name)
    {
    }

    /// <summary>Kernel (height, width).</summary>
    public (int H, int W) KernelSize => (KernelSizes[0], KernelSizes[1]);

    /// <summary>Strides (height, width).</summary>
    public (int H, int W) Strides => (StridesPerAxis[0], StridesPerAxis[1]);

    /// <summary>Dilation (height, width).</summary>
    public (int H, int W) DilationRate => (DilationPerAxis[0], DilationPerAxis[1]);

    /// <summary>Output padding (height, width), or null for Keras' default.</summary>
    public (int H, int W)? OutputPadding => OutputPaddingPerAxis is { } p ? (p[0], p[1]) : null;

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config.</summary>
    internal static Conv2DTranspose FromConfig(LayerConfig config)
    {
        var (a, outputPadding) = ReadTransposeConfig(config, 2);
        return new Conv2DTranspose(a.Filters, (a.KernelSize[0], a.KernelSize[1]), (a.Strides[0], a.Strides[1]), a.Padding,
            outputPadding is { } p ? (p[0], p[1]) : null, (a.DilationRate[0], a.DilationRate[1]), a.Activation, a.UseBias, a.Name)
        {
            KernelRegularizer = a.Regularizers.Kernel,
            KernelInitializer = a.InitialValues.Kernel,
            BiasInitializer = a.InitialValues.Bias,
            BiasRegularizer = a.Regularizers.Bias,
            KernelConstraint = a.Constraints.Kernel,
            BiasConstraint = a.Constraints.Bias,
        };
    }

    private static int[] Pair((int H, int W) sizes) => new[] { sizes.H, sizes.W };
}
