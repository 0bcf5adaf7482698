namespace KerasStyle.Training.Data;

/// <summary>
/// A <see cref="DataSource"/> failed to supply a batch, or supplied one that does not fit the model, or failed outside
/// a batch (its <see cref="DataSource.Count"/> threw or changed, its <see cref="DataSource.OnEpochEnd"/> threw); the
/// inner exception, when there is one, is the cause.
/// </summary>
public sealed class DataSourceException : Exception
{
    /// <summary>Creates the exception for one batch.</summary>
    /// <param name="batchIndex">The batch that failed.</param>
    /// <param name="inner">What the source (or the check of its batch) threw.</param>
    public DataSourceException(int batchIndex, Exception inner)
        : base($"Data source batch {batchIndex} failed: {inner?.Message}", inner)
    {
        BatchIndex = batchIndex;
    }

    /// <summary>Creates the exception for a failure outside a batch (<see cref="BatchIndex"/> is -1).</summary>
    /// <param name="message">What failed.</param>
    /// <param name="inner">The cause, or null.</param>
    public DataSourceException(string message, Exception? inner = null)
        : base(message, inner)
    {
        BatchIndex = -1;
    }

    /// <summary>The index of the batch that failed, or -1 when the failure is not one batch's.</summary>
    public int BatchIndex { get; }
}
