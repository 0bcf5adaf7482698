namespace KerasStyle.Tests.Consumers;

/// <summary>
/// A console project outside the repository that references the library by ProjectReference (issue 12, item 11):
/// NuGet imports the library's build targets, and so the Debian 12 native fix, only for package references, so such
/// a project imports them itself, as README.md shows. It built and then failed on its first tensor without that line.
/// This test builds such a project with the documented line and runs it. Its program is README.md's example (the
/// block after <c>&lt;!-- readme-example --&gt;</c>), so the README's code is compiled and run too (issue 13).
/// </summary>
[NonParallelizable]
public class ProjectReferenceConsumerTests
{
    [Test]
    public void ConsoleProject_WithTheDocumentedImport_BuildsAndRunsTheReadmeExample()
    {
        var directory = Directory.CreateTempSubdirectory("ks-consumer-").FullName;
        try
        {
            var program = ConsumerProjects.BuildConsole(directory, ConsumerProjects.MarkedBlock("README.md", "<!-- readme-example -->"));
            var run = ConsumerProjects.Dotnet(directory, program);
            Assert.That(run.ExitCode, Is.EqualTo(0), run.Output);
            Assert.That(run.Output, Does.Contain("Total params: 22,791"), "model.Summary(); as a statement prints the table");
            Assert.That(run.Output, Does.Match(@"196 predictions, first -?\d\.\d{3} \(target"));
            Assert.That(File.Exists(Path.Combine(directory, "regression.keras")), Is.True);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
