using System.Globalization;
using static TorchSharp.torch;

namespace KerasStyle.Engine;

/// <summary>
/// Conv1D's paths: the library's own small-batch kernel, two libtorch paths, each checked before use, and their plain
/// alternative.
/// <list type="bullet">
/// <item>Inference (autograd off) on 1 to <see cref="SmallConv1DKernel.MaxBatch"/> samples on a CPU with AVX2 or
/// AVX-512: <see cref="SmallConv1DKernel"/>, AVX-512/AVX2 fused multiply-adds in C# reading the layer's weights in
/// place, with the bias and relu fused (about 2.5x faster than libtorch for one sample of the sentiment model).</item>
/// <item>Batches of two or more: the channels-last (batch, steps, channels) input seen as a channels-last
/// (batch, channels, 1, steps) image, convolved by <c>conv2d</c> (oneDNN) in place, about 3x faster than
/// <c>conv1d</c>, which first reorders to channels-first.</item>
/// <item>One sample: libtorch does not pick oneDNN for a single small sample but its own im2col convolution
/// (<c>slow_conv2d</c>), reached through <c>conv1d</c> on the transposed view; it is faster there than oneDNN.</item>
/// <item>The plain alternative, for a CPU where a check fails: im2col written here, windows gathered by
/// <c>unfold</c> and one matrix product.</item>
/// </list>
/// On its way to <c>slow_conv2d</c> libtorch would probe NNPACK, which prints "Could not initialize NNPACK!
/// Reason: Unsupported hardware." on CPUs NNPACK does not know; the library turns NNPACK off (see
/// <see cref="LibTorchSwitches"/>), as PyTorch's <c>torch.backends.nnpack.set_flags(False)</c> does.
/// </summary>
internal static class Conv1DKernels
{
    /// <summary>Name of the check of the channels-last path with autograd off.</summary>
    public const string ChannelsLastInference = "conv1d-channels-last-inference";

    /// <summary>Name of the check of the channels-last path with autograd on, gradients included.</summary>
    public const string ChannelsLastTraining = "conv1d-channels-last-training";

    /// <summary>Name of the check of the one-sample path with autograd off.</summary>
    public const string SingleSampleInference = "conv1d-single-sample-inference";

    /// <summary>Name of the check of the one-sample path with autograd on, gradients included.</summary>
    public const string SingleSampleTraining = "conv1d-single-sample-training";

    private const int OutLength = 6;
    private const string Fallback = "im2col (unfold and a matrix product)";

    /// <summary>Runs the convolution by the fastest path whose check passed for this geometry, batch kind and mode.</summary>
    /// <param name="x">Padded input (batch, length, channels).</param>
    /// <param name="weight">Kernel (filters, channels, kernel).</param>
    /// <param name="bias">Bias (filters) or null.</param>
    /// <param name="stride">Stride.</param>
    /// <param name="dilation">Dilation.</param>
    /// <returns>(batch, out, filters).</returns>
    public static Tensor Run(Tensor x, Tensor weight, Tensor? bias, int stride, int dilation) =>
        Run(x, weight, bias, stride, dilation, relu: false, out _);

    /// <summary>
    /// Runs the convolution by the fastest path for this geometry, batch size and mode, applying relu too when
    /// <paramref name="relu"/> is asked and the path fuses it (the small-batch kernel does).
    /// </summary>
    /// <param name="x">Padded input (batch, length, channels).</param>
    /// <param name="weight">Kernel (filters, channels, kernel).</param>
    /// <param name="bias">Bias (filters) or null.</param>
    /// <param name="stride">Stride.</param>
    /// <param name="dilation">Dilation.</param>
    /// <param name="relu">Whether the caller applies relu next (and would let the convolution do it).</param>
    /// <param name="reluApplied">Whether the result already has relu applied; when false the caller applies its
    /// activation.</param>
    /// <returns>(batch, out, filters).</returns>
    public static Tensor Run(Tensor x, Tensor weight, Tensor? bias, int stride, int dilation, bool relu, out bool reluApplied)
    {
        if (SmallConv1DKernel.Applies(x, weight, bias, stride, dilation))
        {
            reluApplied = relu;
            return SmallConv1DKernel.Run(x, weight, bias, stride, dilation, relu);
        }

        reluApplied = false;
        LibTorchSwitches.EnsureApplied();
        var key = new KernelCase((int)weight.shape[1], (int)weight.shape[0], (int)weight.shape[2], stride, dilation);
        var training = is_grad_enabled();
        return x.shape[0] switch
        {
            > 1 when Trusted(training ? ChannelsLastTraining : ChannelsLastInference, key) => ChannelsLast(x, weight, bias, stride, dilation),
            1 when Trusted(training ? SingleSampleTraining : SingleSampleInference, key) => SingleSample(x, weight, bias, stride, dilation),
            _ => Im2Col(x, weight, bias, stride, dilation),
        };
    }

