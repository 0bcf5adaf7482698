using System.Globalization;
using KerasStyle.Models;
using KerasStyle.Training.Callbacks.TensorBoardEvents;

namespace KerasStyle.Training.Callbacks;

/// <summary>
/// Writes TensorBoard event files, as Keras 3's <c>keras.callbacks.TensorBoard</c>
/// (<c>keras/src/callbacks/tensorboard.py</c>) writes its scalar summaries, without TensorFlow. Every <c>Fit</c> writes
/// new files (TensorBoard reads all files of a run folder):
/// <list type="bullet">
/// <item><c>logDir/train/events.out.tfevents.*</c>: <c>epoch_&lt;name&gt;</c> at step = epoch index (from 0) for every
/// epoch log entry without the <c>val_</c> prefix (<c>loss</c>, metrics, entries callbacks added) and the optimizer's
/// <c>learning_rate</c>; with <c>updateFreq</c> <c>"batch"</c> or N, <c>batch_&lt;name&gt;</c> for the batch's loss
/// and metrics every N batches at step = the batch count since <c>Fit</c> started (from 1, across epochs); with
/// <c>writeGraph</c>, the model's JSON under the tag <c>keras</c> at step 0 (TensorBoard's Keras graph view).</item>
/// <item><c>logDir/validation/events.out.tfevents.*</c>, when <c>Fit</c> validates: <c>epoch_&lt;name&gt;</c> for the
/// <c>val_</c> entries with the prefix removed (so <c>epoch_loss</c> of both runs share a chart), and
/// <c>evaluation_&lt;name&gt;_vs_iterations</c> at step = the optimizer's iteration count.</item>
/// </list>
/// Values are stored as float32 tensors with the <c>scalars</c> plugin, as <c>tf.summary.scalar</c> stores them.
/// Keras' <c>histogram_freq</c>, <c>write_images</c>, <c>write_steps_per_second</c>, <c>profile_batch</c> and
/// <c>embeddings_freq</c> are not implemented (Keras' defaults leave them off).
/// </summary>
/// <example>
/// <code>
/// model.Fit(x, y, epochs: 10, validationSplit: 0.2, callbacks: new[] { new TensorBoard("logs/run1") });
/// // then: tensorboard --logdir logs
/// </code>
/// </example>
public sealed class TensorBoard : Callback
{
    private static readonly string[] BatchBookkeeping = { "batch", "size" };
    private readonly List<string> eventFiles = new();
    private EventFileWriter? train;
    private EventFileWriter? validation;
    private long globalBatch;

    /// <summary>Creates the callback.</summary>
    /// <param name="logDir">The folder for the event files (Keras' default <c>logs</c>); its <c>train</c> and
    /// <c>validation</c> subfolders are created when first written.</param>
    /// <param name="updateFreq"><c>"epoch"</c> (the Keras default) writes epoch values only; <c>"batch"</c> also
    /// writes every batch's values (the same as 1 in the other constructor).</param>
    /// <param name="writeGraph">Whether to write the model's JSON for TensorBoard's graph view (Keras' default true).</param>
    /// <exception cref="ArgumentException"><paramref name="logDir"/> is empty, or <paramref name="updateFreq"/> is
    /// neither <c>epoch</c> nor <c>batch</c>.</exception>
    public TensorBoard(string logDir = "logs", string updateFreq = "epoch", bool writeGraph = true)
        : this(logDir, updateFreq switch
        {
            "epoch" => null,
            "batch" => 1,
            null => throw new ArgumentNullException(nameof(updateFreq)),
            _ => throw new ArgumentException($"TensorBoard: updateFreq must be \"epoch\" or \"batch\" (or a number of batches), got \"{updateFreq}\".", nameof(updateFreq)),
        }, writeGraph)
    {
    }

    /// <summary>Creates the callback that also writes batch values every <paramref name="updateFreq"/> batches.</summary>
    /// <param name="logDir">The folder for the event files.</param>
    /// <param name="updateFreq">Write <c>batch_&lt;name&gt;</c> values when the batch count since <c>Fit</c> started
    /// is a multiple of this (1 or more).</param>
    /// <param name="writeGraph">Whether to write the model's JSON for TensorBoard's graph view.</param>
    /// <exception cref="ArgumentException"><paramref name="logDir"/> is empty, or it (or its <c>train</c> or
    /// <c>validation</c> subfolder) is a file or inside one.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="updateFreq"/> is less than 1.</exception>
    public TensorBoard(string logDir, int updateFreq, bool writeGraph = true)
        : this(logDir, updateFreq >= 1 ? (int?)updateFreq : throw new ArgumentOutOfRangeException(nameof(updateFreq), updateFreq, "TensorBoard: updateFreq must be at least 1 batch (or \"epoch\")."), writeGraph)
    {
    }

