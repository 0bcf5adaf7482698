using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using KerasStyle.Saving;

namespace KerasStyle.Training.Callbacks;

/// <summary>
/// Backs up the training state so that an interrupted <c>Fit</c> can resume, as Keras 3's
/// <c>keras.callbacks.BackupAndRestore</c> (<c>keras/src/callbacks/backup_and_restore.py</c>). At the end of every
/// epoch (or every <c>saveFreq</c> batches) it writes, in <c>backupDir</c>:
/// <list type="bullet">
/// <item><c>latest.weights.h5</c>: the weights and the optimizer state (step count, learning rate, slots) in the
/// Keras 3 layout of <see cref="Models.Model.SaveWeights"/>;</item>
/// <item><c>training_metadata.json</c>: <c>{"epoch": E, "batch": B, "weights_sha256": "..."}</c>, where E is the
/// epoch to resume at (the number of finished epochs) and B the last batch seen (Keras' two keys), plus the SHA-256
/// of the weights file it belongs to.</item>
/// </list>
/// When <c>Fit</c> starts and a backup exists, the weights and optimizer state are loaded and <c>Fit</c> goes on at
/// epoch E (the later of E and <c>initialEpoch</c>). When <c>Fit</c> returns normally (also when a callback stopped
/// it), the backup is deleted unless <c>deleteCheckpoint</c> is false; a <c>Fit</c> ended by an exception or a killed
/// process leaves it for the next run. The model and the <c>Compile</c> and <c>Fit</c> arguments of the next run must
/// be the ones the backup was made with.
/// <para>
/// Differences from Keras, for safety: each save is crash-consistent. Both files are written atomically, the metadata
/// last, and the previous weights file stays as <c>latest.weights.h5.bkp</c> until the new metadata is in place; the
/// restore loads the weights file whose SHA-256 the metadata names, so a process killed between the two writes resumes
/// from the previous backup instead of pairing new weights with an old epoch. Weights without metadata are not a
/// backup and are ignored (Keras would load them and start at <c>initialEpoch</c>). At the end, only the callback's
/// own files are deleted, and <c>backupDir</c> only if that leaves it empty (Keras deletes the whole folder).
/// </para>
/// </summary>
/// <example>
/// <code>
/// // Run the same program again after a crash or a kill: it continues after the last finished epoch.
/// model.Fit(x, y, epochs: 50, callbacks: new[] { new BackupAndRestore("backup") });
/// </code>
/// </example>
public sealed class BackupAndRestore : Callback
{
    /// <summary>The weights file's name in the backup folder (as Keras).</summary>
    public const string WeightsFileName = "latest.weights.h5";

    /// <summary>The metadata file's name in the backup folder (as Keras).</summary>
    public const string MetadataFileName = "training_metadata.json";

    private const string Previous = ".bkp";
    private int currentEpoch;
    private int lastBatchSeen;
    private int batchesSinceSave;

    /// <summary>Creates the callback that saves at the end of every epoch.</summary>
    /// <param name="backupDir">The folder for the backup; created when first needed. Use it for nothing else (no
    /// other run's backup, no <see cref="ModelCheckpoint"/> files).</param>
    /// <param name="saveFreq"><c>"epoch"</c>, the Keras default (the other constructor takes a number of batches).</param>
    /// <param name="doubleCheckpoint">Keep the previous backup too (<c>*.bkp</c>), and restore it when the latest one
    /// cannot be read (Keras' default false).</param>
    /// <param name="deleteCheckpoint">Delete the backup when <c>Fit</c> completes (Keras' default true).</param>
    /// <exception cref="ArgumentException"><paramref name="backupDir"/> is empty, a file or inside one, or holds a
    /// folder where the backup keeps a file; or <paramref name="saveFreq"/> is not <c>epoch</c>.</exception>
    public BackupAndRestore(string backupDir, string saveFreq = "epoch", bool doubleCheckpoint = false, bool deleteCheckpoint = true)
        : this(backupDir, saveFreq == "epoch" ? (int?)null
            : throw new ArgumentException($"BackupAndRestore: saveFreq must be \"epoch\" or a number of batches, got \"{saveFreq}\".", nameof(saveFreq)),
            doubleCheckpoint, deleteCheckpoint)
    {
    }

    /// <summary>Creates the callback that saves every <paramref name="saveFreq"/> batches.</summary>
    /// <param name="backupDir">The folder for the backup.</param>
    /// <param name="saveFreq">Save after every this many training batches (1 or more), counted across epochs. As in
    /// Keras, a run restored from a mid-epoch backup starts that epoch again from its first batch, with the weights
    /// of the backup.</param>
    /// <param name="doubleCheckpoint">Keep the previous backup too, and restore it when the latest cannot be read.</param>
    /// <param name="deleteCheckpoint">Delete the backup when <c>Fit</c> completes.</param>
    /// <exception cref="ArgumentException"><paramref name="backupDir"/> is empty, a file or inside one, or holds a
    /// folder where the backup keeps a file.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="saveFreq"/> is less than 1.</exception>
    public BackupAndRestore(string backupDir, int saveFreq, bool doubleCheckpoint = false, bool deleteCheckpoint = true)
        : this(backupDir, saveFreq >= 1 ? (int?)saveFreq
            : throw new ArgumentOutOfRangeException(nameof(saveFreq), saveFreq, "BackupAndRestore: saveFreq must be at least 1 batch (or \"epoch\")."),
            doubleCheckpoint, deleteCheckpoint)
    {
    }