    /// <summary>Whether a path gives the reference maths for (channels, filters, kernel, stride, dilation).</summary>
    public static bool Trusted(string kernel, KernelCase key) => kernel switch
    {
        ChannelsLastInference => KernelChecks.Trusted(kernel, key, 1e-4, Fallback, Describe, static c => Measure(ChannelsLast, 3, false, c)),
        ChannelsLastTraining => KernelChecks.Trusted(kernel, key, 1e-4, Fallback, Describe, static c => Measure(ChannelsLast, 3, true, c)),
        SingleSampleInference => KernelChecks.Trusted(kernel, key, 1e-4, Fallback, Describe, static c => Measure(SingleSample, 1, false, c)),
        SingleSampleTraining => KernelChecks.Trusted(kernel, key, 1e-4, Fallback, Describe, static c => Measure(SingleSample, 1, true, c)),
        _ => throw new ArgumentOutOfRangeException(nameof(kernel), kernel, "not a Conv1D kernel"),
    };

    /// <summary>The batch path: conv2d on the channels-last image view.</summary>
    public static Tensor ChannelsLast(Tensor x, Tensor weight, Tensor? bias, int stride, int dilation)
    {
        var y = nn.functional.conv2d(x.unsqueeze(1).permute(0, 3, 1, 2), weight.unsqueeze(2), bias,
            strides: new long[] { 1, stride }, dilation: new long[] { 1, dilation });
        return y.squeeze(2).transpose(1, 2);
    }

    /// <summary>The one-sample path: conv1d on the channels-first view.</summary>
    public static Tensor SingleSample(Tensor x, Tensor weight, Tensor? bias, int stride, int dilation) =>
        nn.functional.conv1d(x.transpose(1, 2), weight, bias, stride: stride, dilation: dilation).transpose(1, 2);

    /// <summary>The plain path, same arguments and result: every window unfolded, then one matrix product.</summary>
    public static Tensor Im2Col(Tensor x, Tensor weight, Tensor? bias, int stride, int dilation)
    {
        var filters = weight.shape[0];
        var kernel = weight.shape[2];
        var span = ((kernel - 1) * dilation) + 1;
        // (batch, out, channels, span) → the dilated taps → (batch, out, channels · kernel), matching weight's layout.
        var windows = x.unfold(1, span, stride);
        if (dilation > 1)
        {
            windows = windows.index_select(3, arange(Scalars.OfInt(0), Scalars.OfInt(span), Scalars.OfInt(dilation), device: x.device));
        }

        var columns = windows.reshape(windows.shape[0], windows.shape[1], -1);
        return nn.functional.linear(columns, weight.reshape(filters, -1), bias);
    }

    private static string Describe(KernelCase c) =>
        string.Create(CultureInfo.InvariantCulture, $"channels {c.A}, filters {c.B}, kernel {c.C}, stride {c.D}, dilation {c.E}");

    private static double Measure(Func<Tensor, Tensor, Tensor?, int, int, Tensor> path, int batch, bool training, KernelCase c)
    {
        LibTorchSwitches.EnsureApplied();
        var (channels, filters, kernel, stride, dilation) = (c.A, c.B, c.C, c.D, c.E);
        var random = new Random(20261130 + channels + (7 * filters) + (131 * kernel) + batch);
        var span = ((kernel - 1) * dilation) + 1;
        var length = ((OutLength - 1) * stride) + span;
        var x = KernelChecks.Uniform(random, batch * length * channels, 1.0);
        var w = KernelChecks.Uniform(random, filters * channels * kernel, 1.0 / Math.Sqrt(channels * kernel));
        var b = KernelChecks.Uniform(random, filters, 0.5);
        return KernelChecks.CompareWithReference(training, random,
            new[] { (x, new long[] { batch, length, channels }), (w, new long[] { filters, channels, kernel }), (b, new long[] { filters }) },
            t => path(t[0], t[1], t[2], stride, dilation),
            a => ReferenceMaths.Conv1D(a[0], a[1], a[2], batch, length, channels, filters, kernel, stride, dilation));
    }
}
