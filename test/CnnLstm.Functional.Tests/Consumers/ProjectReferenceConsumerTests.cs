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

    /// <summary>
    /// Issue 20: a console project with a plain ProjectReference (no targets import), what a new user writes first,
    /// stopped at its first tensor on Debian 12 ("doesn't contain a reference to libtorch-cpu-linux-x64"). The library
    /// fixes the program's copy of TorchSharp's native library when it is first used, so the program runs.
    /// </summary>
    [Test]
    public void ConsoleProject_WithAPlainProjectReference_RunsTensorOperations()
    {
        var directory = Directory.CreateTempSubdirectory("ks-consumer-plain-").FullName;
        try
        {
            var program = ConsumerProjects.BuildConsole(directory, """
                using KerasStyle.Engine;
                using KerasStyle.Layers;
                using KerasStyle.Models;

                var input = new Input(3);
                using var model = new Model(input, new Dense(2).Call(input));
                var y = (float[,])model.Predict(new float[,] { { 1, 2, 3 } });
                using var ones = TorchSharp.torch.ones(2, 3);
                using var sum = ones.sum();
                Console.WriteLine($"predicted {y.GetLength(0)}x{y.GetLength(1)}, sum {sum.item<float>()}");
                Console.WriteLine(SystemReport.Describe().Split('\n').First(l => l.StartsWith("native fix: ", StringComparison.Ordinal)));
                """, importTargets: false);
            var run = ConsumerProjects.Dotnet(directory, program);
            Assert.That(run.ExitCode, Is.EqualTo(0), run.Output);
            Assert.That(run.Output, Does.Contain("predicted 1x2, sum 6"));
            TestContext.Out.WriteLine(run.Output);

            // The second run finds its copy fixed already.
            var again = ConsumerProjects.Dotnet(directory, program);
            Assert.That(again.ExitCode, Is.EqualTo(0), again.Output);
            Assert.That(again.Output, Does.Contain("predicted 1x2, sum 6").And.Not.Contain(", now, in "));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
