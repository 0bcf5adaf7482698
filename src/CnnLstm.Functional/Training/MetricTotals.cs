namespace KerasStyle.Training;

/// <summary>One logged value of a batch: its value, the statistics an epoch sums, and how the sum becomes a value.</summary>
internal readonly record struct LoggedValue(double Value, double[] Statistics, Func<double[], double> Result);

/// <summary>The sums of the logged values' statistics over the batches of an epoch (or an evaluation), as Keras' metric states.</summary>
internal sealed class MetricTotals
{
    private readonly Dictionary<string, (double[] Sums, Func<double[], double> Result)> totals = new(StringComparer.Ordinal);

    /// <summary>Adds one batch's values.</summary>
    public void Add(IReadOnlyDictionary<string, LoggedValue> batch)
    {
        foreach (var (name, value) in batch)
        {
            if (!totals.TryGetValue(name, out var total))
            {
                totals[name] = (value.Statistics.ToArray(), value.Result);
                continue;
            }

            for (var i = 0; i < total.Sums.Length; i++)
            {
                total.Sums[i] += value.Statistics[i];
            }
        }
    }

    /// <summary>Each value computed from its summed statistics.</summary>
    public Dictionary<string, double> Results() => totals.ToDictionary(kv => kv.Key, kv => kv.Value.Result(kv.Value.Sums), StringComparer.Ordinal);
}
