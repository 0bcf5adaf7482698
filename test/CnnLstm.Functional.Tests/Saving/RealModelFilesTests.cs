using KerasStyle.Models;

namespace KerasStyle.Tests.Saving;

/// <summary>
/// Issue 22's acceptance run: every published model file of ../shared/real-models loads and predicts within 1e-4 of
/// real Keras, or is refused with the library's file error naming the file and the cause (set2/REFUSE.txt, or a layer
/// a later issue brings). Prints <c>real-models: N loaded and predicted, M refused clearly, K failed</c>.
/// </summary>
public class RealModelFilesTests : SavingTestBase
{
    [Test]
    public void EveryRealModelFile_PredictsAsKeras_OrIsRefusedClearly()
    {
        var root = Path.GetFullPath(Path.Combine(TestPaths.RepositoryRoot, "..", "shared", "real-models"));
        if (!Directory.Exists(root))
        {
            Assert.Ignore($"{root} is absent (it sits beside the repository on project machines and in CI).");
        }

        var results = RealModelFiles.TryAll(root).ToList();
        foreach (var r in results.Where(r => r.Outcome != RealModelFiles.Outcome.Predicted))
        {
            TestContext.Progress.WriteLine($"{r.Outcome,-9} {r.Name}: {r.Detail}");
        }

        var line = RealModelFiles.SummaryLine(results);
        TestContext.Progress.WriteLine(line);
        Console.WriteLine(line);
        Assert.That(results, Has.Count.GreaterThanOrEqualTo(51), "the two sets hold 51 files with predictions or refusals and more");
        Assert.That(results.Where(r => r.Outcome == RealModelFiles.Outcome.Failed).Select(r => $"{r.Name}: {r.Detail}"), Is.Empty, line);
    }

    [Test]
    public void Judge_CountsAnErrorWithoutTheExpectedCause_AsFailed()
    {
        // A file with a prediction that fails for a reason other than a layer of a later issue must not count as refused.
        var folder = PathOf("set");
        Directory.CreateDirectory(folder);
        using (var model = TinyModels.Mlp())
        {
            model.Save(Path.Combine(folder, "m.h5"));
        }

        File.WriteAllText(Path.Combine(folder, "m.h5.y.npy"), "not an npy file");
        File.WriteAllText(Path.Combine(folder, "placeholder.h5"), "# placeholder\n");
        File.WriteAllText(Path.Combine(folder, "listed.h5"), "# placeholder\n");
        File.WriteAllText(Path.Combine(folder, "REFUSE.txt"), "# file\tkind\tneedles\nlisted.h5\terror\tSomeCustomLayer\n");
        var results = RealModelFiles.TryAll(folder).ToDictionary(r => r.Name);
        Assert.That(results["m.h5"].Outcome, Is.EqualTo(RealModelFiles.Outcome.Failed), results["m.h5"].Detail);
        Assert.That(results["placeholder.h5"].Outcome, Is.EqualTo(RealModelFiles.Outcome.Refused), results["placeholder.h5"].Detail);
        Assert.That(results["listed.h5"].Outcome, Is.EqualTo(RealModelFiles.Outcome.Failed), results["listed.h5"].Detail);
        Assert.That(RealModelFiles.SummaryLine(results.Values), Is.EqualTo("real-models: 0 loaded and predicted, 1 refused clearly, 2 failed"));
    }
}
