using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace KerasStyle.Engine;

/// <summary>
/// How long libtorch's idle OpenMP threads spin before they sleep. libtorch (Linux) runs its intra-op pool on GNU
/// OpenMP, whose idle threads by default busy-wait about 300,000 iterations after each parallel operation (5-10 ms
/// on the project's machines) so that the next operation starts without a wake-up. The library's own parallel
/// kernels (the fused Adam step, dropout masks, the LSTM inference kernel) start right after libtorch operations, and
/// on a 2-core machine a spinning OpenMP thread holds the core their second thread needs: each such kernel then ran
/// at about one core's speed or worse (docs/performance.md, "libtorch's spinning threads"). So, unless the user has
/// chosen (<c>OMP_WAIT_POLICY</c> or <c>GOMP_SPINCOUNT</c> set), the library sets <c>GOMP_SPINCOUNT</c> to
/// <see cref="SpinCount"/> before libtorch is loaded: long enough to bridge the microseconds between consecutive
/// libtorch operations, short enough not to steal the library's kernels' core.
/// </summary>
/// <remarks>
/// GNU OpenMP reads the variable once, when libtorch's shared library is loaded. The library sets it from its module
/// initializer, which runs when any of its types is first used; an application that calls TorchSharp before it uses
/// any library type has loaded libtorch already, and keeps OpenMP's default (<see cref="Outcome"/> says which).
/// </remarks>
internal static class OpenMpSpin
{
    /// <summary>The spin count the library sets: GNU OpenMP's own setting for a busy machine is 1,000 iterations.</summary>
    internal const int SpinCount = 10000;

    /// <summary>What was found and done, for <see cref="SystemReport"/>.</summary>
    internal static string Outcome { get; private set; } = "not applicable (not Linux)";

    [ModuleInitializer]
    [SuppressMessage("Usage", "CA2255", Justification = "It must run before TorchSharp loads libtorch (and with it GNU OpenMP), whichever type of the library is used first.")]
    internal static void Apply()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var policy = Environment.GetEnvironmentVariable("OMP_WAIT_POLICY");
        var spin = Environment.GetEnvironmentVariable("GOMP_SPINCOUNT");
        if (!string.IsNullOrEmpty(policy) || !string.IsNullOrEmpty(spin))
        {
            Outcome = $"left to the user (OMP_WAIT_POLICY={policy ?? "(unset)"}, GOMP_SPINCOUNT={spin ?? "(unset)"})";
            return;
        }

        if (IsLoaded("libgomp"))
        {
            Outcome = "GNU OpenMP's default (libtorch was loaded before the library's first use)";
            return;
        }

        var value = SpinCount.ToString(CultureInfo.InvariantCulture);
        try
        {
            // .NET keeps its own copy of the environment on Unix; OpenMP reads the C library's.
            Outcome = SetEnv("GOMP_SPINCOUNT", value, 1) == 0
                ? $"GOMP_SPINCOUNT={value} (set by the library before libtorch was loaded)"
                : "GNU OpenMP's default (setenv failed)";
            Environment.SetEnvironmentVariable("GOMP_SPINCOUNT", value);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            Outcome = $"GNU OpenMP's default (setenv unavailable: {e.Message})";
        }
    }

    private static bool IsLoaded(string library)
    {
        try
        {
            return File.ReadLines("/proc/self/maps").Any(l => l.Contains(library, StringComparison.Ordinal));
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    [DllImport("libc", EntryPoint = "setenv", CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    private static extern int SetEnv(string name, string value, int overwrite);
}
