namespace KerasStyle.Training.Data;

/// <summary>A <see cref="DataSource"/> failed to supply a batch, or supplied one that does not fit the model; the inner exception is the cause.</summary>
public sealed class DataSourceException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="batchIndex">The batch that failed.</param>
    /// <param name="inner">What the source (or the check of its batch) threw.</param>
    public DataSourceException(int batchIndex, Exception inner)
        : base($"Data source batch {batchIndex} failed: {inner.Message}", inner)
    {
        BatchIndex = batchIndex;
    }

    /// <summary>The index of the batch that failed.</summary>
    public int BatchIndex { get; }
}
