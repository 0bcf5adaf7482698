using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using static TorchSharp.torch;

namespace KerasStyle.Engine;

/// <summary>
/// What a bug report needs about the machine and the engine: OS, CPU model and instruction sets, .NET, TorchSharp
/// and libtorch versions, the thread policy, the Debian native fix, OpenMP's spin setting, and every kernel check. The examples'
/// <c>doctor</c> command prints <see cref="Describe"/>.
/// </summary>
public static class SystemReport
{
    private static readonly string[] IsaFlags =
    {
        "sse4_2", "avx", "avx2", "fma", "f16c", "avx_vnni", "avx512f", "avx512dq", "avx512bw", "avx512vl", "avx512_vnni",
        "avx512_bf16", "avx512_fp16", "avx512_vp2intersect", "amx_tile", "amx_bf16", "amx_int8",
    };

    private static readonly Lazy<(string Model, IReadOnlyList<string> Flags)> Cpu = new(ReadCpu);

    /// <summary>The CPU's model name (from <c>/proc/cpuinfo</c> on Linux), or the architecture elsewhere.</summary>
    public static string CpuModel => Cpu.Value.Model;

    /// <summary>The vector instruction sets of the CPU that decide which libtorch and oneDNN kernels run.</summary>
    public static IReadOnlyList<string> CpuIsaFlags => Cpu.Value.Flags;

    /// <summary>
    /// How long libtorch's idle OpenMP threads spin in this process, and whether the library chose it: the library
    /// sets <c>GOMP_SPINCOUNT=10000</c> when it is first used, unless the user set <c>GOMP_SPINCOUNT</c> or
    /// <c>OMP_WAIT_POLICY</c>, or libtorch was loaded first (docs/performance.md, "libtorch's spinning threads").
    /// </summary>
    public static string OpenMpSpinSetting => OpenMpSpin.Outcome;

    /// <summary>
    /// The full report, one fact per line. Runs <see cref="KernelChecks.RunAll"/> first (tens of milliseconds), so
    /// every kernel check appears with its measured difference.
    /// </summary>
    public static string Describe()
    {
        // libtorch's own start-up (a few hundred milliseconds) would otherwise be timed as the first check.
        using (var warmUp = ones(1))
        {
        }

        var checks = KernelChecks.RunAll();
        var report = new StringBuilder();
        report.AppendLine($"os: {RuntimeInformation.OSDescription} ({RuntimeInformation.OSArchitecture})");
        report.AppendLine($"cpu: {CpuModel}, {Environment.ProcessorCount} logical cores");
        report.AppendLine($"cpu isa: {(CpuIsaFlags.Count == 0 ? "unknown" : string.Join(' ', CpuIsaFlags))}");
        report.AppendLine($".net: {RuntimeInformation.FrameworkDescription}");
        report.AppendLine($"kerasstyle: {Version(typeof(SystemReport).Assembly)}");
        report.AppendLine($"torchsharp: {Version(typeof(TorchSharp.torch).Assembly)}");
        report.AppendLine($"libtorch: {__version__}");
        report.AppendLine($"threads: {ThreadPolicy.Describe()}; torch threads on this thread {get_num_threads()}, inter-op {get_num_interop_threads()}; OMP_NUM_THREADS={Environment.GetEnvironmentVariable("OMP_NUM_THREADS") ?? "(unset)"}");
        report.AppendLine($"native fix: {NativeLibraryFix.Outcome}");
        report.AppendLine($"openmp spin: {OpenMpSpinSetting}");
        report.AppendLine($"kernel checks: {checks.Count(c => c.Passed)} of {checks.Count} passed");
        foreach (var check in checks)
        {
            report.AppendLine($"  {check}");
        }

        return report.ToString();
    }

    private static string Version(Assembly assembly) =>
        assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? assembly.GetName().Version?.ToString() ?? "unknown";

    private static (string Model, IReadOnlyList<string> Flags) ReadCpu()
    {
        try
        {
            if (File.Exists("/proc/cpuinfo"))
            {
                var lines = File.ReadLines("/proc/cpuinfo").TakeWhile(l => l.Length > 0).ToArray();
                string? Value(string key) => lines.FirstOrDefault(l => l.StartsWith(key, StringComparison.Ordinal))?.Split(':', 2)[1].Trim();
                var flags = (Value("flags") ?? string.Empty).Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
                var model = $"{Value("model name") ?? RuntimeInformation.ProcessArchitecture.ToString()} ({Value("vendor_id")} family {Value("cpu family")} model {Value("model")})";
                return (model, IsaFlags.Where(flags.Contains).ToArray());
            }
        }
        catch (IOException)
        {
        }

        return (RuntimeInformation.ProcessArchitecture.ToString(), Array.Empty<string>());
    }
}
