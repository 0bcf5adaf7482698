namespace KerasStyle.Preprocessing;

/// <summary>
/// Scales values linearly into a range (default [0, 1]) from the minimum and maximum seen by <c>Fit</c>, as
/// scikit-learn's <c>MinMaxScaler</c> that Keras time-series tutorials use.
/// </summary>
public sealed class MinMaxScaler
{
    private double min = double.NaN;
    private double max = double.NaN;

    /// <summary>Creates a scaler.</summary>
    /// <param name="low">The low end of the target range.</param>
    /// <param name="high">The high end of the target range; must be above <paramref name="low"/>.</param>
    public MinMaxScaler(double low = 0, double high = 1)
    {
        if (!(high > low))
        {
            throw new ArgumentException($"MinMaxScaler: the range ({low}, {high}) is empty; expected low < high.", nameof(high));
        }

        Low = low;
        High = high;
    }

    /// <summary>The low end of the target range.</summary>
    public double Low { get; }

    /// <summary>The high end of the target range.</summary>
    public double High { get; }

    /// <summary>The minimum seen by <c>Fit</c>.</summary>
    public double DataMin => min;

    /// <summary>The maximum seen by <c>Fit</c>.</summary>
    public double DataMax => max;

    /// <summary>Learns the minimum and maximum.</summary>
    /// <param name="values">Finite values, at least one.</param>
    /// <returns>This scaler.</returns>
    public MinMaxScaler Fit(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0 || values.Any(v => !double.IsFinite(v)))
        {
            throw new ArgumentException("MinMaxScaler.Fit: expected at least one value and only finite values.", nameof(values));
        }

        min = values.Min();
        max = values.Max();
        return this;
    }

    /// <summary>Scales values into the target range.</summary>
    /// <param name="values">The values.</param>
    public double[] Transform(IReadOnlyList<double> values)
    {
        RequireFitted();
        ArgumentNullException.ThrowIfNull(values);
        // A constant series maps to the low end, as scikit-learn does.
        var span = max > min ? max - min : 1;
        return values.Select(v => ((v - min) / span * (High - Low)) + Low).ToArray();
    }

    /// <summary>Maps scaled values back to the original units.</summary>
    /// <param name="values">Scaled values.</param>
    public double[] InverseTransform(IReadOnlyList<double> values)
    {
        RequireFitted();
        ArgumentNullException.ThrowIfNull(values);
        var span = max > min ? max - min : 1;
        return values.Select(v => ((v - Low) / (High - Low) * span) + min).ToArray();
    }

    private void RequireFitted()
    {
        if (double.IsNaN(min))
        {
            throw new InvalidOperationException("MinMaxScaler: call Fit before Transform or InverseTransform.");
        }
    }
}
