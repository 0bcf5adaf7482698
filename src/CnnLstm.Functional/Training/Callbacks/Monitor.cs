namespace KerasStyle.Training.Callbacks;

/// <summary>Keras' monitored-quantity rules shared by EarlyStopping, ModelCheckpoint and ReduceLROnPlateau.</summary>
internal sealed class Monitor
{
    public Monitor(string callback, string monitor, string mode)
    {
        ArgumentNullException.ThrowIfNull(monitor);
        if (string.IsNullOrWhiteSpace(monitor))
        {
            throw new ArgumentException($"{callback}: monitor is empty; expected the name of a logged quantity such as 'val_loss'.", nameof(monitor));
        }

        Name = monitor;
        Maximize = mode switch
        {
            "min" => false,
            "max" => true,
            // Keras' auto mode: accuracy-like quantities are maximised, everything else minimised.
            "auto" => monitor.Contains("acc", StringComparison.Ordinal) || monitor.StartsWith("fmeasure", StringComparison.Ordinal),
            _ => throw new ArgumentException($"{callback}: unknown mode '{mode}'; expected 'auto', 'min' or 'max'.", nameof(mode)),
        };
    }

    public string Name { get; }

    /// <summary>A number as Python's <c>'%.Nf'</c> prints it: invariant culture, <c>inf</c>, <c>-inf</c>, <c>nan</c>.</summary>
    public static string Fixed(double value, int decimals) =>
        double.IsNaN(value) ? "nan"
        : double.IsInfinity(value) ? (value > 0 ? "inf" : "-inf")
        : value.ToString("F" + decimals, System.Globalization.CultureInfo.InvariantCulture);

    public bool Maximize { get; }

    /// <summary>The worst possible value, where tracking starts.</summary>
    public double Worst => Maximize ? double.NegativeInfinity : double.PositiveInfinity;

    /// <summary>Whether <paramref name="current"/> beats <paramref name="best"/> by more than <paramref name="minDelta"/>.</summary>
    public bool Improves(double current, double best, double minDelta) =>
        Maximize ? current - minDelta > best : current + minDelta < best;

    public bool TryGet(Dictionary<string, double> logs, string callback, out double value)
    {
        if (logs.TryGetValue(Name, out value))
        {
            return true;
        }

        Console.Error.WriteLine($"{callback}: monitored quantity '{Name}' is not in the logs; available: {string.Join(", ", logs.Keys)}.");
        return false;
    }
}
