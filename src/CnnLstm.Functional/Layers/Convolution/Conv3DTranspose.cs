using KerasStyle.Saving;

namespace KerasStyle.Layers;

/// <summary>
/// A transposed 3-D convolution, as Keras' <c>keras.layers.Conv3DTranspose</c>
/// (keras/src/layers/convolutional/conv3d_transpose.py); arguments, checks, sizes, weights and config are
/// <see cref="BaseConvTranspose"/>'s. Input (batch, depth, height, width, channels); output (batch, out depth, out
/// height, out width, filters); kernel (kernel depth, kernel height, kernel width, filters, channels).
/// </summary>
[KerasLayer("Conv3DTranspose"), TfKeras2OnlyArgument("groups", 1)]
public sealed class Conv3DTranspose : BaseConvTranspose
{
    /// <summary>Creates the layer.</summary>
    /// <param name="filters">Output channels; positive.</param>
    /// <param name="kernelSize">Kernel (depth, height, width).</param>
    /// <param name="strides">Strides (depth, height, width); default (1, 1, 1).</param>
    /// <param name="padding"><c>valid</c> (default) or <c>same</c>.</param>
    /// <param name="outputPadding">Extra cells at the end per axis (each below its stride), or null for Keras' default.</param>
    /// <param name="dilationRate">Dilation (depth, height, width); default (1, 1, 1).</param>
    /// <param name="activation">Keras activation name, or null for linear.</param>
    /// <param name="useBias">Whether to add a bias (default true).</param>
    /// <param name="name">Layer name; defaults to <c>conv3d_transpose_N</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive.</exception>
    /// <exception cref="ArgumentException">See <see cref="BaseConvTranspose"/>.</exception>
    public Conv3DTranspose(int filters, (int D, int H, int W) kernelSize, (int D, int H, int W)? strides = null, string padding = "valid",
        (int D, int H, int W)? outputPadding = null, (int D, int H, int W)? dilationRate = null, string? activation = null, bool useBias = true, string? name = null)
        : base(3, filters, Triple(kernelSize), Triple(strides ?? (1, 1, 1)), padding, outputPadding is { } p ? Triple(p) : null, Triple(dilationRate ?? (1, 1, 1)), activation, useBias, name)
    {
    }

    /// <summary>Creates the layer with a cubic kernel.</summary>
    /// <param name="filters">Output channels; positive.</param>
    /// <param name="kernelSize">Kernel size on every axis.</param>
    /// <param name="strides">Stride on every axis (default 1).</param>
    /// <param name="padding"><c>valid</c> (default) or <c>same</c>.</param>
    /// <param name="activation">Keras activation name, or null for linear.</param>
    /// <param name="name">Layer name; defaults to <c>conv3d_transpose_N</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive.</exception>
    /// <exception cref="ArgumentException">Unknown padding or activation.</exception>
    public Conv3DTranspose(int filters, int kernelSize, int strides = 1, string padding = "valid", string? activation = null, string? name = null)
        : this(filters, (kernelSize, kernelSize, kernelSize), (strides, strides, strides), padding, null, null, activation, true, name)
    {
    }

    /// <summary>Kernel (depth, height, width).</summary>
    public (int D, int H, int W) KernelSize => (KernelSizes[0], KernelSizes[1], KernelSizes[2]);

    /// <summary>Strides (depth, height, width).</summary>
    public (int D, int H, int W) Strides => (StridesPerAxis[0], StridesPerAxis[1], StridesPerAxis[2]);

    /// <summary>Dilation (depth, height, width).</summary>
    public (int D, int H, int W) DilationRate => (DilationPerAxis[0], DilationPerAxis[1], DilationPerAxis[2]);

    /// <summary>Output padding (depth, height, width), or null for Keras' default.</summary>
    public (int D, int H, int W)? OutputPadding => OutputPaddingPerAxis is { } p ? (p[0], p[1], p[2]) : null;

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config.</summary>
    internal static Conv3DTranspose FromConfig(LayerConfig config)
    {
        var (a, outputPadding) = ReadTransposeConfig(config, 3);
        return new Conv3DTranspose(a.Filters, Triple(a.KernelSize), Triple(a.Strides), a.Padding, outputPadding is { } p ? Triple(p) : null, Triple(a.DilationRate),
            a.Activation, a.UseBias, a.Name)
        {
            KernelRegularizer = a.Regularizers.Kernel,
            KernelInitializer = a.InitialValues.Kernel,
            BiasInitializer = a.InitialValues.Bias,
            BiasRegularizer = a.Regularizers.Bias,
            KernelConstraint = a.Constraints.Kernel,
            BiasConstraint = a.Constraints.Bias,
        };
    }

    private static int[] Triple((int D, int H, int W) sizes) => new[] { sizes.D, sizes.H, sizes.W };

    private static (int D, int H, int W) Triple(int[] sizes) => (sizes[0], sizes[1], sizes[2]);
}
