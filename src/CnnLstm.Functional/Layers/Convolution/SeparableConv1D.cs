using KerasStyle.Engine;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// A depthwise-separable 1-D convolution, as Keras' <c>keras.layers.SeparableConv1D</c>
/// (keras/src/layers/convolutional/separable_conv1d.py); the arguments, checks, weights and config are
/// <see cref="BaseSeparableConv"/>'s. Each input channel is convolved on its own with <c>depthMultiplier</c> kernels
/// (the depthwise step, output channel c × depthMultiplier + m), then a 1 × 1 convolution mixes them into
/// <c>filters</c> channels (the pointwise step), then bias and activation. Input (batch, steps, channels); output
/// (batch, out steps, filters) with Keras' lengths for <c>valid</c> and <c>same</c>. Weights in Keras layout:
/// depthwise_kernel (kernel size, channels, depth multiplier), pointwise_kernel (1, channels × depth multiplier,
/// filters), bias (filters). Computed from the windows (unfold) and matrix products.
/// </summary>
[KerasLayer("SeparableConv1D"), TfKeras2OnlyArgument("groups", 1)]
public sealed class SeparableConv1D : BaseSeparableConv
{
    /// <summary>Creates the layer.</summary>
    /// <param name="filters">Output channels; positive.</param>
    /// <param name="kernelSize">Steps per window; positive.</param>
    /// <param name="strides">Steps between windows (default 1).</param>
    /// <param name="padding"><c>valid</c> (default) or <c>same</c>.</param>
    /// <param name="dilationRate">Dilation (default 1).</param>
    /// <param name="depthMultiplier">Depthwise kernels per input channel (default 1).</param>
    /// <param name="activation">Keras activation name, or null for linear.</param>
    /// <param name="useBias">Whether to add a bias (default true).</param>
    /// <param name="name">Layer name; defaults to <c>separable_conv1d_N</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size or the depth multiplier is not positive.</exception>
    /// <exception cref="ArgumentException">Unknown padding or activation.</exception>
    public SeparableConv1D(int filters, int kernelSize, int strides = 1, string padding = "valid", int dilationRate = 1, int depthMultiplier = 1,
        string? activation = null, bool useBias = true, string? name = null)
        : base(1, filters, new[] { kernelSize }, new[] { strides }, padding, new[] { dilationRate }, depthMultiplier, activation, useBias, name)
    {
    }

    /// <summary>Steps per window.</summary>
    public int KernelSize => KernelSizes[0];

    /// <summary>Steps between windows.</summary>
    public int Strides => StridesPerAxis[0];

    /// <summary>Dilation.</summary>
    public int DilationRate => DilationPerAxis[0];

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config.</summary>
    internal static SeparableConv1D FromConfig(LayerConfig config)
    {
        var (a, depthMultiplier, depthwise, pointwise, depthwiseConstraint, pointwiseConstraint) = ReadSeparableConfig(config, 1);
        return new SeparableConv1D(a.Filters, a.KernelSize[0], a.Strides[0], a.Padding, a.DilationRate[0], depthMultiplier, a.Activation, a.UseBias, a.Name)
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
        // The sequence as a one-row image: windows (N, C, k, steps out).
        var (windows, _, steps) = Windows2D.Cut(input.unsqueeze(1), (1, KernelSize), (1, Strides), (1, DilationRate), PaddingMode, 0);
        // Depthwise: out[n, t, c, m] = Σ_k window[n, c, k, t] × depthwise[k, c, m]; channel c × multiplier + m.
        var separated = einsum("nckt,kcm->ntcm", windows, Depthwise!.Variable).reshape(input.shape[0], steps, -1);
        var output = separated.matmul(Pointwise!.Variable[0]);
        if (Bias is not null)
        {
            output = output.add(Bias.Variable, Scalars.IntOne);
        }

        return Activations.Apply(Activation, output);
    }
}
