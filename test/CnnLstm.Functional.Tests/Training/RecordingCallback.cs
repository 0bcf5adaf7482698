using KerasStyle.Training.Callbacks;

namespace KerasStyle.Tests.Training;

/// <summary>
/// Records what a callback sees. Optionally writes a scripted value into the epoch logs (before the callbacks after it
/// run), so monitor-based callbacks can be driven exactly.
/// </summary>
internal sealed class RecordingCallback : Callback
{
    private readonly string? scriptedKey;
    private readonly double[]? script;

    public RecordingCallback(string? scriptedKey = null, params double[] script)
    {
        this.scriptedKey = scriptedKey;
        this.script = scriptedKey is null ? null : script;
    }

    public List<string> Events { get; } = new();

    public List<int> BatchSizes { get; } = new();

    public List<double> BatchLosses { get; } = new();

    public List<int> Epochs { get; } = new();

    public List<Dictionary<string, double>> EpochLogs { get; } = new();

    /// <summary>The model's flattened weights at the end of each epoch, before later callbacks run.</summary>
    public List<float[]> EpochWeights { get; } = new();

    public IReadOnlyDictionary<string, object>? SeenParams { get; private set; }

    public override void OnTrainBegin(Dictionary<string, double> logs)
    {
        SeenParams = Params;
        Events.Add("train_begin");
    }

    public override void OnTrainEnd(Dictionary<string, double> logs) => Events.Add("train_end");

    public override void OnEpochBegin(int epoch, Dictionary<string, double> logs) => Events.Add($"epoch_begin {epoch}");

    public override void OnEpochEnd(int epoch, Dictionary<string, double> logs)
    {
        if (script is not null)
        {
            logs[scriptedKey!] = script[Math.Min(epoch, script.Length - 1)];
        }

        Events.Add($"epoch_end {epoch}");
        Epochs.Add(epoch);
        EpochLogs.Add(new Dictionary<string, double>(logs));
        EpochWeights.Add(TinyModels.Flat(Model!));
    }

    public override void OnBatchBegin(int batch, Dictionary<string, double> logs)
    {
        Events.Add($"batch_begin {batch}");
        BatchSizes.Add((int)logs["size"]);
    }

    public override void OnBatchEnd(int batch, Dictionary<string, double> logs)
    {
        Events.Add($"batch_end {batch}");
        BatchLosses.Add(logs["loss"]);
    }
}
