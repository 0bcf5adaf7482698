using KerasStyle.Engine;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// 1-D convolution over channels-last sequences (batch, steps, channels), as Keras' <c>Conv1D</c>
/// (keras/src/layers/convolutional/conv1d.py); the arguments, checks and config are <see cref="BaseConv"/>'s.
/// Weights: kernel (kernelSize, in, filters) glorot_uniform, bias (filters) zeros. The engine keeps the kernel in
/// torch's (filters, in, kernelSize) layout.
/// </summary>
[KerasLayer("Conv1D")]
public sealed class Conv1D : BaseConv
{
    /// <summary>Creates a 1-D convolution layer.</summary>
    /// <param name="filters">Number of output channels; must be positive.</param>
    /// <param name="kernelSize">Window length; must be positive.</param>
    /// <param name="strides">Step between windows; must be positive.</param>
    /// <param name="padding"><c>valid</c> (no padding), <c>same</c> (output length ceil(L / strides)) or
    /// <c>causal</c> (left padding of (kernelSize - 1) * dilationRate).</param>
    /// <param name="dilationRate">Spacing between kernel taps; must be positive.</param>
    /// <param name="activation">Keras activation name; null or <c>linear</c> for none.</param>
    /// <param name="useBias">Whether to add a bias vector.</param>
    /// <param name="name">Layer name; defaults to <c>conv1d_N</c>.</param>
    /// <param name="groups">Channel groups (default 1): each of <paramref name="groups"/> slices of the input channels is
    /// convolved with its own filters / groups kernels; must divide <paramref name="filters"/> and the input channels.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size or <paramref name="groups"/> is not positive.</exception>
    /// <exception cref="ArgumentException">Unknown padding or activation, or groups not dividing filters.</exception>
    public Conv1D(int filters, int kernelSize, int strides = 1, string padding = "valid", int dilationRate = 1,
        string? activation = null, bool useBias = true, string? name = null, int groups = 1)
        : base(1, filters, new[] { kernelSize }, new[] { strides }, padding, new[] { dilationRate }, activation, useBias, name, allowCausal: true, groups)
    {
    }

    /// <summary>Window length.</summary>
    public int KernelSize => KernelSizes[0];

    /// <summary>Step between windows.</summary>
    public int Strides => StridesPerAxis[0];

    /// <summary>Spacing between kernel taps.</summary>
    public int DilationRate => DilationPerAxis[0];

    private protected override Func<Tensor, Tensor> KernelLayout => t => t.permute(2, 1, 0);

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config.</summary>
    internal static Conv1D FromConfig(LayerConfig config)
    {
        var a = ReadConvConfig(config, 1);
        return new Conv1D(a.Filters, a.KernelSize[0], a.Strides[0], a.Padding, a.DilationRate[0], a.Activation, a.UseBias, a.Name, a.Groups)
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
            // Grouped: libtorch's grouped convolution once checked, else the plain path (Engine/ConvKernels.cs); the
            // kernel is kept as (filters, channels / groups, kernel), its Keras layout is the reverse.
            return Activations.Apply(Activation, ConvKernels.Conv(PadInput(input), Kernel!.Variable.permute(2, 1, 0), Bias?.Variable, StridesPerAxis, DilationPerAxis, Groups));
        }

        if (KernelSize == 1 && Strides == 1)
        {
            // A width-1 convolution is a dense map of each step's channels: one matrix product on the
            // channels-last input, no layout changes, no convolution set-up (the seed's regression model).
            using var matrix = Kernel!.Variable.squeeze(-1);
            return Activations.Apply(Activation, nn.functional.linear(input, matrix, Bias?.Variable));
        }

        var (left, right) = PaddingMode switch
        {
            Layers.Padding.Same => PaddingRules.SamePadding((int)input.shape[1], EffectiveKernel[0], Strides),
            Layers.Padding.Causal => (EffectiveKernel[0] - 1L, 0L),
            _ => (0L, 0L),
        };
        var x = left + right > 0 ? nn.functional.pad(input, new[] { 0L, 0L, left, right }) : input;

        // The small-batch inference kernel (relu fused), else the fastest libtorch path whose check passed on this
        // CPU, or im2col (Engine/Conv1DKernels.cs).
        var y = Conv1DKernels.Run(x, Kernel!.Variable, Bias?.Variable, Strides, DilationRate, Activation == "relu", out var reluApplied);
        return reluApplied ? y : Activations.Apply(Activation, y);
    }
}
