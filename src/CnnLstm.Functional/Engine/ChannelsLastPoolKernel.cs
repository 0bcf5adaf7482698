using System.Globalization;
using static TorchSharp.torch;

namespace KerasStyle.Engine;

/// <summary>
/// MaxPooling1D's fast path: the channels-last (batch, steps, channels) input pooled as a channels-last
/// (batch, channels, 1, steps) image by libtorch's <c>max_pool2d</c>, with no reordering copies. Its plain
/// alternative unfolds the windows and takes their maximum.
/// </summary>
internal static class ChannelsLastPoolKernel
{
    /// <summary>Name of the check with autograd off.</summary>
    public const string Inference = "maxpool1d-channels-last-inference";

    /// <summary>Name of the check with autograd on, gradients included.</summary>
    public const string Training = "maxpool1d-channels-last-training";

    private const int Batch = 3;
    private const int Channels = 19;
    private const int OutLength = 6;

    /// <summary>Whether the channels-last max_pool2d gives the reference maths for this window and mode.</summary>
    public static bool Trusted(bool training, int pool, int stride) =>
        KernelChecks.Trusted(training ? Training : Inference, new KernelCase(pool, stride), 1e-6, "unfold and max", Describe,
            training ? static c => Measure(true, c.A, c.B) : static c => Measure(false, c.A, c.B));

    private static string Describe(KernelCase c) => string.Create(CultureInfo.InvariantCulture, $"pool {c.A}, stride {c.B}, channels {Channels}, batch {Batch}");

    /// <summary>The fast path: x (batch, length, channels) → (batch, out, channels).</summary>
    public static Tensor Apply(Tensor x, int pool, int stride) =>
        nn.functional.max_pool2d(x.unsqueeze(1).permute(0, 3, 1, 2), new long[] { 1, pool }, new long[] { 1, stride }).squeeze(2).transpose(1, 2);

    /// <summary>The plain path, same arguments and result.</summary>
    public static Tensor Unfolded(Tensor x, int pool, int stride) => x.unfold(1, pool, stride).max(3).values;

    private static double Measure(bool training, int pool, int stride)
    {
        var random = new Random(20261130 + pool + (97 * stride));
        var length = ((OutLength - 1) * stride) + pool;
        var x = KernelChecks.Uniform(random, Batch * length * Channels, 1.0);
        double[] Reference(IReadOnlyList<double[]> a) => ReferenceMaths.MaxPool1D(a[0], Batch, length, Channels, pool, stride);
        var expected = Reference(new[] { KernelChecks.ToDouble(x) });
        var shape = new long[] { Batch, length, Channels };

        using var scope = NewDisposeScope();
        if (!training)
        {
            using var inference = inference_mode(true);
            return KernelChecks.MaxDifference(Apply(tensor(x, shape), pool, stride), expected);
        }

        using var notInference = inference_mode(false);
        using var grad = enable_grad();
        var leaf = tensor(x, shape).requires_grad_(true);
        var output = Apply(leaf, pool, stride);
        return Math.Max(KernelChecks.MaxDifference(output, expected), KernelChecks.DirectionalGradientError(random, new[] { leaf }, output, Reference));
    }
}
