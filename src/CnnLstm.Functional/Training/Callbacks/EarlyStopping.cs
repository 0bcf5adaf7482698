using KerasStyle.Layers;

namespace KerasStyle.Training.Callbacks;

/// <summary>
/// Stops training when a monitored quantity has stopped improving, as Keras' <c>EarlyStopping</c>: after
/// <c>patience</c> epochs without an improvement larger than <c>minDelta</c>; optionally restores the best weights.
/// </summary>
public sealed class EarlyStopping : Callback
{
    private readonly Monitor monitor;
    private IReadOnlyList<WeightArray>? bestWeights;
    private int wait;

    /// <summary>Creates the callback.</summary>
    /// <param name="monitor">The quantity to watch, e.g. <c>val_loss</c>.</param>
    /// <param name="minDelta">The smallest change that counts as an improvement (non-negative).</param>
    /// <param name="patience">Epochs without improvement before stopping (non-negative).</param>
    /// <param name="mode"><c>auto</c>, <c>min</c> or <c>max</c>.</param>
    /// <param name="restoreBestWeights">Whether to restore the weights of the best epoch when stopping.</param>
    /// <param name="verbose">0 quiet, 1 (or more) to print the epoch at which training stopped.</param>
    /// <exception cref="ArgumentException"><paramref name="monitor"/> is empty, or <paramref name="mode"/> unknown.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="patience"/> or <paramref name="verbose"/> is negative, or <paramref name="minDelta"/> is NaN.</exception>
    public EarlyStopping(string monitor = "val_loss", double minDelta = 0, int patience = 0, string mode = "auto",
        bool restoreBestWeights = false, int verbose = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(patience);
        ArgumentOutOfRangeException.ThrowIfNegative(verbose);
        if (!(Math.Abs(minDelta) >= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(minDelta), minDelta, "EarlyStopping: minDelta must be a number.");
        }

        this.monitor = new Monitor(nameof(EarlyStopping), monitor, mode);
        MinDelta = Math.Abs(minDelta);
        Patience = patience;
        RestoreBestWeights = restoreBestWeights;
        Verbose = verbose;
    }

    /// <summary>The smallest improvement that counts.</summary>
    public double MinDelta { get; }

    /// <summary>Epochs without improvement before stopping.</summary>
    public int Patience { get; }

    /// <summary>Whether the best weights are restored when stopping.</summary>
    public bool RestoreBestWeights { get; }

    /// <summary>1 to print when training stops.</summary>
    public int Verbose { get; }

    /// <summary>The epoch (from 0) at which training was stopped, or 0 if it was not.</summary>
    public int StoppedEpoch { get; private set; }

    /// <summary>The best value seen.</summary>
    public double Best { get; private set; }

    /// <inheritdoc/>
    public override void OnTrainBegin(Dictionary<string, double> logs)
    {
        wait = 0;
        StoppedEpoch = 0;
        Best = monitor.Worst;
        bestWeights = null;
    }

    /// <inheritdoc/>
    public override void OnEpochEnd(int epoch, Dictionary<string, double> logs)
    {
        if (!monitor.TryGet(logs, nameof(EarlyStopping), out var current))
        {
            return;
        }

        // As Keras: when nothing has been best yet (the value never improves, e.g. NaN from the first epoch), the
        // first epoch's weights are the ones to restore.
        if (RestoreBestWeights && bestWeights is null)
        {
            bestWeights = TrainingModel.GetWeights();
        }

        wait++;
        if (monitor.Improves(current, Best, MinDelta))
        {
            Best = current;
            wait = 0;
            if (RestoreBestWeights)
            {
                bestWeights = TrainingModel.GetWeights();
            }

            // An improving epoch never stops training (without this, patience 0 would stop at epoch 1 regardless).
            return;
        }

        if (wait >= Patience && epoch > 0)
        {
            StoppedEpoch = epoch;
            TrainingModel.StopTraining = true;
            if (RestoreBestWeights && bestWeights is not null)
            {
                if (Verbose > 0)
                {
                    Console.WriteLine("Restoring model weights from the end of the best epoch.");
                }

                TrainingModel.SetWeights(bestWeights);
            }
        }
    }

    /// <inheritdoc/>
    public override void OnTrainEnd(Dictionary<string, double> logs)
    {
        if (StoppedEpoch > 0 && Verbose > 0)
        {
            Console.WriteLine($"Epoch {StoppedEpoch + 1:D5}: early stopping");
        }
    }
}
