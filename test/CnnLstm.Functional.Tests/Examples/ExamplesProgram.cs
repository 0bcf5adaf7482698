namespace KerasStyle.Tests.Examples;

/// <summary>Runs the built CnnLstm.Examples program (same configuration as the tests) as a child process.</summary>
internal static class ExamplesProgram
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);

    /// <summary>The examples dll built beside the tests: src/CnnLstm.Examples/bin/&lt;Configuration&gt;/&lt;TFM&gt;/.</summary>
    public static string Dll => ChildProcess.BuiltDll(Path.Combine("src", "CnnLstm.Examples"), "CnnLstm.Examples.dll");

    /// <summary>Runs <c>dotnet dll args</c> in <paramref name="workingDirectory"/> with KERASSTYLE_DATA set to
    /// <paramref name="dataEnvironment"/> (removed when null), standard input closed.</summary>
    public static ProgramRun Run(string dll, string workingDirectory, string? dataEnvironment, params string[] args) =>
        ChildProcess.Run(ChildProcess.DotnetHost, new[] { dll }.Concat(args), Timeout, workingDirectory, environment =>
        {
            environment.Remove("KERASSTYLE_DATA");
            if (dataEnvironment is not null)
            {
                environment["KERASSTYLE_DATA"] = dataEnvironment;
            }
        });
}
