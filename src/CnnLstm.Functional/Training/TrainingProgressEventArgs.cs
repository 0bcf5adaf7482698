namespace KerasStyle.Training;

/// <summary>Progress of <c>Fit</c>, raised after each batch and each epoch.</summary>
public sealed class TrainingProgressEventArgs : EventArgs
{
    internal TrainingProgressEventArgs(int epoch, int epochs, int batch, int steps, bool epochEnd, IReadOnlyDictionary<string, double> logs)
    {
        Epoch = epoch;
        Epochs = epochs;
        Batch = batch;
        Steps = steps;
        EpochEnd = epochEnd;
        Logs = logs;
    }

    /// <summary>The epoch index, from 0.</summary>
    public int Epoch { get; }

    /// <summary>The total number of epochs asked for.</summary>
    public int Epochs { get; }

    /// <summary>The batch index within the epoch, from 0 (the last batch at epoch end).</summary>
    public int Batch { get; }

    /// <summary>Batches per epoch.</summary>
    public int Steps { get; }

    /// <summary>True for the event at the end of an epoch (logs hold epoch means and validation values).</summary>
    public bool EpochEnd { get; }

    /// <summary>A copy of the logs: the batch's values, or the epoch's at epoch end.</summary>
    public IReadOnlyDictionary<string, double> Logs { get; }
}
