using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace KerasStyle.Engine;

/// <summary>
/// How long libtorch's idle OpenMP threads spin. libtorch on Linux runs its parallel operations on GNU OpenMP
/// (libgomp), whose threads busy-wait <c>GOMP_SPINCOUNT</c> iterations (300,000 by default, several milliseconds)
/// after every parallel region before they sleep. The library's own kernels (the LSTM kernels, fused Adam, dropout)
/// run right after libtorch operations and split their work across the same cores, so on a two-core machine their
/// second thread found its core taken by a spinning OpenMP thread and the work ran on one core. When the library is
/// first used, before TorchSharp loads libtorch, it therefore sets <c>GOMP_SPINCOUNT=10000</c> in the process'
/// native environment, which libgomp reads once when it loads (docs/performance.md, "libtorch's spinning threads").
/// It does nothing when the user chose: <c>GOMP_SPINCOUNT</c> or <c>OMP_WAIT_POLICY</c> already set to a non-empty
/// value (so <c>GOMP_SPINCOUNT=300000</c> restores libgomp's default). An empty one counts as unset, as
/// <see cref="ThreadPolicy"/> treats an empty <c>OMP_NUM_THREADS</c> and as libgomp does (it reports an empty value as
/// invalid and keeps its default); an empty <c>GOMP_SPINCOUNT</c> is overwritten. It cannot act when libgomp was
/// loaded before the library was first used (a program that called TorchSharp first); <see cref="Outcome"/> says
/// which case applied. The variable is set with the C library's <c>setenv</c>, so native code and child processes
/// started from native code see it; .NET's <see cref="Environment.GetEnvironmentVariable(string)"/> and
/// <c>Process.Start</c> keep the environment .NET read at start-up, where it is not set.
/// </summary>
internal static class OpenMpSpin
{
    /// <summary>The spin count the library sets: about 0.2 ms of spinning instead of several milliseconds.</summary>
    internal const string LibrarySpinCount = "10000";

    /// <summary>What was found and done, for <see cref="SystemReport"/> and <c>bench</c>.</summary>
    internal static string Outcome { get; private set; } = "not applicable (not Linux)";

    [ModuleInitializer]
    [SuppressMessage("Usage", "CA2255", Justification = "libgomp reads GOMP_SPINCOUNT once, when TorchSharp loads libtorch; this must run before, whichever type of the library is used first.")]
    internal static void Apply()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        try
        {
            var spinCount = NativeVariable("GOMP_SPINCOUNT");
            var (set, outcome) = Decide(spinCount, NativeVariable("OMP_WAIT_POLICY"), LibGompLoaded());
            // Overwrite only an empty value (Decide leaves a non-empty one alone).
            if (set && setenv("GOMP_SPINCOUNT", LibrarySpinCount, spinCount is null ? 0 : 1) != 0)
            {
                outcome = $"left at libgomp's default (setenv failed with errno {Marshal.GetLastPInvokeError()})";
            }

            Outcome = outcome;
        }
        catch (Exception e)
        {
            // A module initializer that throws makes every type of the library unusable; this setting is only speed.
            Outcome = $"left at libgomp's default ({e.GetType().Name}: {e.Message})";
        }
    }

    /// <summary>
    /// Whether the library sets <c>GOMP_SPINCOUNT</c>, and the line <see cref="Outcome"/> reports, from the native
    /// environment's <paramref name="spinCount"/> and <paramref name="waitPolicy"/> (null when unset; empty counts as
    /// unset) and whether libgomp is already in the process.
    /// </summary>
    internal static (bool Set, string Outcome) Decide(string? spinCount, string? waitPolicy, bool libGompLoaded)
    {
        if (!string.IsNullOrEmpty(spinCount))
        {
            return (false, $"left to the user's GOMP_SPINCOUNT={spinCount}");
        }

        if (!string.IsNullOrEmpty(waitPolicy))
        {
            return (false, $"left to the user's OMP_WAIT_POLICY={waitPolicy}");
        }

        if (libGompLoaded)
        {
            return (false, "left at libgomp's default (libgomp was loaded before the library was first used; set GOMP_SPINCOUNT before the program starts to choose)");
        }

        return (true, $"GOMP_SPINCOUNT={LibrarySpinCount}, set by the library (libgomp's default 300000; set GOMP_SPINCOUNT or OMP_WAIT_POLICY to choose)");
    }

    /// <summary>The C library's view of a variable (.NET's copy does not see <c>setenv</c>).</summary>
    internal static string? NativeVariable(string name)
    {
        var value = getenv(name);
        return value == IntPtr.Zero ? null : Marshal.PtrToStringUTF8(value);
    }

    private static bool LibGompLoaded()
    {
        const string maps = "/proc/self/maps";
        return File.Exists(maps) && File.ReadLines(maps).Any(line => line.Contains("/libgomp", StringComparison.Ordinal));
    }

    [DllImport("libc", EntryPoint = "getenv", CharSet = CharSet.Ansi)]
    private static extern IntPtr getenv(string name);

    [DllImport("libc", EntryPoint = "setenv", CharSet = CharSet.Ansi, SetLastError = true)]
    private static extern int setenv(string name, string value, int overwrite);
}
