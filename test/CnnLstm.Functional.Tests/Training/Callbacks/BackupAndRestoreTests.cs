using System.Security.Cryptography;
using System.Text.Json.Nodes;
using KerasStyle.Models;
using KerasStyle.Training.Callbacks;
using KerasStyle.Training.Optimizers;

namespace KerasStyle.Tests.Training.Callbacks;

/// <summary>
/// BackupAndRestore within one process: a Fit ended by an exception stands in for a crash here; the child-process
/// kill is in <see cref="BackupAndRestoreProcessTests"/>.
/// </summary>
public class BackupAndRestoreTests
{
    private const int Seed = 91;
    private string directory = string.Empty;
    private string backupDir = string.Empty;
    private readonly List<string> warnings = new();

    [SetUp]
    public void CreateDirectory()
    {
        Backend.ClearSession();
        directory = Path.Combine(Path.GetTempPath(), "kerasstyle-backup-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        backupDir = Path.Combine(directory, "backup");
        warnings.Clear();
        KerasStyle.Warnings.Raised += OnWarning;
    }

    [TearDown]
    public void DeleteDirectory()
    {
        KerasStyle.Warnings.Raised -= OnWarning;
        Directory.Delete(directory, recursive: true);
    }

    [Test]
    public void EachEpochEnd_BacksUpTheWeightsOptimizerStateAndFinishedEpochs()
    {
        using var model = NewModel();
        Fit(model, 2, new BackupAndRestore(backupDir, deleteCheckpoint: false));

        Assert.That(Directory.GetFiles(backupDir).Select(Path.GetFileName), Is.EquivalentTo(new[] { "latest.weights.h5", "training_metadata.json" }));
        var metadata = JsonNode.Parse(File.ReadAllText(Path.Combine(backupDir, "training_metadata.json")))!;
        Assert.That(metadata["epoch"]!.GetValue<int>(), Is.EqualTo(2), "the number of finished epochs, where Fit resumes");
        Assert.That(metadata["batch"]!.GetValue<int>(), Is.EqualTo(0));
        Assert.That(metadata["weights_sha256"]!.GetValue<string>(), Is.EqualTo(Sha256(Path.Combine(backupDir, "latest.weights.h5"))));

        // The file holds the weights and Adam's state: a model loaded from it trains on exactly as the original does.
        using var loaded = NewModel(seed: Seed + 1);
        loaded.LoadWeights(Path.Combine(backupDir, "latest.weights.h5"));
        Assert.That(TinyModels.Flat(loaded), Is.EqualTo(TinyModels.Flat(model)));
        Assert.That(loaded.Optimizer!.Iterations, Is.EqualTo(6));
        Fit(model, 1);
        Fit(loaded, 1);
        Assert.That(TinyModels.Flat(loaded), Is.EqualTo(TinyModels.Flat(model)));
    }

    [Test]
    public void AFitEndedByAnException_ResumesAfterTheLastFinishedEpoch_AsIfNeverInterrupted()
    {
        // The reference: five epochs without interruption.
        using var reference = NewModel();
        var referenceEpochWeights = new List<float[]>();
        Fit(reference, 5, new LambdaCallback(onEpochEnd: (_, _) => referenceEpochWeights.Add(TinyModels.Flat(reference))));

        // The same model and data, interrupted in the middle of epoch 3 (after two of its batches changed the weights).
        using var interrupted = NewModel();
        var backup = new BackupAndRestore(backupDir);
        var crash = new LambdaCallback(onBatchEnd: (batch, _) =>
        {
            if (interrupted.Optimizer!.Iterations == (3 * 3) + 2)
            {
                throw new IOException("simulated crash");
            }
        });
        Assert.Throws<IOException>(() => Fit(interrupted, 5, backup, crash));
        Assert.That(backup.RestoredEpoch, Is.Null);
        Assert.That(File.Exists(Path.Combine(backupDir, "latest.weights.h5")), Is.True, "a Fit ended by an exception keeps its backup");

        // A new process would build a new model: other initial weights, a fresh optimizer.
        using var resumed = NewModel(seed: Seed + 1);
        var starts = new List<(int Epoch, float[] Weights, long Iterations)>();
        var history = Fit(resumed, 5, backup, new LambdaCallback(onEpochBegin: (epoch, _) => starts.Add((epoch, TinyModels.Flat(resumed), resumed.Optimizer!.Iterations))));

        Assert.That(backup.RestoredEpoch, Is.EqualTo(3));
        Assert.That(history.Epoch, Is.EqualTo(new[] { 3, 4 }));
        Assert.That(starts[0].Epoch, Is.EqualTo(3));
        Assert.That(starts[0].Weights, Is.EqualTo(referenceEpochWeights[2]), "the weights at the end of epoch 2");
        Assert.That(starts[0].Iterations, Is.EqualTo(9), "Adam's step count at the end of epoch 2");
        Assert.That(TinyModels.Flat(resumed), Is.EqualTo(TinyModels.Flat(reference)), "Adam's moments came back too: the result is bit for bit the uninterrupted one");
        Assert.That(Directory.Exists(backupDir), Is.False, "the completed Fit deleted the backup");
    }

    [Test]
    public void SaveFreqInBatches_SavesEveryNBatchesAcrossEpochs_AndAMidEpochBackupRestartsThatEpoch()
    {
        using var model = NewModel();
        var saves = new List<string>();
        var backup = new BackupAndRestore(backupDir, saveFreq: 2, deleteCheckpoint: false);
        var watcher = new LambdaCallback(onBatchEnd: (_, _) =>
        {
            var text = File.Exists(MetadataPath) ? File.ReadAllText(MetadataPath) : null;
            if (text is not null && (saves.Count == 0 || saves[^1] != text))
            {
                var json = JsonNode.Parse(text)!;
                saves.Add(text);
                TestContext.Out.WriteLine(text);
                Assert.That(json["weights_sha256"]!.GetValue<string>(), Is.EqualTo(Sha256(Path.Combine(backupDir, "latest.weights.h5"))));
            }
        });
        Fit(model, 2, backup, watcher);
        Assert.That(saves.Select(s => { var j = JsonNode.Parse(s)!; return (j["epoch"]!.GetValue<int>(), j["batch"]!.GetValue<int>()); }),
            Is.EqualTo(new[] { (0, 1), (1, 0), (1, 2) }), "Keras' count: 2 batches, then 2 more across the epoch boundary, then 2 more");

        using var resumed = NewModel(seed: Seed + 1);
        var history = Fit(resumed, 2, backup);
        Assert.That(history.Epoch, Is.EqualTo(new[] { 1 }), "as in Keras, a mid-epoch backup resumes at the start of its epoch");
    }

    [Test]
    public void ACompletedFit_DeletesOnlyTheCallbacksFiles_AndTheFolderWhenThatEmptiesIt()
    {
        Directory.CreateDirectory(backupDir);
        File.WriteAllText(Path.Combine(backupDir, "notes.txt"), "mine");
        using var model = NewModel();
        Fit(model, 2, new BackupAndRestore(backupDir, doubleCheckpoint: true));
        Assert.That(Directory.GetFiles(backupDir).Select(Path.GetFileName), Is.EqualTo(new[] { "notes.txt" }));

        var other = Path.Combine(directory, "other");
        Fit(model, 1, new BackupAndRestore(other));
        Assert.That(Directory.Exists(other), Is.False);

        Fit(model, 1, new BackupAndRestore(other, deleteCheckpoint: false));
        Assert.That(Directory.GetFiles(other), Has.Length.EqualTo(2));
    }

    [Test]
    public void AKillBetweenTheWeightsAndTheMetadata_ResumesFromThePreviousBackup()
    {
        using var model = NewModel();
        Fit(model, 2, new BackupAndRestore(backupDir, deleteCheckpoint: false));
        var epoch2 = TinyModels.Flat(model);

        // What a kill after the new weights file but before the new metadata leaves: the previous weights moved to
        // .bkp, newer weights in latest.weights.h5, the metadata still that of epoch 2.
        var latest = Path.Combine(backupDir, "latest.weights.h5");
        File.Move(latest, latest + ".bkp");
        Fit(model, 1);
        model.SaveWeights(latest);
        Assert.That(TinyModels.Flat(model), Is.Not.EqualTo(epoch2));

        using var resumed = NewModel(seed: Seed + 1);
        float[]? start = null;
        var history = Fit(resumed, 3, new BackupAndRestore(backupDir), new LambdaCallback(onEpochBegin: (_, _) => start ??= TinyModels.Flat(resumed)));
        Assert.That(history.Epoch, Is.EqualTo(new[] { 2 }));
        Assert.That(start, Is.EqualTo(epoch2), "the weights the metadata names by SHA-256, not the newer file");
    }

    [Test]
    public void ADamagedBackup_ThrowsNamingWhatIsWrong_BeforeAnyWeightChanges()
    {
        using var model = NewModel();
        Fit(model, 1, new BackupAndRestore(backupDir, deleteCheckpoint: false));
        using var fresh = NewModel(seed: Seed + 1);
        var before = TinyModels.Flat(fresh);

        File.WriteAllText(MetadataPath, """{"epoch": 1, "batch": 0, "weights_sha256": "00"}""");
        var error = Assert.Throws<InvalidDataException>(() => Fit(fresh, 3, new BackupAndRestore(backupDir)));
        Assert.That(error!.Message, Does.Contain("SHA-256 00").And.Contain(MetadataPath).And.Contain("damaged"));

        File.WriteAllText(MetadataPath, "{\"epoch\": ");
        error = Assert.Throws<InvalidDataException>(() => Fit(fresh, 3, new BackupAndRestore(backupDir)));
        Assert.That(error!.Message, Does.Contain("is not valid JSON"));

        File.WriteAllText(MetadataPath, """{"epoch": "two"}""");
        error = Assert.Throws<InvalidDataException>(() => Fit(fresh, 3, new BackupAndRestore(backupDir)));
        Assert.That(error!.Message, Does.Contain("has a \"epoch\" entry that is not a whole number: \"two\""));

        File.WriteAllText(MetadataPath, "[1]");
        error = Assert.Throws<InvalidDataException>(() => Fit(fresh, 3, new BackupAndRestore(backupDir)));
        Assert.That(error!.Message, Does.Contain("has no \"epoch\" entry"));

        Assert.That(TinyModels.Flat(fresh), Is.EqualTo(before));
        Assert.That(fresh.Optimizer!.Iterations, Is.Zero);
    }

    [Test]
    public void DoubleCheckpoint_KeepsThePreviousBackup_AndRestoresItWhenTheLatestIsDamaged()
    {
        using var model = NewModel();
        var epochWeights = new List<float[]>();
        Fit(model, 3, new BackupAndRestore(backupDir, doubleCheckpoint: true, deleteCheckpoint: false), new LambdaCallback(onEpochEnd: (_, _) => epochWeights.Add(TinyModels.Flat(model))));
        Assert.That(Directory.GetFiles(backupDir).Select(Path.GetFileName), Is.EquivalentTo(new[] { "latest.weights.h5", "latest.weights.h5.bkp", "training_metadata.json", "training_metadata.json.bkp" }));
        Assert.That(JsonNode.Parse(File.ReadAllText(MetadataPath + ".bkp"))!["epoch"]!.GetValue<int>(), Is.EqualTo(2));

        var latest = Path.Combine(backupDir, "latest.weights.h5");
        File.WriteAllBytes(latest, File.ReadAllBytes(latest)[..100]);
        using var resumed = NewModel(seed: Seed + 1);
        float[]? start = null;
        var history = Fit(resumed, 4, new BackupAndRestore(backupDir, doubleCheckpoint: true), new LambdaCallback(onEpochBegin: (_, _) => start ??= TinyModels.Flat(resumed)));

        Assert.That(history.Epoch, Is.EqualTo(new[] { 2, 3 }));
        Assert.That(start, Is.EqualTo(epochWeights[1]));
        Assert.That(warnings, Has.Count.EqualTo(1).And.Some.Contains("restoring the previous one"));
    }

    [Test]
    public void KerasMetadataWithoutAHash_IsRestoredAsKerasRestoresIt()
    {
        using var model = NewModel();
        Fit(model, 1);
        Directory.CreateDirectory(backupDir);
        model.SaveWeights(Path.Combine(backupDir, "latest.weights.h5"));
        File.WriteAllText(MetadataPath, """{"epoch": 1, "batch": 0}""");

        using var resumed = NewModel(seed: Seed + 1);
        float[]? start = null;
        var history = Fit(resumed, 2, new BackupAndRestore(backupDir), new LambdaCallback(onEpochBegin: (_, _) => start ??= TinyModels.Flat(resumed)));
        Assert.That(history.Epoch, Is.EqualTo(new[] { 1 }));
        Assert.That(start, Is.EqualTo(TinyModels.Flat(model)));
    }

    [Test]
    public void Ctor_RefusesBadArguments()
    {
        Assert.That(() => new BackupAndRestore(""), Throws.ArgumentException);
        Assert.That(() => new BackupAndRestore(backupDir, saveFreq: "batch"), Throws.ArgumentException.With.Message.Contains("\"epoch\" or a number of batches"));
        Assert.That(() => new BackupAndRestore(backupDir, saveFreq: 0), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("saveFreq"));
        var defaults = new BackupAndRestore(backupDir);
        Assert.That((defaults.SaveFreq, defaults.DoubleCheckpoint, defaults.DeleteCheckpoint), Is.EqualTo(((int?)null, false, true)), "Keras' defaults");
    }

    private string MetadataPath => Path.Combine(backupDir, "training_metadata.json");

    /// <summary>Input(2) -> Dense(4, tanh) -> Dense(1, sigmoid) with Adam (so there is optimizer state to restore).</summary>
    private static Model NewModel(int seed = Seed)
    {
        Utils.SetRandomSeed(seed);
        var model = TinyModels.Mlp();
        model.Compile(new Adam(learningRate: 0.05), "binary_crossentropy", new[] { "accuracy" });
        return model;
    }

    /// <summary>Three batches of 4 per epoch, in a fixed order (each model has its own shuffle generator).</summary>
    private static KerasStyle.Training.History Fit(Model model, int epochs, params ICallback[] callbacks)
    {
        var (x, y) = TinyModels.Blobs(12);
        return model.Fit(x, y, batchSize: 4, epochs: epochs, verbose: 0, shuffle: false, callbacks: callbacks);
    }

    private static string Sha256(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    private void OnWarning(object? sender, string message) => warnings.Add(message);
}