    private TensorBoard(string logDir, int? batchFrequency, bool writeGraph)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(logDir);
        LogDir = logDir;
        if (FolderProblem() is { } problem)
        {
            throw new ArgumentException($"TensorBoard: cannot write event files under '{logDir}': {problem}.", nameof(logDir));
        }

        BatchFrequency = batchFrequency;
        WriteGraph = writeGraph;
    }

    /// <summary>The folder holding <c>train</c> and <c>validation</c>.</summary>
    public string LogDir { get; }

    /// <summary>Batch values are written every this many batches; null for <c>"epoch"</c>.</summary>
    public int? BatchFrequency { get; }

    /// <summary>Whether the model's JSON is written at the start of training.</summary>
    public bool WriteGraph { get; }

    /// <summary>The event files the last (or current) <c>Fit</c> created, train first.</summary>
    public IReadOnlyList<string> EventFiles => eventFiles;

    /// <inheritdoc/>
    public override void SetContext(Model model, IReadOnlyDictionary<string, object> parameters)
    {
        base.SetContext(model, parameters);
        // As Keras' set_model: every Fit writes new files.
        train = null;
        validation = null;
        eventFiles.Clear();
    }

    /// <summary>Checks the folders again (before any epoch trains) and writes the graph.</summary>
    /// <exception cref="IOException"><see cref="LogDir"/> or a subfolder became a file.</exception>
    public override void OnTrainBegin(Dictionary<string, double> logs)
    {
        if (FolderProblem() is { } problem)
        {
            throw new IOException($"TensorBoard: cannot write event files under '{LogDir}': {problem}.");
        }

        globalBatch = 0;
        if (WriteGraph)
        {
            Train.Append(new[] { EventFileWriter.KerasModel(TrainingModel.ToJson()) });
        }
    }

    /// <inheritdoc/>
    public override void OnBatchBegin(int batch, Dictionary<string, double> logs) => globalBatch++;

    /// <inheritdoc/>
    public override void OnBatchEnd(int batch, Dictionary<string, double> logs)
    {
        if (BatchFrequency is not { } every || globalBatch % every != 0)
        {
            return;
        }

        // Keras 3's batch logs hold the loss and metrics only; this library's also carry the batch index and size.
        Train.Append(logs.Where(kv => !BatchBookkeeping.Contains(kv.Key)).Select(kv => EventFileWriter.Scalar($"batch_{kv.Key}", kv.Value, globalBatch)).ToList());
    }

    /// <inheritdoc/>
    public override void OnEpochEnd(int epoch, Dictionary<string, double> logs)
    {
        ArgumentNullException.ThrowIfNull(logs);
        if (logs.Count == 0)
        {
            return;
        }

        var trainLogs = logs.Where(kv => !kv.Key.StartsWith("val_", StringComparison.Ordinal)).ToDictionary(kv => kv.Key, kv => kv.Value);
        var validationLogs = logs.Where(kv => kv.Key.StartsWith("val_", StringComparison.Ordinal)).Select(kv => (Name: kv.Key["val_".Length..], kv.Value)).ToList();
        if (validationLogs.Count > 0)
        {
            // Keras writes these when the validation pass ends (on_test_end), before the epoch's values.
            var iterations = TrainingModel.Optimizer?.Iterations ?? 0;
            Validation.Append(validationLogs.Select(v => EventFileWriter.Scalar($"evaluation_{v.Name}_vs_iterations", v.Value, iterations)).ToList());
        }

        if (TrainingModel.Optimizer is { } optimizer)
        {
            trainLogs["learning_rate"] = optimizer.LearningRate;
        }

        Train.Append(trainLogs.Select(kv => EventFileWriter.Scalar($"epoch_{kv.Key}", kv.Value, epoch)).ToList());
        if (validationLogs.Count > 0)
        {
            Validation.Append(validationLogs.Select(v => EventFileWriter.Scalar($"epoch_{v.Name}", v.Value, epoch)).ToList());
        }
    }

    private string? FolderProblem() => new[] { LogDir, Path.Combine(LogDir, "train"), Path.Combine(LogDir, "validation") }.Select(CallbackPaths.FolderProblem).FirstOrDefault(p => p is not null);

    private EventFileWriter Train => train ??= Open("train");

    private EventFileWriter Validation => validation ??= Open("validation");

    private EventFileWriter Open(string run)
    {
        var writer = new EventFileWriter(Path.Combine(LogDir, run));
        eventFiles.Add(writer.FilePath);
        return writer;
    }
}