    private BackupAndRestore(string backupDir, int? batchFrequency, bool doubleCheckpoint, bool deleteCheckpoint)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(backupDir);
        BackupDir = backupDir;
        if (FolderProblem() is { } problem)
        {
            throw new ArgumentException($"BackupAndRestore: cannot use the backup folder '{backupDir}': {problem}.", nameof(backupDir));
        }

        SaveFreq = batchFrequency;
        DoubleCheckpoint = doubleCheckpoint;
        DeleteCheckpoint = deleteCheckpoint;
    }

    /// <summary>The backup folder.</summary>
    public string BackupDir { get; }

    /// <summary>Batches between saves, or null to save at the end of every epoch.</summary>
    public int? SaveFreq { get; }

    /// <summary>Whether the previous backup is kept beside the latest.</summary>
    public bool DoubleCheckpoint { get; }

    /// <summary>Whether the backup is deleted when <c>Fit</c> completes.</summary>
    public bool DeleteCheckpoint { get; }

    /// <summary>The epoch the last <c>Fit</c> resumed at, from its backup; null when it found none.</summary>
    public int? RestoredEpoch { get; private set; }

    private string WeightsPath => Path.Combine(BackupDir, WeightsFileName);

    private string MetadataPath => Path.Combine(BackupDir, MetadataFileName);

    /// <summary>Why the backup folder cannot be used, or null: it is a file (or inside one), or a folder stands where a backup file goes.</summary>
    private string? FolderProblem() =>
        CallbackPaths.FolderProblem(BackupDir)
        ?? new[] { MetadataPath, MetadataPath + Previous, WeightsPath, WeightsPath + Previous }.Where(Directory.Exists).Select(p => $"'{p}' is a folder, where the backup keeps a file").FirstOrDefault();

    /// <summary>Restores the backup, if there is one, and tells <c>Fit</c> where to resume.</summary>
    /// <exception cref="IOException">The backup folder cannot be used (checked again here, before any epoch trains):
    /// it became a file, or one of the backup's files is a folder; a backup that cannot be read is never silently
    /// replaced by a fresh start.</exception>
    /// <exception cref="InvalidDataException">The backup's metadata cannot be read or names no weights file that is
    /// there (and no readable previous backup is kept).</exception>
    /// <exception cref="KerasFileException">The weights file does not fit the model.</exception>
    public override void OnTrainBegin(Dictionary<string, double> logs)
    {
        if (FolderProblem() is { } problem)
        {
            throw new IOException($"BackupAndRestore: cannot use the backup folder '{BackupDir}': {problem}.");
        }

        RestoredEpoch = null;
        lastBatchSeen = 0;
        batchesSinceSave = 0;
        currentEpoch = 0;
        if (!File.Exists(MetadataPath))
        {
            return;
        }

        int epoch;
        try
        {
            epoch = Restore(MetadataPath);
        }
        catch (Exception e) when (DoubleCheckpoint && File.Exists(MetadataPath + Previous) && e is InvalidDataException or KerasFileException or IOException)
        {
            // As Keras with double_checkpoint: the latest backup is unreadable, so the previous one is copied over it
            // and restored.
            Warnings.Warn($"BackupAndRestore: the latest backup in '{BackupDir}' cannot be restored ({e.Message}); restoring the previous one.");
            epoch = Restore(MetadataPath + Previous);
            Copy(MetadataPath + Previous, MetadataPath);
        }

        currentEpoch = epoch;
        RestoredEpoch = epoch;
        TrainingModel.ResumeEpoch = epoch;
    }

    /// <inheritdoc/>
    public override void OnEpochBegin(int epoch, Dictionary<string, double> logs) => currentEpoch = epoch;

    /// <inheritdoc/>
    public override void OnBatchEnd(int batch, Dictionary<string, double> logs)
    {
        if (SaveFreq is not { } every)
        {
            return;
        }

        // Keras' count: a batch index not above the last one seen starts a new epoch.
        batchesSinceSave += batch <= lastBatchSeen ? batch + 1 : batch - lastBatchSeen;
        lastBatchSeen = batch;
        if (batchesSinceSave >= every)
        {
            batchesSinceSave = 0;
            Save(currentEpoch, batch);
        }
    }

    /// <inheritdoc/>
    public override void OnEpochEnd(int epoch, Dictionary<string, double> logs)
    {
        currentEpoch = epoch + 1;
        lastBatchSeen = 0;
        if (SaveFreq is null)
        {
            Save(currentEpoch, 0);
        }
    }

    /// <summary>Deletes the backup when <see cref="DeleteCheckpoint"/> is set (only reached when <c>Fit</c> completes).</summary>
    public override void OnTrainEnd(Dictionary<string, double> logs)
    {
        if (!DeleteCheckpoint || !Directory.Exists(BackupDir))
        {
            return;
        }

        foreach (var file in new[] { MetadataPath, MetadataPath + Previous, WeightsPath, WeightsPath + Previous })
        {
            File.Delete(file);
        }

        // Temporary files that a process killed during a save left (AtomicFile names them "<prefix><pid>-<guid>.tmp").
        foreach (var name in new[] { WeightsFileName, MetadataFileName, WeightsFileName + Previous, MetadataFileName + Previous })
        {
            foreach (var leftover in Directory.EnumerateFiles(BackupDir, $"{AtomicFile.TempPrefix(name)}*.tmp"))
            {
                File.Delete(leftover);
            }
        }

        if (!Directory.EnumerateFileSystemEntries(BackupDir).Any())
        {
            Directory.Delete(BackupDir);
        }
    }

    /// <summary>
    /// Writes a backup so that a kill at any point leaves a consistent one: the current weights move to
    /// <c>.bkp</c> (they belong to the current metadata), the new weights are written, then the new metadata naming
    /// them, and only then is the <c>.bkp</c> dropped (kept with <see cref="DoubleCheckpoint"/>, with the metadata it
    /// belongs to).
    /// </summary>
    private void Save(int epoch, int batch)
    {
        Directory.CreateDirectory(BackupDir);
        if (File.Exists(WeightsPath))
        {
            File.Move(WeightsPath, WeightsPath + Previous, overwrite: true);
        }

        TrainingModel.SaveWeights(WeightsPath);
        if (DoubleCheckpoint && File.Exists(MetadataPath))
        {
            var current = File.ReadAllBytes(MetadataPath);
            AtomicFile.Write(MetadataPath + Previous, stream => stream.Write(current));
        }

        var metadata = new JsonObject { ["epoch"] = epoch, ["batch"] = batch, ["weights_sha256"] = Sha256(WeightsPath) };
        AtomicFile.Write(MetadataPath, stream => stream.Write(JsonSerializer.SerializeToUtf8Bytes(metadata)));
        if (!DoubleCheckpoint)
        {
            File.Delete(WeightsPath + Previous);
        }
    }

    /// <summary>Loads the weights the metadata file names and returns its epoch.</summary>
    private int Restore(string metadataPath)
    {
        JsonNode? metadata;
        try
        {
            metadata = JsonNode.Parse(File.ReadAllBytes(metadataPath));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"BackupAndRestore: the backup's '{metadataPath}' cannot be read ({e.Message}); the backup is not discarded: repair or remove it.", e);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"BackupAndRestore: '{metadataPath}' is not valid JSON ({e.Message}); expected {{\"epoch\": N, \"batch\": N, \"weights_sha256\": \"...\"}}.", e);
        }

        var epoch = Value<int>(Entry(metadata, "epoch") ?? throw new InvalidDataException($"BackupAndRestore: '{metadataPath}' has no \"epoch\" entry."),
            "epoch", metadataPath, "a whole number");
        if (epoch < 0)
        {
            throw new InvalidDataException($"BackupAndRestore: '{metadataPath}' says epoch {epoch}; expected 0 or more.");
        }

        var expected = Entry(metadata, "weights_sha256") is { } hash ? Value<string>(hash, "weights_sha256", metadataPath, "a string") : null;
        string weights;
        if (expected is null)
        {
            // Metadata without a hash (written by Keras): the latest weights file, as Keras loads it.
            weights = WeightsPath;
        }
        else
        {
            weights = new[] { WeightsPath, WeightsPath + Previous }.FirstOrDefault(p => File.Exists(p) && Sha256(p) == expected)
                ?? throw new InvalidDataException($"BackupAndRestore: no weights file in '{BackupDir}' has the SHA-256 {expected} that '{metadataPath}' names ({WeightsFileName} or {WeightsFileName}{Previous} expected); the backup is damaged.");
        }

        if (weights != WeightsPath)
        {
            // The previous weights (a save was cut short, or the latest is damaged) become the latest again, as Keras
            // copies its .bkp back; LoadWeights reads only .weights.h5 names.
            Copy(weights, WeightsPath);
        }

        TrainingModel.LoadWeights(WeightsPath);
        return epoch;
    }

    /// <summary>An entry of the metadata, or null when absent.</summary>
    private static JsonNode? Entry(JsonNode? metadata, string key) =>
        metadata is JsonObject entries && entries.TryGetPropertyValue(key, out var node) ? node : null;

    /// <summary>An entry's value; a value of another type means a damaged backup.</summary>
    private static T Value<T>(JsonNode node, string key, string path, string expected)
    {
        try
        {
            return node.GetValue<T>();
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException)
        {
            throw new InvalidDataException($"BackupAndRestore: '{path}' has a \"{key}\" entry that is not {expected}: {node.ToJsonString()}.", e);
        }
    }

    private static void Copy(string source, string target) =>
        AtomicFile.Write(target, stream =>
        {
            using var from = File.OpenRead(source);
            from.CopyTo(stream);
        });

    private static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
