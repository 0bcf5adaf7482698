using System.Diagnostics;
using System.Reflection;

namespace KerasStyle.Tests;

/// <summary>The output of one run of a child process.</summary>
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

/// <summary>Programs the tests start as child processes (the examples, the distributed worker, mpirun), with a hard timeout.</summary>
internal static class ChildProcess
{
    /// <summary>The dotnet host running the tests.</summary>
    public static string DotnetHost
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

    /// <summary>A dll the test project builds first (a project reference): <paramref name="projectFolder"/>/bin/&lt;Configuration&gt;/&lt;TFM&gt;/<paramref name="dllName"/>.</summary>
    public static string BuiltDll(string projectFolder, string dllName)
    {
        var metadata = typeof(ChildProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().ToDictionary(a => a.Key, a => a.Value);
        var path = Path.Combine(TestPaths.RepositoryRoot, projectFolder, "bin", metadata["Configuration"]!, metadata["TargetFramework"]!, dllName);
        Assert.That(File.Exists(path), Is.True, $"'{path}' is missing: the test project references {projectFolder} so that it is built first.");
        return path;
    }

    /// <summary>
    /// Runs <paramref name="program"/> with standard input closed; kills it with its children and fails the test when it
    /// runs past <paramref name="timeout"/>. <paramref name="environment"/> edits the child's environment.
    /// </summary>
    public static ProgramRun Run(string program, IEnumerable<string> arguments, TimeSpan timeout, string? workingDirectory = null, Action<IDictionary<string, string?>>? environment = null)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (workingDirectory is not null)
        {
            start.WorkingDirectory = workingDirectory;
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        environment?.Invoke(start.Environment);
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            Assert.Fail($"'{program} {string.Join(' ', start.ArgumentList)}' did not finish within {timeout.TotalSeconds} s and was killed.\n{stdout.Result}\n{stderr.Result}");
        }

        process.WaitForExit();
        return new ProgramRun(process.ExitCode, stdout.Result, stderr.Result);
    }
}
