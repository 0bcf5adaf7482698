using KerasStyle.Engine;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// A depthwise-separable 2-D convolution, as Keras' <c>keras.layers.SeparableConv2D</c>
/// (keras/src/layers/convolutional/separable_conv2d.py); the arguments, checks, weights and config are
/// <see cref="BaseSeparableConv"/>'s. Each input channel is convolved on its own with <c>depthMultiplier</c> kernels
/// (output channel c × depthMultiplier + m), then a 1 × 1 convolution mixes them into <c>filters</c> channels, then
/// bias and activation. Input (batch, height, width, channels); output (batch, out height, out width, filters) with
/// Keras' sizes for <c>valid</c> and <c>same</c>. Weights in Keras layout: depthwise_kernel (kernel height, kernel
/// width, channels, depth multiplier), pointwise_kernel (1, 1, channels × depth multiplier, filters), bias (filters).
/// Computed from the windows (unfold, see <see cref="Windows2D"/>) and matrix products.
/// </summary>
[KerasLayer("SeparableConv2D"), TfKeras2OnlyArgument("groups", 1)]
public sealed class SeparableConv2D : BaseSeparableConv
{
    /// <summary>Creates the layer.</summary>
    /// <param name="filters">Output channels; positive.</param>
    /// <param name="kernelSize">Kernel (height, width).</param>
    /// <param name="strides">Strides (height, width); default (1, 1).</param>
    /// <param name="padding"><c>valid</c> (default) or <c>same</c>.</param>
    /// <param name="dilationRate">Dilation (height, width); default (1, 1).</param>
    /// <param name="depthMultiplier">Depthwise kernels per input channel (default 1).</param>
    /// <param name="activation">Keras activation name, or null for linear.</param>
    /// <param name="useBias">Whether to add a bias (default true).</param>
    /// <param name="name">Layer name; defaults to <c>separable_conv2d_N</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size or the depth multiplier is not positive.</exception>
    /// <exception cref="ArgumentException">Unknown padding or activation.</exception>
    public SeparableConv2D(int filters, (int H, int W) kernelSize, (int H, int W)? strides = null, string padding = "valid", (int H, int W)? dilationRate = null,
        int depthMultiplier = 1, string? activation = null, bool useBias = true, string? name = null)
        : base(2, filters, Pair(kernelSize), Pair(strides ?? (1, 1)), padding, Pair(dilationRate ?? (1, 1)), depthMultiplier, activation, useBias, name)
    {
    }

    /// <summary>Creates the layer with a square kernel.</summary>
    /// <param name="filters">Output channels; positive.</param>
    /// <param name="kernelSize">Kernel height and width.</param>
    /// <param name="strides">Stride on both axes (default 1).</param>
    /// <param name="padding"><c>valid</c> (default) or <c>same</c>.</param>
    /// <param name="depthMultiplier">Depthwise kernels per input channel (default 1).</param>
    /// <param name="activation">Keras activation name, or null for linear.</param>
    /// <param name="name">Layer name; defaults to <c>separable_conv2d_N</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size or the depth multiplier is not positive.</exception>
    /// <exception cref="ArgumentException">Unknown padding or activation.</exception>
    public SeparableConv2D(int filters, int kernelSize, int strides = 1, string padding = "valid", int depthMultiplier = 1, string? activation = null, string? name = null)
        : this(filters, (kernelSize, kernelSize), (strides, strides), padding, null, depthMultiplier, activation, true, name)
    {
    }

    /// <summary>Kernel (height, width).</summary>
    public (int H, int W) KernelSize => (KernelSizes[0], KernelSizes[1]);

    /// <summary>Strides (height, width).</summary>
    public (int H, int W) Strides => (StridesPerAxis[0], StridesPerAxis[1]);

    /// <summary>Dilation (height, width).</summary>
    public (int H, int W) DilationRate => (DilationPerAxis[0], DilationPerAxis[1]);

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config.</summary>
    internal static SeparableConv2D FromConfig(LayerConfig config)
    {
        var (a, depthMultiplier, depthwise, pointwise, depthwiseConstraint, pointwiseConstraint) = ReadSeparableConfig(config, 2);
        return new SeparableConv2D(a.Filters, (a.KernelSize[0], a.KernelSize[1]), (a.Strides[0], a.Strides[1]), a.Padding, (a.DilationRate[0], a.DilationRate[1]),
            depthMultiplier, a.Activation, a.UseBias, a.Name)
        {
            DepthwiseRegularizer = depthwise,
            PointwiseRegularizer = pointwise,
            DepthwiseConstraint = depthwiseConstraint,
            PointwiseConstraint = pointwiseConstraint,
            BiasConstraint = a.Constraints.Bias,
            DepthwiseInitializer = a.InitialValues.Kernel,
            PointwiseInitializer = a.InitialValues.Pointwise!,
            BiasInitializer = a.InitialValues.Bias,
            BiasRegularizer = a.Regularizers.Bias,
        };
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask)
    {
        // Windows (N, C, kh·kw, cells out).
        var (windows, height, width) = Windows2D.Cut(input, KernelSize, Strides, DilationRate, PaddingMode, 0);
        var depthwise = Depthwise!.Variable;
        // Depthwise: out[n, u, c, m] = Σ_k window[n, c, k, u] × depthwise[k, c, m]; channel c × multiplier + m.
        var separated = einsum("ncku,kcm->nucm", windows, depthwise.reshape(-1, depthwise.shape[2], depthwise.shape[3])).reshape(input.shape[0], height, width, -1);
        var output = separated.matmul(Pointwise!.Variable[0][0]);
        if (Bias is not null)
        {
            output = output.add(Bias.Variable, Scalars.IntOne);
        }

        return Activations.Apply(Activation, output);
    }

    private static int[] Pair((int H, int W) sizes) => new[] { sizes.H, sizes.W };
}
