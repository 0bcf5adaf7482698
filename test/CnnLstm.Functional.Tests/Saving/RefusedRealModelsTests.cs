using KerasStyle.Models;
using KerasStyle.Saving;

namespace KerasStyle.Tests.Saving;

/// <summary>
/// ../shared/real-models/set2/REFUSE.txt: published files that cannot load without their author's Python code (custom
/// layers) or a layer this library does not have yet. Each fails <c>Model.Load</c> with one clear error naming the file
/// and the cause (one of the line's needles); a <c>loadorerror</c> file may also load.
/// </summary>
public class RefusedRealModelsTests
{
    private static string Set2 => Path.GetFullPath(Path.Combine(TestPaths.RepositoryRoot, "..", "shared", "real-models", "set2"));

    [Test]
    public void Load_Set1FileWithTheCustomAttentionLayer_IsRefusedNamingTheFileAndTheClass()
    {
        var path = Path.GetFullPath(Path.Combine(Set2, "..", "set1", "G1213123__CIVL7018__lstm_model_with_attention.h5"));
        if (!File.Exists(path))
        {
            Assert.Ignore($"{path} is absent.");
        }

        var error = Assert.Throws<KerasFileException>(() => Model.Load(path).Dispose());
        Assert.That(error!.Message, Does.Contain(path).And.Contain("Unknown layer class 'AttentionLayer'").And.Contain("LayerRegistry.Register<TLayer>()"));
    }

    [Test]
    public void Load_EveryFileOfRefuseTxt_FailsWithOneErrorNamingTheFileAndTheCause()
    {
        if (!Directory.Exists(Set2))
        {
            Assert.Ignore($"{Set2} is absent.");
        }

        var lines = File.ReadAllLines(Path.Combine(Set2, "REFUSE.txt"))
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l.Split('\t'))
            .ToList();
        Assert.That(lines, Has.Count.GreaterThanOrEqualTo(6), "REFUSE.txt's files");
        Assert.That(lines.Select(l => l.Length), Has.All.EqualTo(3), "REFUSE.txt: file, kind, needles");
        Assert.Multiple(() =>
        {
            foreach (var (file, kind, needles) in lines.Select(l => (l[0], l[1], l[2])))
            {
                Assert.That(kind, Is.EqualTo("error").Or.EqualTo("loadorerror"), file);
                var path = Path.Combine(Set2, file);
                Exception? error = null;
                try
                {
                    using var model = Model.Load(path);
                }
                catch (Exception e)
                {
                    error = e;
                }

                TestContext.Out.WriteLine($"{file}: {error?.GetType().Name ?? "loaded"}: {error?.Message}");
                if (error is null)
                {
                    Assert.That(kind, Is.EqualTo("loadorerror"), $"{file} loaded, but REFUSE.txt says it cannot");
                    continue;
                }

                Assert.That(error, Is.TypeOf<KerasFileException>(), $"{file}: {error}");
                Assert.That(error.Message, Does.Contain(path), $"{file}: the error names the file");
                var named = needles.Split('|').Where(n => error.Message.Contains(n, StringComparison.Ordinal)).ToList();
                Assert.That(named, Is.Not.Empty, $"{file}: the error names one of {needles}: {error.Message}");
            }
        });
    }
}
