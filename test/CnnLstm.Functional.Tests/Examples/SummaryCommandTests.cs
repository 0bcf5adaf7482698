using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;

namespace KerasStyle.Tests.Examples;

/// <summary>
/// <c>examples summary --model FILE</c> (issue 22): what loading a file gives, before writing code: the Keras summary,
/// the Keras version that wrote it, the format read, which Keras it computes as, the compile config restored and
/// every warning; a file that cannot load prints the library's error and exits with 2.
/// </summary>
public class SummaryCommandTests
{
    private DirectoryInfo scratch = null!;

    private static string RealModels => Path.GetFullPath(Path.Combine(TestPaths.RepositoryRoot, "..", "shared", "real-models"));

    [OneTimeSetUp]
    public void CreateScratch() => scratch = Directory.CreateTempSubdirectory("kerasstyle-summary-");

    [OneTimeTearDown]
    public void DeleteScratch() => scratch.Delete(recursive: true);

    [SetUp]
    public void Fresh() => Backend.ClearSession();

    [Test]
    public void Summary_CompiledKerasFile_PrintsFormatVersionCompileConfigNoWarningsAndTheKerasSummary()
    {
        var path = Path.Combine(scratch.FullName, "compiled.keras");
        using (var model = SmallModel())
        {
            model.Compile("adam", "mse", new[] { "mae" });
            model.Save(path);
        }

        var run = Summary(path);

        Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
        Assert.That(run.StdoutLines, Does.Contain("Format: .keras zip archive (config.json, model.weights.h5)"), run.ToString());
        Assert.That(run.StdoutLines, Does.Contain("Keras version: 3.16.0"), run.ToString());
        Assert.That(run.StdoutLines, Does.Contain("Computes as: Keras 3.16"), run.ToString());
        Assert.That(run.StdoutLines, Has.One.Match(@"^Compiled: yes, from its training config: optimizer Adam\(learning_rate=0\.001, .*\), loss \S+, metrics \[\S+\]$"), run.ToString());
        Assert.That(run.StdoutLines, Does.Contain("Warnings: none"), run.ToString());
        using var loaded = Model.Load(path);
        Assert.That(run.Stdout.Replace("\r\n", "\n", StringComparison.Ordinal), Does.EndWith(loaded.SummaryText().Replace("\r\n", "\n", StringComparison.Ordinal)), run.ToString());
    }

    [Test]
    public void Summary_TfKeras2FileNamedKeras_SaysHdf5Keras2AndListsTheLibrarysWarning()
    {
        var h5 = Path.Combine(scratch.FullName, "tfkeras2.h5");
        var renamed = Path.Combine(scratch.FullName, "tfkeras2-renamed.keras");
        using (var model = SmallModel())
        {
            model.Save(h5, H5Format.TfKeras2);
        }

        File.Copy(h5, renamed, overwrite: true);

        var run = Summary(renamed);

        Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
        Assert.That(run.StdoutLines, Has.One.StartsWith("Format: HDF5 full-model file"), run.ToString());
        Assert.That(run.StdoutLines, Does.Contain("Keras version: 2.11.0"), run.ToString());
        Assert.That(run.StdoutLines, Has.One.StartsWith("Computes as: Keras 2 "), run.ToString());
        Assert.That(run.StdoutLines, Does.Contain("Compiled: no: the file records no training config"), run.ToString());
        Assert.That(run.StdoutLines, Does.Contain("Warnings (1):"), run.ToString());
        Assert.That(run.StdoutLines, Has.One.Match(@"^  - .*is named \.keras but is an HDF5 file"), run.ToString());
    }

    [Test]
    public void Summary_Keras3JsonConfig_SaysVersionUnknown()
    {
        var path = Path.Combine(scratch.FullName, "model.json");
        using (var model = SmallModel())
        {
            File.WriteAllText(path, model.ToJson());
        }

        var run = Summary(path);

        Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
        Assert.That(run.StdoutLines, Has.One.StartsWith("Format: JSON model config"), run.ToString());
        Assert.That(run.StdoutLines, Does.Contain("Keras version: unknown (the file records none)"), run.ToString());
        Assert.That(run.StdoutLines, Does.Contain("Computes as: Keras 3.16"), run.ToString());
        Assert.That(run.StdoutLines, Has.Some.Contains("(Dense)"), run.ToString());
    }

    [Test]
    public void Summary_FileThatCannotLoad_PrintsTheLibrarysErrorAndExitsWithTwo()
    {
        var path = Path.Combine(scratch.FullName, "truncated.keras");
        File.WriteAllBytes(path, "PK\x03\x04 not a whole archive"u8.ToArray());

        var run = Summary(path);

        Assert.That(run.ExitCode, Is.EqualTo(2), run.ToString());
        Assert.That(run.Stdout, Is.Empty, run.ToString());
        Assert.That(run.Stderr, Does.Contain(path).And.Contain("not a readable .keras archive"), run.ToString());
    }

    [Test]
    public void Summary_MissingFile_ExitsWithTwoNamingIt()
    {
        var path = Path.Combine(scratch.FullName, "absent.keras");

        var run = Summary(path);

        Assert.That(run.ExitCode, Is.EqualTo(2), run.ToString());
        Assert.That(run.Stderr, Does.Contain(path).And.Contain("does not exist"), run.ToString());
    }

    /// <summary>Keras 2.2.2's file (set2): computed as Keras 2, compiled from its training config without the author's 'f1' metric.</summary>
    [Test]
    public void Summary_RealKeras2File_PrintsItsVersionCompileConfigAndWarnings()
    {
        if (!Directory.Exists(RealModels))
        {
            Assert.Ignore($"{RealModels} is absent.");
        }

        var run = Summary(Path.Combine(RealModels, "set2", "galalen__arabic-sentiment-analysis__lstm_model.h5"));

        Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
        Assert.That(run.StdoutLines, Does.Contain("Keras version: 2.2.2"), run.ToString());
        Assert.That(run.StdoutLines, Has.One.StartsWith("Computes as: Keras 2 "), run.ToString());
        Assert.That(run.StdoutLines, Has.One.StartsWith("Compiled: yes, from its training config: optimizer RMSprop("), run.ToString());
        Assert.That(run.StdoutLines, Has.One.Match(@"^  - .*compiled without .*'f1'"), run.ToString());
        Assert.That(run.StdoutLines, Has.Some.Contains("(LSTM)"), run.ToString());
    }

    private ProgramRun Summary(string path) => ExamplesProgram.Run(ExamplesProgram.Dll, scratch.FullName, null, "summary", "--model", path);

    private static Model SmallModel()
    {
        var input = new Input(shape: 3);
        return new Model(input, new Dense(2, activation: "relu").Call(new Dense(4).Call(input)));
    }
}
