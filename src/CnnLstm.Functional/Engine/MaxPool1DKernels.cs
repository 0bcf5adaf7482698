using System.Globalization;
using System.Numerics;
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
internal static unsafe class MaxPool1DKernels
{
    // Below this many output values a second thread costs more than it saves.
    private const long ParallelThreshold = 1 << 15;

    /// <summary>Name of the check of the channels-last path with autograd on, gradients included.</summary>
    public const string ChannelsLastTraining = "maxpool1d-channels-last-training";

    /// <summary>Name of the check of the channels-first path with autograd on, gradients included.</summary>
    public const string ChannelsFirstTraining = "maxpool1d-channels-first-training";

    private const int Batch = 3;
    private const int Channels = 19;
    private const int OutLength = 6;
    private const string Fallback = "unfold and max";

    /// <summary>Pools x (batch, length, channels) by the path for its memory layout whose check passed, or unfolds.</summary>
    public static Tensor Run(Tensor x, int pool, int stride)
    {
        if (!is_grad_enabled())
        {
            // Inference never calls libtorch's pooling: C# for float32, the plain path for anything else.
            return Direct(x, pool, stride) ?? Unfolded(x, pool, stride);
        }

        var channelsFirst = x.stride(1) == 1 && x.shape[2] > 1;
        var kernel = channelsFirst ? ChannelsFirstTraining : ChannelsLastTraining;
        if (!Trusted(kernel, pool, stride))
        {
            return Unfolded(x, pool, stride);
        }

        return channelsFirst ? ChannelsFirst(x, pool, stride) : ChannelsLast(x, pool, stride);
    }

    /// <summary>
    /// Inference pooling in C#, with no libtorch call: a float32 CPU input whose memory is channels-last (contiguous)
    /// or channels-first (a transposed contiguous tensor, as the one-sample convolution returns) → a new contiguous
    /// (batch, out, channels) tensor. A window's maximum propagates NaN, as libtorch's pooling does. Null for any
    /// other input (the libtorch paths take it). For one sample of the seed's shape, libtorch's pooling took 10-13 µs,
    /// nearly all of it per-call overhead (docs/performance.md, "Predict's per-call path").
    /// </summary>
    internal static Tensor? Direct(Tensor x, int pool, int stride)
    {
        if (!TensorData.IsCpuFloat32(x) || x.dim() != 3)
        {
            return null;
        }

        var (batch, length, channels) = (x.size(0), x.size(1), x.size(2));
        var channelsLast = x.is_contiguous();
        if (!channelsLast && !x.transpose(1, 2).is_contiguous())
        {
            return null;
        }

        var outLength = length < pool ? 0 : ((length - pool) / stride) + 1;
        var output = empty(batch, outLength, channels);
        if (output.numel() == 0)
        {
            return output;
        }

        using var source = channelsLast ? x.alias() : x.transpose(1, 2);
        var input = TensorData.FloatPointer(source);
        var result = TensorData.FloatPointer(output);
        // Channels-last: step t, channel c at t * channels + c; channels-first: at c * length + t.
        var (stepStride, channelStride) = channelsLast ? (channels, 1L) : (1L, length);
        ParallelRanges.For(batch, output.numel(), ParallelThreshold, 1, (first, last) =>
        {
            for (var b = first; b < last; b++)
            {
                var sample = input + (b * length * channels);
                var target = result + (b * outLength * channels);
                for (var o = 0L; o < outLength; o++)
                {
                    var window = sample + (o * stride * stepStride);
                    if (channelsLast)
                    {
                        WindowMaxChannelsLast(window, target + (o * channels), channels, pool);
                        continue;
                    }

                    for (var c = 0L; c < channels; c++)
                    {
                        target[(o * channels) + c] = WindowMax(window + (c * channelStride), 1, pool);
                    }
                }
            }
        });
        return output;
    }

    /// <summary>The maximum of <paramref name="pool"/> consecutive channels-last steps, channel by channel; NaN propagates (Vector.Max is IEEE 754 maximum).</summary>
    private static void WindowMaxChannelsLast(float* window, float* target, long channels, int pool)
    {
        var c = 0L;
        for (; c + Vector<float>.Count <= channels; c += Vector<float>.Count)
        {
            var max = Vector.Load(window + c);
            for (var k = 1; k < pool; k++)
            {
                max = Vector.Max(max, Vector.Load(window + (k * channels) + c));
            }

            max.Store(target + c);
        }

        for (; c < channels; c++)
        {
            target[c] = WindowMax(window + c, channels, pool);
        }
    }

    /// <summary>The maximum of <paramref name="pool"/> floats <paramref name="step"/> apart; NaN wins, as in libtorch (a comparison with NaN is false either way round).</summary>
    private static float WindowMax(float* first, long step, int pool)
    {
        var max = first[0];
        for (var k = 1; k < pool; k++)
        {
            var value = first[k * step];
            if (value > max || float.IsNaN(value))
            {
                max = value;
            }
        }

        return max;
    }

    /// <summary>Whether a path gives the reference maths for this window.</summary>
    public static bool Trusted(string kernel, int pool, int stride) => kernel switch
    {
        ChannelsLastTraining => KernelChecks.Trusted(kernel, new KernelCase(pool, stride), 1e-6, Fallback, Describe, static c => Measure(ChannelsLast, false, true, c)),
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
