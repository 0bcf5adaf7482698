namespace KerasStyle.Training.Callbacks;

/// <summary>
/// Multiplies the learning rate by <c>factor</c> when a monitored quantity has not improved for <c>patience</c>
/// epochs, as Keras' <c>ReduceLROnPlateau</c>; adds <c>lr</c> to the epoch logs.
/// </summary>
public sealed class ReduceLROnPlateau : Callback
{
    private readonly Monitor monitor;
    private double best;
    private int wait;
    private int cooldownCounter;

    /// <summary>Creates the callback.</summary>
    /// <param name="monitor">The quantity to watch.</param>
    /// <param name="factor">New rate = rate * factor; must be in (0, 1).</param>
    /// <param name="patience">Epochs without improvement before reducing.</param>
    /// <param name="mode"><c>auto</c>, <c>min</c> or <c>max</c>.</param>
    /// <param name="minDelta">The smallest change that counts as an improvement.</param>
    /// <param name="cooldown">Epochs to wait after a reduction before counting again.</param>
    /// <param name="minLr">Lower bound of the rate.</param>
    /// <param name="verbose">0 quiet, 1 (or more) to print each reduction.</param>
    /// <exception cref="ArgumentException"><paramref name="monitor"/> is empty, or <paramref name="mode"/> unknown.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="factor"/> is not in (0, 1); <paramref name="patience"/>,
    /// <paramref name="cooldown"/> or <paramref name="verbose"/> is negative; <paramref name="minDelta"/> is NaN;
    /// <paramref name="minLr"/> is negative, NaN or infinite.</exception>
    public ReduceLROnPlateau(string monitor = "val_loss", double factor = 0.1, int patience = 10, string mode = "auto",
        double minDelta = 1e-4, int cooldown = 0, double minLr = 0, int verbose = 0)
    {
        if (!(factor > 0 && factor < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(factor), factor, "ReduceLROnPlateau: factor must be in (0, 1).");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(patience);
        ArgumentOutOfRangeException.ThrowIfNegative(cooldown);
        ArgumentOutOfRangeException.ThrowIfNegative(verbose);
        if (double.IsNaN(minDelta))
        {
            throw new ArgumentOutOfRangeException(nameof(minDelta), minDelta, "ReduceLROnPlateau: minDelta must be a number.");
        }

        if (!(minLr >= 0 && double.IsFinite(minLr)))
        {
            throw new ArgumentOutOfRangeException(nameof(minLr), minLr, "ReduceLROnPlateau: minLr must be a finite number of at least 0.");
        }
        this.monitor = new Monitor(nameof(ReduceLROnPlateau), monitor, mode);
        Factor = factor;
        Patience = patience;
        MinDelta = minDelta;
        Cooldown = cooldown;
        MinLr = minLr;
        Verbose = verbose;
    }

    /// <summary>The reduction factor.</summary>
    public double Factor { get; }

    /// <summary>Epochs without improvement before reducing.</summary>
    public int Patience { get; }

    /// <summary>The smallest improvement that counts.</summary>
    public double MinDelta { get; }

    /// <summary>Epochs to wait after a reduction.</summary>
    public int Cooldown { get; }

    /// <summary>Lower bound of the rate.</summary>
    public double MinLr { get; }

    /// <summary>1 to print reductions.</summary>
    public int Verbose { get; }

    /// <inheritdoc/>
    public override void OnTrainBegin(Dictionary<string, double> logs)
    {
        best = monitor.Worst;
        wait = 0;
        cooldownCounter = 0;
    }

    /// <inheritdoc/>
    public override void OnEpochEnd(int epoch, Dictionary<string, double> logs)
    {
        var optimizer = TrainingModel.Optimizer!;
        logs["learning_rate"] = optimizer.LearningRate;
        if (!monitor.TryGet(logs, nameof(ReduceLROnPlateau), out var current))
        {
            return;
        }

        if (cooldownCounter > 0)
        {
            cooldownCounter--;
            wait = 0;
        }

        if (monitor.Improves(current, best, MinDelta))
        {
            best = current;
            wait = 0;
        }
        else if (cooldownCounter == 0 && ++wait >= Patience)
        {
            // Keras compares against float32(min_lr).
            if (optimizer.LearningRate > (float)MinLr)
            {
                var newLr = Math.Max(optimizer.LearningRate * Factor, MinLr);
                optimizer.LearningRate = newLr;
                if (Verbose > 0)
                {
                    Console.WriteLine($"\nEpoch {epoch + 1:D5}: ReduceLROnPlateau reducing learning rate to {newLr.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}.");
                }

                cooldownCounter = Cooldown;
                wait = 0;
            }
        }
    }
}
