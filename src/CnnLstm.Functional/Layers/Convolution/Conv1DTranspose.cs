using KerasStyle.Saving;

namespace KerasStyle.Layers;

/// <summary>
/// A transposed 1-D convolution, as Keras' <c>keras.layers.Conv1DTranspose</c>
/// (keras/src/layers/convolutional/conv1d_transpose.py); arguments, checks, sizes, weights and config are
/// <see cref="BaseConvTranspose"/>'s. Input (batch, steps, channels); output (batch, out steps, filters); kernel
/// (kernel size, filters, channels).
/// </summary>
[KerasLayer("Conv1DTranspose"), TfKeras2OnlyArgument("groups", 1)]
public sealed class Conv1DTranspose : BaseConvTranspose
{
    /// <summary>Creates the layer.</summary>
    /// <param name="filters">Output channels; positive.</param>
    /// <param name="kernelSize">Window length; positive.</param>
    /// <param name="strides">Stride (default 1).</param>
    /// <param name="padding"><c>valid</c> (default) or <c>same</c>.</param>
    /// <param name="outputPadding">Extra cells at the end (below <paramref name="strides"/>), or null for Keras' default.</param>
    /// <param name="dilationRate">Dilation (default 1).</param>
    /// <param name="activation">Keras activation name, or null for linear.</param>
    /// <param name="useBias">Whether to add a bias (default true).</param>
    /// <param name="name">Layer name; defaults to <c>conv1d_transpose_N</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive.</exception>
    /// <exception cref="ArgumentException">See <see cref="BaseConvTranspose"/>.</exception>
    public Conv1DTranspose(int filters, int kernelSize, int strides = 1, string padding = "valid", int? outputPadding = null, int dilationRate = 1,
        string? activation = null, bool useBias = true, string? name = null)
        : base(1, filters, new[] { kernelSize }, new[] { strides }, padding, outputPadding is int p ? new[] { p } : null, new[] { dilationRate }, activation, useBias, name)
    {
    }

    /// <summary>Window length.</summary>
    public int KernelSize => KernelSizes[0];

    /// <summary>Stride.</summary>
    public int Strides => StridesPerAxis[0];

    /// <summary>Dilation.</summary>
    public int DilationRate => DilationPerAxis[0];

    /// <summary>Output padding, or null for Keras' default.</summary>
    public int? OutputPadding => OutputPaddingPerAxis?[0];

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config.</summary>
    internal static Conv1DTranspose FromConfig(LayerConfig config)
    {
        var (a, outputPadding) = ReadTransposeConfig(config, 1);
        return new Conv1DTranspose(a.Filters, a.KernelSize[0], a.Strides[0], a.Padding, outputPadding?[0], a.DilationRate[0], a.Activation, a.UseBias, a.Name)
        {
            KernelRegularizer = a.Regularizers.Kernel,
            KernelInitializer = a.InitialValues.Kernel,
            BiasInitializer = a.InitialValues.Bias,
            BiasRegularizer = a.Regularizers.Bias,
            KernelConstraint = a.Constraints.Kernel,
            BiasConstraint = a.Constraints.Bias,
        };
    }
}
