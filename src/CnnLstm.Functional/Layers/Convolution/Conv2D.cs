using KerasStyle.Engine;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// A 2-D convolution over channels-last images, as Keras' <c>keras.layers.Conv2D</c>
/// (keras/src/layers/convolutional/conv2d.py); the arguments, checks and config are <see cref="BaseConv"/>'s.
/// Input (batch, height, width, channels), output (batch, out height, out width, filters) with Keras' sizes for
/// <c>valid</c> and <c>same</c> (TensorFlow's split: the extra pad after). Weights in Keras layout: kernel (kernel
/// height, kernel width, channels, filters), glorot-uniform; bias (filters), zeros. Computed as im2col and a matrix
/// product (see <see cref="Windows2D"/>).
/// </summary>
[KerasLayer("Conv2D")]
public sealed class Conv2D : BaseConv
{
    /// <summary>Creates the layer with a square kernel.</summary>
    /// <param name="filters">Output channels; positive.</param>
    /// <param name="kernelSize">Kernel height and width.</param>
    /// <param name="strides">Stride on both axes (default 1).</param>
    /// <param name="padding"><c>valid</c> (default) or <c>same</c>.</param>
    /// <param name="activation">Keras activation name, or null for linear.</param>
    /// <param name="useBias">Whether to add a bias (default true).</param>
    /// <param name="name">Layer name; defaults to <c>conv2d_N</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive.</exception>
    /// <exception cref="ArgumentException">Unknown padding or activation.</exception>
    public Conv2D(int filters, int kernelSize, int strides = 1, string padding = "valid", string? activation = null, bool useBias = true, string? name = null)
        : this(filters, (kernelSize, kernelSize), (strides, strides), padding, (1, 1), activation, useBias, name)
    {
    }

    /// <summary>Creates the layer.</summary>
    /// <param name="filters">Output channels; positive.</param>
    /// <param name="kernelSize">Kernel (height, width).</param>
    /// <param name="strides">Strides (height, width).</param>
    /// <param name="padding"><c>valid</c> or <c>same</c>.</param>
    /// <param name="dilationRate">Dilation (height, width); default (1, 1).</param>
    /// <param name="activation">Keras activation name, or null for linear.</param>
    /// <param name="useBias">Whether to add a bias.</param>
    /// <param name="name">Layer name; defaults to <c>conv2d_N</c>.</param>
    /// <param name="groups">Channel groups (default 1): each of <paramref name="groups"/> slices of the input channels is
    /// convolved with its own filters / groups kernels; must divide <paramref name="filters"/> and the input channels.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size or <paramref name="groups"/> is not positive.</exception>
    /// <exception cref="ArgumentException">Unknown padding or activation, strides and dilation both above 1
    /// (Keras refuses it too), or groups not dividing filters.</exception>
    public Conv2D(int filters, (int H, int W) kernelSize, (int H, int W) strides, string padding = "valid", (int H, int W)? dilationRate = null,
        string? activation = null, bool useBias = true, string? name = null, int groups = 1)
        : base(2, filters, new[] { kernelSize.H, kernelSize.W }, new[] { strides.H, strides.W }, padding, Pair(dilationRate ?? (1, 1)), activation, useBias, name, allowCausal: false, groups)
    {
        if ((strides.H > 1 || strides.W > 1) && (DilationRate.H > 1 || DilationRate.W > 1))
        {
            throw new ArgumentException($"Conv2D: strides {strides} and dilation {DilationRate} cannot both exceed 1 (Keras refuses it too).", nameof(dilationRate));
        }
    }

    /// <summary>Kernel (height, width).</summary>
    public (int H, int W) KernelSize => (KernelSizes[0], KernelSizes[1]);

    /// <summary>Strides (height, width).</summary>
    public (int H, int W) Strides => (StridesPerAxis[0], StridesPerAxis[1]);

    /// <summary>Dilation (height, width).</summary>
    public (int H, int W) DilationRate => (DilationPerAxis[0], DilationPerAxis[1]);

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config.</summary>
    internal static Conv2D FromConfig(LayerConfig config)
    {
        var a = ReadConvConfig(config, 2);
        return new Conv2D(a.Filters, (a.KernelSize[0], a.KernelSize[1]), (a.Strides[0], a.Strides[1]), a.Padding, (a.DilationRate[0], a.DilationRate[1]),
            a.Activation, a.UseBias, a.Name, a.Groups)
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
    protected override Tensor Call(Tensor input, bool training, Tensor? mask)
    {
        if (Groups > 1)
        {
            // Grouped: libtorch's grouped convolution once checked, else the plain path (Engine/ConvKernels.cs).
            return Activations.Apply(Activation, ConvKernels.Conv(PadInput(input), Kernel!.Variable, Bias?.Variable, StridesPerAxis, DilationPerAxis, Groups));
        }

        var (patches, height, width) = Windows2D.Cut(input, KernelSize, Strides, DilationRate, PaddingMode, 0);
        // Patches come channel-major (C, kh, kw); the kernel is (kh, kw, C, filters) in Keras' layout.
        var weights = Kernel!.Variable.permute(2, 0, 1, 3).reshape(-1, Filters);
        var output = patches.reshape(patches.shape[0], -1, patches.shape[3]).transpose(1, 2).matmul(weights);
        if (Bias is not null)
        {
            output = output.add(Bias.Variable, Scalars.IntOne);
        }

        return Activations.Apply(Activation, output.view(input.shape[0], height, width, Filters));
    }

    private static int[] Pair((int H, int W) sizes) => new[] { sizes.H, sizes.W };
}
