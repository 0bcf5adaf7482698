using KerasStyle.Engine;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// A 3-D convolution over channels-last volumes, as Keras' <c>keras.layers.Conv3D</c>
/// (keras/src/layers/convolutional/conv3d.py); the arguments, checks and config are <see cref="BaseConv"/>'s.
/// Input (batch, depth, height, width, channels), output (batch, out depth, out height, out width, filters) with
/// Keras' sizes for <c>valid</c> and <c>same</c> (TensorFlow's split: the extra pad after). Weights in Keras layout:
/// kernel (kernel depth, kernel height, kernel width, channels / groups, filters), glorot-uniform; bias (filters),
/// zeros. Computed by libtorch's <c>conv3d</c> once its check passed, else plainly (Engine/ConvKernels.cs).
/// </summary>
[KerasLayer("Conv3D")]
public sealed class Conv3D : BaseConv
{
    /// <summary>Creates the layer.</summary>
    /// <param name="filters">Output channels; positive.</param>
    /// <param name="kernelSize">Kernel (depth, height, width).</param>
    /// <param name="strides">Strides (depth, height, width); default (1, 1, 1).</param>
    /// <param name="padding"><c>valid</c> (default) or <c>same</c>.</param>
    /// <param name="dilationRate">Dilation (depth, height, width); default (1, 1, 1).</param>
    /// <param name="groups">Channel groups (default 1); must divide <paramref name="filters"/> and the input channels.</param>
    /// <param name="activation">Keras activation name, or null for linear.</param>
    /// <param name="useBias">Whether to add a bias (default true).</param>
    /// <param name="name">Layer name; defaults to <c>conv3d_N</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size or <paramref name="groups"/> is not positive.</exception>
    /// <exception cref="ArgumentException">Unknown padding or activation, strides and dilation both above 1, or groups
    /// not dividing filters (Keras refuses them too).</exception>
    public Conv3D(int filters, (int D, int H, int W) kernelSize, (int D, int H, int W)? strides = null, string padding = "valid",
        (int D, int H, int W)? dilationRate = null, int groups = 1, string? activation = null, bool useBias = true, string? name = null)
        : base(3, filters, Triple(kernelSize), Triple(strides ?? (1, 1, 1)), padding, Triple(dilationRate ?? (1, 1, 1)), activation, useBias, name, allowCausal: false, groups)
    {
        RefuseStridedDilation();
    }

    /// <summary>Creates the layer with a cubic kernel.</summary>
    /// <param name="filters">Output channels; positive.</param>
    /// <param name="kernelSize">Kernel size on every axis.</param>
    /// <param name="strides">Stride on every axis (default 1).</param>
    /// <param name="padding"><c>valid</c> (default) or <c>same</c>.</param>
    /// <param name="activation">Keras activation name, or null for linear.</param>
    /// <param name="name">Layer name; defaults to <c>conv3d_N</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive.</exception>
    /// <exception cref="ArgumentException">Unknown padding or activation.</exception>
    public Conv3D(int filters, int kernelSize, int strides = 1, string padding = "valid", string? activation = null, string? name = null)
        : this(filters, (kernelSize, kernelSize, kernelSize), (strides, strides, strides), padding, null, 1, activation, true, name)
    {
    }

    /// <summary>Kernel (depth, height, width).</summary>
    public (int D, int H, int W) KernelSize => (KernelSizes[0], KernelSizes[1], KernelSizes[2]);

    /// <summary>Strides (depth, height, width).</summary>
    public (int D, int H, int W) Strides => (StridesPerAxis[0], StridesPerAxis[1], StridesPerAxis[2]);

    /// <summary>Dilation (depth, height, width).</summary>
    public (int D, int H, int W) DilationRate => (DilationPerAxis[0], DilationPerAxis[1], DilationPerAxis[2]);

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config.</summary>
    internal static Conv3D FromConfig(LayerConfig config)
    {
        var a = ReadConvConfig(config, 3);
        return new Conv3D(a.Filters, Triple(a.KernelSize), Triple(a.Strides), a.Padding, Triple(a.DilationRate), a.Groups, a.Activation, a.UseBias, a.Name)
        {
            KernelRegularizer = a.Regularizers.Kernel,
            KernelInitializer = a.InitialValues.Kernel,
            BiasInitializer = a.InitialValues.Bias,
            BiasRegularizer = a.Regularizers.Bias,
            KernelConstraint = a.Constraints.Kernel,
            BiasConstraint = a.Constraints.Bias,
        };
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask) =>
        Activations.Apply(Activation, ConvKernels.Conv(PadInput(input), Kernel!.Variable, Bias?.Variable, StridesPerAxis, DilationPerAxis, Groups));

    private static int[] Triple((int D, int H, int W) sizes) => new[] { sizes.D, sizes.H, sizes.W };

    private static (int D, int H, int W) Triple(int[] sizes) => (sizes[0], sizes[1], sizes[2]);
}
