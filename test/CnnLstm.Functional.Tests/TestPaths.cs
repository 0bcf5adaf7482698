namespace KerasStyle.Tests;

/// <summary>Locates the repository and the shared folder beside it.</summary>
internal static class TestPaths
{
    public static string RepositoryRoot
    {
        get
        {
            var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "KerasStyle.sln")))
            {
                dir = dir.Parent;
            }

            return dir?.FullName ?? throw new DirectoryNotFoundException("KerasStyle.sln not found above the test directory.");
        }
    }

    public static string SharedNotes => Path.Combine(RepositoryRoot, "..", "shared", "notes");

    /// <summary>The read-only data folder beside the repository (../shared/data); never copied into the repository.</summary>
    public static string SharedData => Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared", "data"));

    /// <summary>A file of the shared data folder; fails the test with a clear message when it is missing.</summary>
    /// <param name="relative">The path inside the data folder, e.g. <c>imdb/imdb_word_index.json</c>.</param>
    public static string DataFile(string relative)
    {
        var path = Path.Combine(SharedData, relative);
        Assert.That(File.Exists(path), Is.True, $"Shared data file '{path}' is missing; see ../shared/data/README.md.");
        return path;
    }
}
