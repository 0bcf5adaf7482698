using System.Diagnostics;
using System.Globalization;
using static TorchSharp.torch;

namespace KerasStyle.Engine;

/// <summary>
/// How many threads libtorch's intra-op pool (and the library's own parallel kernels) use. By default the library
/// adapts: every half second at most, at a batch boundary, it reads how much CPU other processes used (Linux
/// <c>/proc/stat</c> less this process' own time) and uses the cores they leave free, at least one (a core at least
/// half used by others counts as taken). Why: libtorch's OpenMP threads wait for each other at every parallel
/// operation, so when other work keeps the cores busy a descheduled thread stalls all of them; on the project's
/// 2-core machine, with two other busy processes, the regression example took 36–86 s with libtorch's default of two
/// threads and 13 s with this policy (docs/performance.md). On a quiet machine the policy keeps every core,
/// libtorch's own default, except for a batch of one sample, which runs on one thread: there waking a second thread
/// for every operation costs more than the work it takes over (the sentiment model's single-sample Predict measured
/// 323 µs on one thread against 390 µs on two).
/// </summary>
/// <remarks>
/// The policy stays out of the way when the user has chosen: it never changes threads when <c>OMP_NUM_THREADS</c>
/// is set, and <see cref="FixedThreads"/> pins a number. It adapts only where <c>/proc/stat</c> describes the cores
/// this process runs on (not inside a CPU-quota container that sees the host's cores); elsewhere it keeps all
/// cores. libtorch's thread count belongs to each calling thread, so it is applied on the thread that runs each
/// batch of Fit, Evaluate, TrainOnBatch and Predict.
/// </remarks>
public static class ThreadPolicy
{
    private const double SampleSeconds = 0.5;
    private const double ClockTicksPerSecond = 100; // USER_HZ, fixed by the Linux ABI
    private static readonly object Gate = new();
    private static readonly bool UserSetOmp = !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("OMP_NUM_THREADS"));
    private static int? fixedThreads;
    private static int adaptive = Environment.ProcessorCount;
    private static long lastSample;
    private static (long Busy, long Self)? lastTicks;
    private static double lastOtherCores;
    private static bool? canAdapt;

    /// <summary>
    /// Null (default) to adapt to the load; a number from 1 to <see cref="Environment.ProcessorCount"/> to use that
    /// many threads always.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The number is below 1 or above the core count.</exception>
    public static int? FixedThreads
    {
        get => fixedThreads;
        set
        {
            if (value is int n && (n < 1 || n > Environment.ProcessorCount))
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, $"ThreadPolicy.FixedThreads must be null (adapt to the load) or from 1 to {Environment.ProcessorCount} (this machine's cores).");
            }

            fixedThreads = value;
        }
    }

    /// <summary>The number of threads the library uses now.</summary>
    public static int CurrentThreads => fixedThreads ?? (UserSetOmp ? get_num_threads() : adaptive);

    /// <summary>
    /// The threads the library's own parallel kernels may use now: <see cref="CurrentThreads"/>, with the load sampled
    /// first when the policy adapts (at most every half second, as before a batch). A single-sample
    /// <c>Predict</c> runs libtorch on one thread and never samples the load itself, so without this a process
    /// answering only single samples would keep the thread count of its start.
    /// </summary>
    internal static int KernelThreads() => fixedThreads ?? (UserSetOmp ? get_num_threads() : Adapt());

    /// <summary>One line for reports: the mode, the thread count and what it was based on.</summary>
    public static string Describe()
    {
        var cores = Environment.ProcessorCount;
        if (fixedThreads is int n)
        {
            return $"fixed at {n} of {cores} cores (ThreadPolicy.FixedThreads)";
        }

        if (UserSetOmp)
        {
            return $"left to OMP_NUM_THREADS={Environment.GetEnvironmentVariable("OMP_NUM_THREADS")} ({get_num_threads()} torch threads, {cores} cores)";
        }

        return CanAdapt()
            ? string.Create(CultureInfo.InvariantCulture, $"adaptive: {adaptive} of {cores} cores (other processes used {lastOtherCores:0.00} cores at the last sample)")
            : $"all {cores} cores (/proc/stat does not describe this process' cores, so the load is not measured)";
    }

    /// <summary>
    /// Remembers the calling thread's libtorch thread count and restores it when disposed, so that a library call
    /// (which sets the count per batch) leaves the caller's own torch code as it found it.
    /// </summary>
    internal static Restorer Begin() => new(get_num_threads());

    /// <summary>Restores a thread count; see <see cref="Begin"/>.</summary>
    internal readonly struct Restorer(int threads) : IDisposable
    {
        public void Dispose()
        {
            if (get_num_threads() != threads)
            {
                set_num_threads(threads);
            }
        }
    }

    /// <summary>Sets the calling thread's libtorch thread count by the policy; called before each batch.</summary>
    /// <param name="samples">The batch's sample count: one sample runs on one thread.</param>
    internal static void Apply(long samples)
    {
        if (fixedThreads is null && UserSetOmp)
        {
            return;
        }

        var wanted = fixedThreads ?? (samples <= 1 ? 1 : Adapt());
        if (get_num_threads() != wanted)
        {
            set_num_threads(wanted);
        }
    }

    private static int Adapt()
    {
        var now = Stopwatch.GetTimestamp();
        if (lastTicks is not null && Stopwatch.GetElapsedTime(Volatile.Read(ref lastSample), now).TotalSeconds < SampleSeconds)
        {
            return adaptive;
        }

        lock (Gate)
        {
            var elapsed = Stopwatch.GetElapsedTime(lastSample, now).TotalSeconds;
            if ((lastTicks is not null && elapsed < SampleSeconds) || !CanAdapt() || ReadTicks() is not { } ticks)
            {
                return adaptive;
            }

            if (lastTicks is { } previous && elapsed > 0)
            {
                // What the machine's cores spent on work that is not ours, in cores.
                lastOtherCores = Math.Max(0, (ticks.Busy - previous.Busy - (ticks.Self - previous.Self)) / (ClockTicksPerSecond * elapsed));
                adaptive = ThreadsFor(lastOtherCores, Environment.ProcessorCount);
            }

            lastTicks = ticks;
            Volatile.Write(ref lastSample, now);
            return adaptive;
        }
    }

    /// <summary>The cores other processes leave free, at least one; a core half used by others counts as taken.</summary>
    internal static int ThreadsFor(double otherCores, int cores) => Math.Clamp((int)Math.Ceiling(cores - otherCores - 0.5), 1, cores);

    private static bool CanAdapt() => canAdapt ??= OperatingSystem.IsLinux() && File.Exists("/proc/stat")
        && File.ReadLines("/proc/stat").Count(l => l.StartsWith("cpu", StringComparison.Ordinal) && l.Length > 3 && char.IsDigit(l[3])) == Environment.ProcessorCount;

    /// <summary>Busy ticks of all cores (user, nice, system, irq, softirq, steal) and this process' user + system ticks.</summary>
    private static (long Busy, long Self)? ReadTicks()
    {
        try
        {
            var cpu = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            long Field(int i) => i < cpu.Length ? long.Parse(cpu[i], CultureInfo.InvariantCulture) : 0;
            var busy = Field(1) + Field(2) + Field(3) + Field(6) + Field(7) + Field(8);
            // /proc/self/stat: fields after the parenthesised command name; utime and stime are fields 14 and 15.
            var stat = File.ReadAllText("/proc/self/stat");
            var rest = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var self = long.Parse(rest[11], CultureInfo.InvariantCulture) + long.Parse(rest[12], CultureInfo.InvariantCulture);
            return (busy, self);
        }
        catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException or IndexOutOfRangeException or InvalidOperationException)
        {
            canAdapt = false;
            return null;
        }
    }
}
