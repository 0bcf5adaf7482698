namespace KerasStyle.Training.Callbacks;

/// <summary>
/// Prints <c>Epoch i/n</c> and a <see cref="ProgressBar"/> per epoch, as Keras' <c>ProgbarLogger</c>. Verbose 1 on a
/// terminal redraws the bar in place; with redirected output (or an explicit writer) it writes only the epoch's
/// final bar line. Verbose 2 writes Keras' one-line verbose-2 form per epoch.
/// </summary>
public sealed class ProgbarLogger : Callback
{
    private readonly TextWriter writer;
    private readonly bool dynamic;
    private readonly Dictionary<string, double> sums = new(StringComparer.Ordinal);
    private ProgressBar? bar;
    private int epochs;
    private int steps;
    private int seen;
    private double samples;

    /// <summary>Creates the logger.</summary>
    /// <param name="verbose">1 for a live bar (on a terminal), 2 for one line per epoch.</param>
    /// <param name="writer">Where to write; standard output by default.</param>
    public ProgbarLogger(int verbose = 1, TextWriter? writer = null)
    {
        if (verbose is not (1 or 2))
        {
            throw new ArgumentOutOfRangeException(nameof(verbose), verbose, "ProgbarLogger: verbose must be 1 or 2.");
        }

        this.writer = writer ?? Console.Out;
        Verbose = verbose;
        dynamic = verbose == 1 && writer is null && !Console.IsOutputRedirected;
    }

    /// <summary>1 for the bar, 2 for one line per epoch.</summary>
    public int Verbose { get; }

    /// <inheritdoc/>
    public override void OnTrainBegin(Dictionary<string, double> logs)
    {
        epochs = Convert.ToInt32(Params["epochs"], System.Globalization.CultureInfo.InvariantCulture);
        steps = Convert.ToInt32(Params["steps"], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <inheritdoc/>
    public override void OnEpochBegin(int epoch, Dictionary<string, double> logs)
    {
        // Keras 3 writes no epoch line for a single epoch.
        if (Backend.ConsoleStyle == ConsoleStyle.Keras2 || epochs > 1)
        {
            writer.WriteLine($"Epoch {epoch + 1}/{epochs}");
        }

        bar = new ProgressBar(steps, writer, dynamic, Verbose);
        sums.Clear();
        seen = 0;
        samples = 0;
    }

    /// <inheritdoc/>
    public override void OnBatchEnd(int batch, Dictionary<string, double> logs)
    {
        var size = logs.GetValueOrDefault("size", 1);
        foreach (var (key, value) in logs.Where(kv => kv.Key is not ("batch" or "size")))
        {
            sums[key] = sums.GetValueOrDefault(key) + (value * size);
        }

        samples += size;
        seen++;
        if (seen < steps)
        {
            bar?.Update(seen, Means());
        }
    }

    /// <inheritdoc/>
    public override void OnEpochEnd(int epoch, Dictionary<string, double> logs)
    {
        // Keras 3 shows the learning_rate a callback put in the logs (its progress bar runs after them); Keras 2 did not.
        // Keras 3 reads the rate from its float32 variable: 0.001 shows as 0.0010, not 1.0000e-03.
        bar?.Update(seen, Backend.ConsoleStyle == ConsoleStyle.Keras3
            ? logs.Select(kv => kv.Key == "learning_rate" ? new KeyValuePair<string, double>(kv.Key, (float)kv.Value) : kv)
            : logs.Where(kv => kv.Key != "learning_rate"), finalize: true);
    }

    private IEnumerable<KeyValuePair<string, double>> Means() =>
        sums.Select(kv => new KeyValuePair<string, double>(kv.Key, kv.Value / samples)).ToArray();
}
