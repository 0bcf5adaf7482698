namespace KerasStyle.Examples;

/// <summary>
/// Finds the shared data folder: --data, else KERASSTYLE_DATA, else ../shared/data beside the repository. A folder
/// the user named must exist.
/// </summary>
internal static class DataDirectory
{
    public const string EnvironmentVariable = "KERASSTYLE_DATA";

    private const string BesideRepository = "beside the repository";

    /// <summary>Returns the first candidate folder that exists, or throws naming every path tried.</summary>
    /// <param name="option">The --data value, if given.</param>
    /// <param name="expected">The files the command needs, relative to the folder, for the message.</param>
    public static string Resolve(string? option, params string[] expected)
    {
        var candidates = new List<(string Source, string Path)>();
        if (!string.IsNullOrWhiteSpace(option))
        {
            candidates.Add(("--data", option));
        }

        var fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            candidates.Add((EnvironmentVariable, fromEnvironment));
        }

        foreach (var root in RepositoryRoots())
        {
            candidates.Add((BesideRepository, Path.GetFullPath(Path.Combine(root, "..", "shared", "data"))));
        }

        // A folder the user named (--data first, then the environment variable) is the one: a typo must fail, not
        // train on other data found further down the list.
        if (candidates.FirstOrDefault(c => c.Source != BesideRepository) is { Path: not null } named)
        {
            candidates = new List<(string Source, string Path)> { named };
            if (!Directory.Exists(named.Path))
            {
                throw new DataNotFoundException($"Data folder '{named.Path}' (from {named.Source}) does not exist.");
            }
        }

        foreach (var (source, path) in candidates)
        {
            if (!Directory.Exists(path))
            {
                continue;
            }

            var missing = expected.Where(f => !File.Exists(Path.Combine(path, f))).ToArray();
            if (missing.Length > 0)
            {
                throw new DataNotFoundException($"Data folder '{path}' lacks {string.Join(", ", missing)}.");
            }

            return path;
        }

        var tried = candidates.Count == 0 ? "(none)" : string.Join("\n", candidates.Select(c => $"  {c.Path}  (from {c.Source})"));
        throw new DataNotFoundException(
            $"No data folder found. Tried:\n{tried}\nGive one with --data DIR or {EnvironmentVariable}; it must contain {string.Join(", ", expected)}.");
    }

    private static IEnumerable<string> RepositoryRoots()
    {
        var seen = new HashSet<string>();
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "KerasStyle.sln")) && seen.Add(dir.FullName))
                {
                    yield return dir.FullName;
                    break;
                }
            }
        }
    }
}

/// <summary>The data folder or a file in it is missing.</summary>
internal sealed class DataNotFoundException(string message) : Exception(message)
{
    /// <summary>Runs a command body; a missing data folder is reported on stderr with exit code 2, no stack trace.</summary>
    public static int Report(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (DataNotFoundException e)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }
    }
}
