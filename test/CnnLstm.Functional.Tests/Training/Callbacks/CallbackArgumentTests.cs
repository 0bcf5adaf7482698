using KerasStyle.Training.Callbacks;

namespace KerasStyle.Tests.Training.Callbacks;

/// <summary>
/// Every callback checks its arguments, path patterns and folders when it is made (and its folders again when
/// training starts), so nothing fails after an epoch of training with a raw .NET exception.
/// </summary>
public class CallbackArgumentTests
{
    private string folder = string.Empty;

    [SetUp]
    public void MakeFolder()
    {
        Backend.ClearSession();
        folder = Path.Combine(Path.GetTempPath(), $"ks-callback-args-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
    }

    [TearDown]
    public void RemoveFolder() => Directory.Delete(folder, recursive: true);

    [TestCase("w.{loss:.99999999999e}.weights.h5", "the number must be 0 to 100")]
    [TestCase("w.{loss:.101f}.weights.h5", "the number must be 0 to 100")]
    [TestCase("w.{loss:.2q}.weights.h5", "'.2q'")]
    [TestCase("w.{loss:.2}.weights.h5", "'.2'")]
    [TestCase("w.{loss:02d}.weights.h5", "'d' cannot format")]
    [TestCase("w.{loss.weights.h5", "without its '}'")]
    [TestCase("w}.weights.h5", "single '}'")]
    [TestCase("w.{0}.weights.h5", "'{0}'")]
    [TestCase("w.{loss!r}.weights.h5", "'{loss!r}'")]
    [TestCase("w.{}.weights.h5", "'{}'")]
    public void ModelCheckpoint_WithAPatternItCannotFill_IsRefusedWhenMade(string pattern, string mentions)
    {
        var error = Assert.Throws<ArgumentException>(() => _ = new ModelCheckpoint(Path.Combine(folder, pattern), saveWeightsOnly: true));

        Assert.That(error!.ParamName, Is.EqualTo("filepath"));
        Assert.That(error.Message, Does.StartWith("ModelCheckpoint: the path").And.Contain(mentions));
    }

    [Test]
    public void ModelCheckpoint_FormatPath_FillsPlaceholdersAsPythonsStrFormat()
    {
        var logs = new Dictionary<string, double> { ["loss"] = 1e-05, ["val_loss"] = 12345.678, ["acc"] = double.NaN };

        Assert.That(ModelCheckpoint.FormatPath("{{epoch}}-{epoch}", 2, logs), Is.EqualTo("{epoch}-3"));
        Assert.That(ModelCheckpoint.FormatPath("{loss}", 0, logs), Is.EqualTo("1e-05"), "str(1e-05)");
        Assert.That(ModelCheckpoint.FormatPath("{val_loss:.2e}", 0, logs), Is.EqualTo("1.23e+04"));
        Assert.That(ModelCheckpoint.FormatPath("{val_loss:.0e}", 0, logs), Is.EqualTo("1e+04"));
        Assert.That(ModelCheckpoint.FormatPath("{epoch:5d}|{epoch:03d}|{epoch:.1f}", 6, logs), Is.EqualTo("    7|007|7.0"));
        Assert.That(ModelCheckpoint.FormatPath("{acc:.3f}", 0, logs), Is.EqualTo("nan"));
    }

    [Test]
    public void ModelCheckpoint_IntoAFolderOrAFile_IsRefused_AndMissingFoldersAreMadeAsKerasMakesThem()
    {
        var existing = Path.Combine(folder, "taken.keras");
        Directory.CreateDirectory(existing);
        File.WriteAllText(Path.Combine(folder, "file"), "x");

        Assert.That(Assert.Throws<ArgumentException>(() => _ = new ModelCheckpoint(existing))!.Message, Does.Contain("is an existing folder"));
        Assert.That(Assert.Throws<ArgumentException>(() => _ = new ModelCheckpoint(Path.Combine(folder, "file", "m.keras")))!.Message, Does.Contain("is a file"));

        using var model = CallbackTesting.CompiledMlp();
        var checkpoint = new ModelCheckpoint(Path.Combine(folder, "new", "{epoch}", "w.weights.h5"), saveWeightsOnly: true);
        CallbackTesting.Fit(model, 2, checkpoint);
        Assert.That(checkpoint.Saved.Select(File.Exists), Is.EqualTo(new[] { true, true }));

        Directory.CreateDirectory(Path.Combine(folder, "e1.keras"));
        var intoAFolder = new ModelCheckpoint(Path.Combine(folder, "e{epoch}.keras"));
        Assert.That(Assert.Throws<IOException>(() => CallbackTesting.Fit(model, 1, intoAFolder))!.Message, Does.Contain("non-directory"));
    }

    [Test]
    public void MonitorCallbacks_WithAnEmptyMonitor_NegativeVerbose_OrNaNBounds_AreRefused()
    {
        Assert.Throws<ArgumentException>(() => _ = new EarlyStopping(monitor: " "));
        Assert.Throws<ArgumentException>(() => _ = new ReduceLROnPlateau(monitor: ""));
        Assert.Throws<ArgumentException>(() => _ = new ModelCheckpoint(Path.Combine(folder, "m.keras"), monitor: ""));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new EarlyStopping(verbose: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new ReduceLROnPlateau(verbose: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new ModelCheckpoint(Path.Combine(folder, "m.keras"), verbose: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new ReduceLROnPlateau(minDelta: double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new ReduceLROnPlateau(minLr: double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new ReduceLROnPlateau(minLr: double.PositiveInfinity));
    }

    [Test]
    public void CSVLoggerAndTensorBoard_IntoAFolderOrAFile_AreRefusedWhenMade()
    {
        var file = Path.Combine(folder, "file");
        File.WriteAllText(file, "x");
        Directory.CreateDirectory(Path.Combine(folder, "run", "train"));
        File.WriteAllText(Path.Combine(folder, "other-run-validation"), "x");

        Assert.That(Assert.Throws<ArgumentException>(() => _ = new CSVLogger(folder))!.Message, Does.Contain("is an existing folder"));
        Assert.That(Assert.Throws<ArgumentException>(() => _ = new CSVLogger(Path.Combine(file, "log.csv")))!.Message, Does.Contain("is a file"));
        Assert.That(Assert.Throws<ArgumentException>(() => _ = new TensorBoard(file))!.Message, Does.Contain("is an existing file"));
        Assert.That(Assert.Throws<ArgumentException>(() => _ = new TensorBoard(Path.Combine(file, "logs")))!.Message, Does.Contain("is a file"));
        File.WriteAllText(Path.Combine(folder, "run", "validation"), "x");
        Assert.That(Assert.Throws<ArgumentException>(() => _ = new TensorBoard(Path.Combine(folder, "run")))!.Message, Does.Contain("validation"));
    }

    [Test]
    public void CSVLogger_InAFitEndedByAnException_KeepsTheFinishedRows_AndNoOpenHandle()
    {
        var path = Path.Combine(folder, "log.csv");
        using var model = CallbackTesting.CompiledMlp();
        var fail = new LambdaCallback(onEpochBegin: (epoch, _) =>
        {
            if (epoch == 2)
            {
                throw new InvalidOperationException("stop here");
            }
        });

        Assert.Throws<InvalidOperationException>(() => CallbackTesting.Fit(model, 4, new CSVLogger(path), fail));

        Assert.That(File.ReadAllLines(path), Has.Length.EqualTo(3), "the header and epochs 0 and 1");
        if (Directory.Exists("/proc/self/fd"))
        {
            var open = Directory.GetFiles("/proc/self/fd").Select(fd => new FileInfo(fd)).Where(fd => fd.LinkTarget == path);
            Assert.That(open, Is.Empty, "no handle left open on the log");
        }
    }

    [Test]
    public void BackupAndRestore_WithAFolderItCannotUse_IsRefusedWhenMade()
    {
        var file = Path.Combine(folder, "file");
        File.WriteAllText(file, "x");
        var damaged = Path.Combine(folder, "backup");
        Directory.CreateDirectory(Path.Combine(damaged, BackupAndRestore.MetadataFileName));

        Assert.That(Assert.Throws<ArgumentException>(() => _ = new BackupAndRestore(file))!.Message, Does.Contain("is an existing file"));
        Assert.That(Assert.Throws<ArgumentException>(() => _ = new BackupAndRestore(Path.Combine(file, "backup")))!.Message, Does.Contain("is a file"));
        var error = Assert.Throws<ArgumentException>(() => _ = new BackupAndRestore(damaged, saveFreq: 2));
        Assert.That(error!.ParamName, Is.EqualTo("backupDir"));
        Assert.That(error.Message, Does.Contain(BackupAndRestore.MetadataFileName).And.Contain("is a folder"));
    }

    [Test]
    public void BackupAndRestore_WhoseMetadataBecameAFolder_RefusesToTrainInsteadOfStartingOver()
    {
        var backup = Path.Combine(folder, "backup");
        var callback = new BackupAndRestore(backup);
        Directory.CreateDirectory(Path.Combine(backup, BackupAndRestore.MetadataFileName));
        using var model = CallbackTesting.CompiledMlp();
        var before = TinyModels.Flat(model);

        var error = Assert.Throws<IOException>(() => CallbackTesting.Fit(model, 2, callback));

        Assert.That(error!.Message, Does.Contain(BackupAndRestore.MetadataFileName).And.Contain("is a folder"));
        Assert.That(TinyModels.Flat(model), Is.EqualTo(before), "refused before any epoch trained");
        Assert.That(model.Optimizer!.Iterations, Is.Zero);
    }
}
