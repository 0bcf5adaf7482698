using KerasStyle.Training.Callbacks;

namespace KerasStyle.Training;

/// <summary>
/// What <c>Fit</c> returns, as Keras' <c>History</c>: per-epoch values by key (<c>loss</c>, each metric, their
/// <c>val_</c> versions), the epoch numbers, and the run's parameters.
/// </summary>
public sealed class History : Callback
{
    private readonly Dictionary<string, List<double>> values = new(StringComparer.Ordinal);
    private readonly List<int> epochs = new();

    /// <summary>The per-epoch values by key (Keras' <c>history.history</c>).</summary>
    public IReadOnlyDictionary<string, List<double>> Values => values;

    /// <summary>The epoch indices that ran, from 0 (Keras' <c>history.epoch</c>).</summary>
    public IReadOnlyList<int> Epoch => epochs;

    /// <summary>The run's parameters (Keras' <c>history.params</c>).</summary>
    public new IReadOnlyDictionary<string, object> Params => base.Params;

    /// <summary>The values of one key, e.g. <c>history["val_loss"]</c>.</summary>
    /// <param name="key">The key.</param>
    public IReadOnlyList<double> this[string key] => values.TryGetValue(key, out var list)
        ? list
        : throw new KeyNotFoundException($"History has no '{key}'; keys are {string.Join(", ", values.Keys)}.");

    /// <inheritdoc/>
    public override void OnTrainBegin(Dictionary<string, double> logs)
    {
        values.Clear();
        epochs.Clear();
    }

    /// <inheritdoc/>
    public override void OnEpochEnd(int epoch, Dictionary<string, double> logs)
    {
        epochs.Add(epoch);
        foreach (var (key, value) in logs)
        {
            if (!values.TryGetValue(key, out var list))
            {
                list = new List<double>();
                values[key] = list;
            }

            list.Add(value);
        }
    }
}
