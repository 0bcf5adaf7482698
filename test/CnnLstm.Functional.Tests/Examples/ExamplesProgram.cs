using System.Diagnostics;
using System.Reflection;

namespace KerasStyle.Tests.Examples;

/// <summary>The output of one run of the examples program.</summary>
/// <param name="ExitCode">The process exit code.</param>
/// <param name="Stdout">Everything written to standard output.</param>
/// <param name="Stderr">Everything written to standard error.</param>
internal sealed record ProgramRun(int ExitCode, string Stdout, string Stderr)
{
    /// <summary>Standard output split into lines, without line ends.</summary>
    public string[] StdoutLines => Stdout.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).ToArray();

    /// <summary>Both streams, for assertion messages.</summary>
    public override string ToString() => $"exit code {ExitCode}\n--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}";
}

/// <summary>Runs the built CnnLstm.Examples program (same configuration as the tests) as a child process.</summary>
internal static class ExamplesProgram
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);

    /// <summary>The examples dll built beside the tests: src/CnnLstm.Examples/bin/&lt;Configuration&gt;/&lt;TFM&gt;/.</summary>
    public static string Dll
    {
        get
        {
            var metadata = typeof(ExamplesProgram).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().ToDictionary(a => a.Key, a => a.Value);
            var path = Path.Combine(TestPaths.RepositoryRoot, "src", "CnnLstm.Examples", "bin", metadata["Configuration"]!, metadata["TargetFramework"]!, "CnnLstm.Examples.dll");
            Assert.That(File.Exists(path), Is.True, $"'{path}' is missing: the test project references src/CnnLstm.Examples so that it is built first.");
            return path;
        }
    }

    /// <summary>Runs <c>dotnet dll args</c> in <paramref name="workingDirectory"/> with KERASSTYLE_DATA set to
    /// <paramref name="dataEnvironment"/> (removed when null), standard input closed.</summary>
    public static ProgramRun Run(string dll, string workingDirectory, string? dataEnvironment, params string[] args)
    {
        var start = new ProcessStartInfo(DotnetHost)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment.Remove("KERASSTYLE_DATA");
        if (dataEnvironment is not null)
        {
            start.Environment["KERASSTYLE_DATA"] = dataEnvironment;
        }

        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            Assert.Fail($"'dotnet {string.Join(' ', start.ArgumentList)}' did not finish within {Timeout}.\n{stdout.Result}\n{stderr.Result}");
        }

        return new ProgramRun(process.ExitCode, stdout.Result, stderr.Result);
    }

    private static string DotnetHost
    {
        get
        {
            var fromSdk = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
            if (!string.IsNullOrEmpty(fromSdk) && File.Exists(fromSdk))
            {
                return fromSdk;
            }

            var current = Environment.ProcessPath;
            return current is not null && Path.GetFileNameWithoutExtension(current) == "dotnet" ? current : "dotnet";
        }
    }
}
