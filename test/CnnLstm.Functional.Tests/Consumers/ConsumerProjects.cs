using System.Diagnostics;

namespace KerasStyle.Tests.Consumers;

/// <summary>
/// What the consumer tests share: the code blocks that the docs mark for them, and <c>dotnet</c> commands run in the
/// temporary projects they build from those blocks.
/// </summary>
internal static class ConsumerProjects
{
    /// <summary>
    /// The fenced block that follows <paramref name="marker"/> (an HTML comment such as <c>&lt;!-- readme-example --&gt;</c>)
    /// in a file of the repository.
    /// </summary>
    /// <param name="relativePath">The file, relative to the repository root, e.g. <c>README.md</c>.</param>
    /// <param name="marker">The comment right before the block.</param>
    /// <param name="language">The fence's language, e.g. <c>csharp</c> or <c>xml</c>.</param>
    public static string MarkedBlock(string relativePath, string marker, string language = "csharp")
    {
        var text = File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, relativePath)).ReplaceLineEndings("\n");
        var at = text.IndexOf(marker, StringComparison.Ordinal);
        Assert.That(at, Is.GreaterThanOrEqualTo(0), $"{relativePath} lost its {marker} marker");
        var fence = $"```{language}\n";
        var start = text.IndexOf(fence, at, StringComparison.Ordinal);
        Assert.That(start, Is.GreaterThanOrEqualTo(0), $"{relativePath} has no ```{language} block after {marker}");
        start += fence.Length;
        return text[start..text.IndexOf("```", start, StringComparison.Ordinal)];
    }

    /// <summary>
    /// Writes a console project in <paramref name="directory"/> that references the library as README.md shows (a
    /// ProjectReference plus the import of its build targets, or the reference alone), with <paramref name="program"/>
    /// as its Program.cs, and builds it in Release.
    /// </summary>
    /// <param name="directory">An empty folder outside the repository.</param>
    /// <param name="program">The Program.cs source.</param>
    /// <param name="importTargets">Whether the project imports the library's build targets next to the reference.</param>
    /// <returns>The built program's path, to run with <c>dotnet</c>.</returns>
    public static string BuildConsole(string directory, string program, bool importTargets = true)
    {
        var library = Path.Combine(TestPaths.RepositoryRoot, "src", "CnnLstm.Functional");
        File.WriteAllText(Path.Combine(directory, "Consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
              </PropertyGroup>
              <ItemGroup>
                <ProjectReference Include="{library}/CnnLstm.Functional.csproj" />
              </ItemGroup>
              {(importTargets ? $"<Import Project=\"{library}/buildTransitive/CnnLstm.Functional.targets\" />" : string.Empty)}
            </Project>
            """);
        File.WriteAllText(Path.Combine(directory, "Program.cs"), program);
        var build = Dotnet(directory, "build", "-c", "Release", "-p:TreatWarningsAsErrors=false");
        Assert.That(build.ExitCode, Is.EqualTo(0), build.Output);
        return Path.Combine(directory, "bin", "Release", "net10.0", "Consumer.dll");
    }

    /// <summary>Runs <c>dotnet</c> with <paramref name="args"/> in <paramref name="directory"/>, for at most five minutes.</summary>
    /// <returns>The exit code (-1 when it timed out and was killed) and standard output followed by standard error.</returns>
    public static (int ExitCode, string Output) Dotnet(string directory, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            return (-1, "timed out");
        }

        return (process.ExitCode, output.Result + error.Result);
    }
}
