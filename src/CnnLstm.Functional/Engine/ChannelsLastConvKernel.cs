using System.Globalization;
using static TorchSharp.torch;

namespace KerasStyle.Engine;

/// <summary>
/// Conv1D's fast path: the channels-last (batch, steps, channels) input seen as a channels-last
/// (batch, channels, 1, steps) image, convolved by libtorch's <c>conv2d</c> (oneDNN) in place, about 3x faster than
/// <c>conv1d</c>, which first reorders to channels-first. Its plain alternative is im2col: the windows gathered by
/// <c>unfold</c> and one matrix product, which is also what a single sample uses (there libtorch would not pick
/// oneDNN but probe NNPACK, which prints a warning on CPUs it does not support, and run its slow reference conv).
/// </summary>
internal static class ChannelsLastConvKernel
{
    /// <summary>Name of the check with autograd off.</summary>
    public const string Inference = "conv1d-channels-last-inference";

    /// <summary>Name of the check with autograd on, gradients included.</summary>
    public const string Training = "conv1d-channels-last-training";

    private const int Batch = 3;
    private const int OutLength = 6;

    /// <summary>Whether the channels-last conv2d gives the reference maths for this geometry and mode.</summary>
    public static bool Trusted(bool training, int channels, int filters, int kernel, int stride, int dilation) =>
        KernelChecks.Trusted(training ? Training : Inference, new KernelCase(channels, filters, kernel, stride, dilation), 1e-4,
            "im2col (unfold and a matrix product)", Describe, training ? static c => Measure(true, c) : static c => Measure(false, c));

    private static string Describe(KernelCase c) =>
        string.Create(CultureInfo.InvariantCulture, $"channels {c.A}, filters {c.B}, kernel {c.C}, stride {c.D}, dilation {c.E}, batch {Batch}");

    /// <summary>The fast path: x (batch, length, channels), weight (filters, channels, kernel) → (batch, out, filters).</summary>
    public static Tensor Apply(Tensor x, Tensor weight, Tensor? bias, int stride, int dilation)
    {
        var y = nn.functional.conv2d(x.unsqueeze(1).permute(0, 3, 1, 2), weight.unsqueeze(2), bias,
            strides: new long[] { 1, stride }, dilation: new long[] { 1, dilation });
        return y.squeeze(2).transpose(1, 2);
    }

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
            windows = windows.index_select(3, arange(0, span, dilation, device: x.device));
        }

        var columns = windows.reshape(windows.shape[0], windows.shape[1], -1);
        return nn.functional.linear(columns, weight.reshape(filters, -1), bias);
    }

    private static double Measure(bool training, KernelCase c)
    {
        var (channels, filters, kernel, stride, dilation) = (c.A, c.B, c.C, c.D, c.E);
        var random = new Random(20261130 + channels + (7 * filters) + (131 * kernel));
        var span = ((kernel - 1) * dilation) + 1;
        var length = ((OutLength - 1) * stride) + span;
        var x = KernelChecks.Uniform(random, Batch * length * channels, 1.0);
        var w = KernelChecks.Uniform(random, filters * channels * kernel, 1.0 / Math.Sqrt(channels * kernel));
        var b = KernelChecks.Uniform(random, filters, 0.5);
        double[] Reference(IReadOnlyList<double[]> a) => ReferenceMaths.Conv1D(a[0], a[1], a[2], Batch, length, channels, filters, kernel, stride, dilation);
        var expected = Reference(new[] { KernelChecks.ToDouble(x), KernelChecks.ToDouble(w), KernelChecks.ToDouble(b) });

        using var scope = NewDisposeScope();
        var shapes = new[] { new long[] { Batch, length, channels }, new long[] { filters, channels, kernel }, new long[] { filters } };
        if (!training)
        {
            using var inference = inference_mode(true);
            return KernelChecks.MaxDifference(Apply(tensor(x, shapes[0]), tensor(w, shapes[1]), tensor(b, shapes[2]), stride, dilation), expected);
        }

        using var notInference = inference_mode(false);
        using var grad = enable_grad();
        var leaves = new[] { tensor(x, shapes[0]), tensor(w, shapes[1]), tensor(b, shapes[2]) }.Select(t => t.requires_grad_(true)).ToArray();
        var output = Apply(leaves[0], leaves[1], leaves[2], stride, dilation);
        return Math.Max(KernelChecks.MaxDifference(output, expected), KernelChecks.DirectionalGradientError(random, leaves, output, Reference));
    }
}
