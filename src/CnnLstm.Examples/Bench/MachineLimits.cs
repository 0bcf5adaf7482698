using static TorchSharp.torch;

namespace KerasStyle.Examples.Bench;

/// <summary>
/// The machine's own limits, measured with libtorch in the bench's process on <see cref="Threads"/> threads:
/// the FLOP rate of a large float32 matrix product, the FLOP rate of the seed's convolution (Conv1D 128 → 64
/// channels, kernel 5, over 100 steps of a batch of 30, through libtorch's <c>conv1d</c>), and the main-memory
/// bandwidth of a large copy (bytes read plus bytes written per second). Each figure is the best of several timed
/// repetitions after a warm-up, over several samples spread through the run (<see cref="Sample"/>): a peak is what
/// the machine did at least once, so the best rather than the median.
/// </summary>
internal sealed class MachineLimits
{
    /// <param name="GemmFlopsPerSecond">Float32 matmul of two <see cref="GemmSize"/>² matrices, 2n³ FLOPs a product.</param>
    /// <param name="ConvFlopsPerSecond">libtorch conv1d on the seed's shapes, forward, 2·k·in·filters·steps_out FLOPs a sample.</param>
    /// <param name="CopyBytesPerSecond">copy_ of a <see cref="CopyBytes"/>-byte float32 tensor into another, counted as 2·size bytes.</param>
    public sealed record Result(int Threads, int GemmSize, double GemmFlopsPerSecond, double ConvFlopsPerSecond, long CopyBytes, double CopyBytesPerSecond)
    {
        /// <summary>The higher of the two FLOP rates: the floor's compute term uses it, so the floor stays a lower bound.</summary>
        public double PeakFlopsPerSecond => Math.Max(GemmFlopsPerSecond, ConvFlopsPerSecond);
    }

    /// <summary>The seed's convolution: batch, input channels, steps, filters, kernel.</summary>
    internal const int ConvBatch = 30, ConvChannels = 128, ConvSteps = 100, ConvFilters = 64, ConvKernel = 5;

    /// <summary>Forward FLOPs of one call of the seed's convolution on a batch.</summary>
    internal const double ConvFlops = 2.0 * ConvBatch * ConvKernel * ConvChannels * ConvFilters * (ConvSteps - ConvKernel + 1);

    private readonly bool quick;
    private Result? best;

    public MachineLimits(bool quick) => this.quick = quick;

    private long peakOutsideSamples;
    private bool highWaterReset = true;

    /// <summary>
    /// The bench process' peak working set outside the samples, or null where the high-water mark cannot be reset
    /// (not Linux, or /proc/self/clear_refs not writable), when it would include the samples' tensors.
    /// </summary>
    public long? PeakWorkingSetOutsideSamples => highWaterReset ? Math.Max(peakOutsideSamples, PeakWorkingSetBytes()) : null;

    private static long PeakWorkingSetBytes()
    {
        using var self = System.Diagnostics.Process.GetCurrentProcess();
        return self.PeakWorkingSet64;
    }

    private static bool TryResetHighWater()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>How many times <see cref="Sample"/> ran.</summary>
    public int Samples { get; private set; }

    /// <summary>The best of each figure over all samples so far.</summary>
    public Result Best => best ?? throw new InvalidOperationException("MachineLimits.Sample has not run.");

    /// <summary>
    /// Measures all three once more and keeps the best of each figure. The bench samples before each model and
    /// after the last, so a burst of load from other processes during one sample does not set the limits.
    /// </summary>
    public Result Sample(int threads)
    {
        // The samples' own tensors (a 256 MiB copy into another) must not count in the bench process' peak working
        // set, which the bench reports for the models: keep the peak so far, and after the sample reset the kernel's
        // high-water mark to the current resident set (Linux: "5" into /proc/self/clear_refs).
        peakOutsideSamples = Math.Max(peakOutsideSamples, PeakWorkingSetBytes());
        var now = Measure(threads);
        highWaterReset &= TryResetHighWater();
        Samples++;
        best = best is null ? now : now with
        {
            GemmFlopsPerSecond = Math.Max(best.GemmFlopsPerSecond, now.GemmFlopsPerSecond),
            ConvFlopsPerSecond = Math.Max(best.ConvFlopsPerSecond, now.ConvFlopsPerSecond),
            CopyBytesPerSecond = Math.Max(best.CopyBytesPerSecond, now.CopyBytesPerSecond),
        };
        return now;
    }

    /// <summary>Measures all three on <paramref name="threads"/> libtorch threads (restored afterwards).</summary>
    public Result Measure(int threads)
    {
        var previous = get_num_threads();
        set_num_threads(threads);
        try
        {
            using var mode = inference_mode();
            var gemmSize = quick ? 512 : 2048;
            var gemm = Gemm(gemmSize);
            var conv = Conv();
            var copyBytes = quick ? 64L << 20 : 256L << 20;
            var copy = Copy(copyBytes);
            return new Result(threads, gemmSize, gemm, conv, copyBytes, copy);
        }
        finally
        {
            set_num_threads(previous);
        }
    }

    private double Gemm(int n)
    {
        using var scope = NewDisposeScope();
        var a = randn(n, n);
        var b = randn(n, n);
        var calls = quick ? 2 : Math.Max(1, (int)(4e9 / (2.0 * n * n * n)));
        var seconds = Fastest(() =>
        {
            for (var i = 0; i < calls; i++)
            {
                using var c = a.mm(b);
            }
        });
        return 2.0 * n * n * n * calls / seconds;
    }

    private double Conv()
    {
        using var scope = NewDisposeScope();
        var x = randn(ConvBatch, ConvChannels, ConvSteps);
        var w = randn(ConvFilters, ConvChannels, ConvKernel);
        var bias = randn(ConvFilters);
        var calls = quick ? 2 : 20;
        var seconds = Fastest(() =>
        {
            for (var i = 0; i < calls; i++)
            {
                using var y = nn.functional.conv1d(x, w, bias);
            }
        });
        return ConvFlops * calls / seconds;
    }

    private double Copy(long bytes)
    {
        using var scope = NewDisposeScope();
        var source = ones(bytes / sizeof(float));
        var target = empty(bytes / sizeof(float));
        var seconds = Fastest(() => target.copy_(source));
        return 2.0 * bytes / seconds;
    }

    /// <summary>The shortest of several timed runs after one untimed warm-up (which also touches every page).</summary>
    private double Fastest(Action run)
    {
        run();
        var best = double.MaxValue;
        for (var i = 0; i < (quick ? 2 : 3); i++)
        {
            best = Math.Min(best, BenchRunner.Time(run));
        }

        return best;
    }
}
