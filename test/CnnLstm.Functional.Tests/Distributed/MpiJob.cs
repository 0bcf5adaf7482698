using System.Text.Json;

namespace KerasStyle.Tests.Distributed;

/// <summary>The result of one run of the distributed worker (test/CnnLstm.Distributed.Worker), read from its JSON file.</summary>
internal sealed record WorkerResult(double[] Weights, Dictionary<string, double[]> History, Dictionary<string, string> Params, Dictionary<string, double> Evaluate, long Iterations, Dictionary<string, double> Exchange)
{
    public static WorkerResult Read(string path)
    {
        Assert.That(File.Exists(path), Is.True, $"The worker wrote no '{path}'.");
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        var root = document.RootElement;
        return new WorkerResult(
            root.GetProperty("weights").EnumerateArray().Select(e => e.GetDouble()).ToArray(),
            root.GetProperty("history").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.EnumerateArray().Select(e => e.GetDouble()).ToArray()),
            root.GetProperty("params").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!),
            root.GetProperty("evaluate").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetDouble()),
            root.GetProperty("iterations").GetInt64(),
            root.TryGetProperty("exchange", out var exchange) ? exchange.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetDouble()) : new Dictionary<string, double>());
    }
}

/// <summary>Starts the distributed worker alone or under <c>mpirun</c>, as a child process with a hard timeout (killed with its children when it runs over).</summary>
internal static class MpiJob
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    /// <summary>The worker dll built beside the tests: test/CnnLstm.Distributed.Worker/bin/&lt;Configuration&gt;/&lt;TFM&gt;/.</summary>
    public static string WorkerDll => ChildProcess.BuiltDll(Path.Combine("test", "CnnLstm.Distributed.Worker"), "CnnLstm.Distributed.Worker.dll");

    /// <summary>The mpirun on PATH; the test is ignored when there is none (CI installs openmpi-bin).</summary>
    public static string MpirunOrIgnore()
    {
        var found = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, "mpirun")).FirstOrDefault(File.Exists);
        if (found is null)
        {
            Assert.Ignore("mpirun is not installed (apt-get install -y openmpi-bin); .ci/run installs it.");
        }

        return found!;
    }

    /// <summary>Runs the worker under <c>mpirun -np 2</c> with the transport options <paramref name="transport"/>.</summary>
    public static (int ExitCode, string Output) RunDistributed(string[] transport, params string[] workerArguments)
    {
        var mpirun = MpirunOrIgnore();
        var arguments = new List<string> { "--allow-run-as-root", "--oversubscribe", "-np", "2" };
        arguments.AddRange(transport);
        arguments.Add(ChildProcess.DotnetHost);
        arguments.Add(WorkerDll);
        arguments.AddRange(workerArguments);
        return Run(mpirun, arguments);
    }

    /// <summary>Runs <c>dotnet <paramref name="dll"/></c> under <c>mpirun -np <paramref name="ranks"/></c> with the
    /// transport options <paramref name="transport"/> (any program, e.g. the examples' <c>sentiment --distributed</c>).</summary>
    public static (int ExitCode, string Output) RunProgram(int ranks, string[] transport, string dll, params string[] programArguments)
    {
        var mpirun = MpirunOrIgnore();
        var arguments = new List<string> { "--allow-run-as-root", "--oversubscribe", "-np", ranks.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        arguments.AddRange(transport);
        arguments.Add(ChildProcess.DotnetHost);
        arguments.Add(dll);
        arguments.AddRange(programArguments);
        return Run(mpirun, arguments);
    }

    /// <summary>Runs the worker alone (no MPI launcher).</summary>
    public static (int ExitCode, string Output) RunAlone(params string[] workerArguments) =>
        Run(ChildProcess.DotnetHost, new[] { WorkerDll }.Concat(workerArguments).ToList());

    private static (int ExitCode, string Output) Run(string program, IReadOnlyList<string> arguments)
    {
        // A test host itself started by a launcher must not pass its rank on; mpirun sets them for its children.
        var run = ChildProcess.Run(program, arguments, Timeout, environment: environment =>
        {
            foreach (var variable in new[] { "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK", "PMI_SIZE", "PMI_RANK", "PMIX_RANK" })
            {
                environment.Remove(variable);
            }
        });
        return (run.ExitCode, $"{run.Stdout}\n--- stderr ---\n{run.Stderr}");
    }
}
