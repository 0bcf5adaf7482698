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
}
