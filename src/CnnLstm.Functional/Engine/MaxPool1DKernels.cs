using System.Globalization;
using static TorchSharp.torch;

namespace KerasStyle.Engine;

/// <summary>
/// MaxPooling1D's libtorch paths, each checked before use, and their plain alternative. The (batch, steps, channels)
/// input arrives in either memory layout: channels-last from Embedding and the batch convolution, channels-first
/// (a transposed view) from the one-sample convolution. Each layout is pooled where it lies, with no copy:
/// <c>max_pool2d</c> on the channels-last (batch, channels, 1, steps) image view, or <c>max_pool1d</c> on the
/// channels-first view (3x faster there than the image view). The plain alternative unfolds the windows and takes
/// their maximum.
/// </summary>
internal static class MaxPool1DKernels
{
    /// <summary>Name of the check of the channels-last path with autograd off.</summary>
    public const string ChannelsLastInference = "maxpool1d-channels-last-inference";

    /// <summary>Name of the check of the channels-last path with autograd on, gradients included.</summary>
    public const string ChannelsLastTraining = "maxpool1d-channels-last-training";

    /// <summary>Name of the check of the channels-first path with autograd off.</summary>
    public const string ChannelsFirstInference = "maxpool1d-channels-first-inference";

    /// <summary>Name of the check of the channels-first path with autograd on, gradients included.</summary>
    public const string ChannelsFirstTraining = "maxpool1d-channels-first-training";

    private const int Batch = 3;
    private const int Channels = 19;
    private const int OutLength = 6;
    private const string Fallback = "unfold and max";

    /// <summary>Pools x (batch, length, channels) by the path for its memory layout whose check passed, or unfolds.</summary>
    public static Tensor Run(Tensor x, int pool, int stride)
    {
        var channelsFirst = x.stride(1) == 1 && x.shape[2] > 1;
        var training = is_grad_enabled();
        var kernel = channelsFirst ? (training ? ChannelsFirstTraining : ChannelsFirstInference) : (training ? ChannelsLastTraining : ChannelsLastInference);
        if (!Trusted(kernel, pool, stride))
        {
            return Unfolded(x, pool, stride);
        }

        return channelsFirst ? ChannelsFirst(x, pool, stride) : ChannelsLast(x, pool, stride);
    }

    /// <summary>Whether a path gives the reference maths for this window.</summary>
    public static bool Trusted(string kernel, int pool, int stride) => kernel switch
    {
        ChannelsLastInference => KernelChecks.Trusted(kernel, new KernelCase(pool, stride), 1e-6, Fallback, Describe, static c => Measure(ChannelsLast, false, false, c)),
        ChannelsLastTraining => KernelChecks.Trusted(kernel, new KernelCase(pool, stride), 1e-6, Fallback, Describe, static c => Measure(ChannelsLast, false, true, c)),
        ChannelsFirstInference => KernelChecks.Trusted(kernel, new KernelCase(pool, stride), 1e-6, Fallback, Describe, static c => Measure(ChannelsFirst, true, false, c)),
        ChannelsFirstTraining => KernelChecks.Trusted(kernel, new KernelCase(pool, stride), 1e-6, Fallback, Describe, static c => Measure(ChannelsFirst, true, true, c)),
        _ => throw new ArgumentOutOfRangeException(nameof(kernel), kernel, "not a MaxPooling1D kernel"),
    };

    /// <summary>The channels-last path: x (batch, length, channels) → (batch, out, channels).</summary>
    public static Tensor ChannelsLast(Tensor x, int pool, int stride) =>
        nn.functional.max_pool2d(x.unsqueeze(1).permute(0, 3, 1, 2), new long[] { 1, pool }, new long[] { 1, stride }).squeeze(2).transpose(1, 2);

    /// <summary>The channels-first path, same arguments and result.</summary>
    public static Tensor ChannelsFirst(Tensor x, int pool, int stride) =>
        nn.functional.max_pool1d(x.transpose(1, 2), pool, stride).transpose(1, 2);

    /// <summary>The plain path, same arguments and result.</summary>
    public static Tensor Unfolded(Tensor x, int pool, int stride) => x.unfold(1, pool, stride).max(3).values;

    private static string Describe(KernelCase c) => string.Create(CultureInfo.InvariantCulture, $"pool {c.A}, stride {c.B}, channels {Channels}, batch {Batch}");

    private static double Measure(Func<Tensor, int, int, Tensor> path, bool channelsFirst, bool training, KernelCase c)
    {
        var (pool, stride) = (c.A, c.B);
        var random = new Random(20261130 + pool + (97 * stride));
        var length = ((OutLength - 1) * stride) + pool;
        // Distinct values at least 1e-3 apart (a shuffled arithmetic sequence): the gradient check's central difference
        // (steps of 1e-4) must never change which value is a window's maximum, which random values sometimes did.
        var count = Batch * length * Channels;
        var x = Enumerable.Range(0, count).Select(i => (float)((i - (count / 2)) * 1e-3)).OrderBy(_ => random.Next()).ToArray();

        // The input in the layout this path is for: channels-first memory is a transposed view of a contiguous copy.
        Tensor Input(Tensor t) => channelsFirst ? t.transpose(1, 2).contiguous().transpose(1, 2) : t;
        return KernelChecks.CompareWithReference(training, random, new[] { (x, new long[] { Batch, length, Channels }) },
            t => path(Input(t[0]), pool, stride), a => ReferenceMaths.MaxPool1D(a[0], Batch, length, Channels, pool, stride));
    }
}
