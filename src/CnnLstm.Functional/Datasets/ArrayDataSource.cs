using KerasStyle.Training;
using KerasStyle.Training.Data;

namespace KerasStyle.Datasets;

/// <summary>
/// A <see cref="DataSource"/> over samples held in memory as C# arrays (axis 0 the samples), cut into batches of
/// <see cref="BatchSize"/> in order (the last may be smaller): what <see cref="DatasetUtils.SplitDataset(DataSource, SplitSize?, SplitSize?, bool, int?)"/>
/// returns, as Keras' <c>split_dataset</c> returns <c>tf.data.Dataset.from_tensor_slices(...).batch(batch_size)</c>.
/// </summary>
public sealed class ArrayDataSource : DataSource
{
    /// <summary>Creates a source.</summary>
    /// <param name="x">One array per model input, samples first.</param>
    /// <param name="y">One array per model output, samples first; null for inputs only.</param>
    /// <param name="sampleWeight">One weight per sample, or null.</param>
    /// <param name="batchSize">Samples per batch; at least 1.</param>
    /// <param name="workers">Threads that prepare batches ahead.</param>
    /// <param name="maxQueueSize">Batches prepared ahead at most.</param>
    /// <exception cref="ArgumentException">No input array, an array without a sample axis, or arrays (or weights) of different sample counts.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is below 1.</exception>
    public ArrayDataSource(IReadOnlyList<Array> x, IReadOnlyList<Array>? y = null, float[]? sampleWeight = null, int batchSize = 32, int workers = 1, int maxQueueSize = 10)
        : base(workers, maxQueueSize)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (x.Count == 0)
        {
            throw new ArgumentException("ArrayDataSource: expected at least one input array.", nameof(x));
        }

        var all = x.Concat(y ?? []).ToArray();
        if (all.Any(a => a is null || a.Rank == 0))
        {
            throw new ArgumentException("ArrayDataSource: every array must be non-null with the samples on axis 0.", nameof(x));
        }

        var n = all[0].GetLength(0);
        if (all.Any(a => a.GetLength(0) != n) || (sampleWeight is not null && sampleWeight.Length != n))
        {
            throw new ArgumentException($"ArrayDataSource: every array (and the sample weights) must have the same number of samples; got {string.Join(", ", all.Select(a => a.GetLength(0)).Concat(sampleWeight is null ? [] : [sampleWeight.Length]))}.", nameof(x));
        }

        X = x.ToArray();
        Y = y?.ToArray();
        SampleWeight = sampleWeight;
        BatchSize = batchSize;
        SampleCount = n;
    }

    /// <summary>The input arrays.</summary>
    public IReadOnlyList<Array> X { get; }

    /// <summary>The target arrays, or null.</summary>
    public IReadOnlyList<Array>? Y { get; }

    /// <summary>The per-sample weights, or null.</summary>
    public float[]? SampleWeight { get; }

    /// <summary>Samples per batch.</summary>
    public int BatchSize { get; }

    /// <summary>The number of samples.</summary>
    public int SampleCount { get; }

    /// <inheritdoc/>
    public override int? Count => (SampleCount + BatchSize - 1) / BatchSize;

    /// <inheritdoc/>
    public override DataBatch GetBatch(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count!.Value);
        var start = index * BatchSize;
        var count = Math.Min(BatchSize, SampleCount - start);
        var x = X.Select(a => SampleArrays.Range(a, start, count)).ToArray();
        var y = Y?.Select(a => SampleArrays.Range(a, start, count)).ToArray();
        return new DataBatch(x, y is null ? null : (ModelData)y, SampleWeight?[start..(start + count)]);
    }
}
