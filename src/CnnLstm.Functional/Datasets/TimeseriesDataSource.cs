using KerasStyle.Training.Data;

namespace KerasStyle.Datasets;

/// <summary>
/// Keras' <c>timeseries_dataset_from_array</c> as a <see cref="DataSource"/> (made by
/// <see cref="TimeseriesDatasetUtils.TimeseriesDatasetFromArray"/>): sliding windows over an array whose axis 0 is
/// time, with the target of each window, in batches. Window w starts at data row
/// <c>startIndex + p</c> for its start position <c>p</c> (0, <c>sequenceStride</c>, 2 <c>sequenceStride</c>, ...) and
/// holds rows <c>startIndex + p + k * samplingRate</c> for k = 0 to <c>sequenceLength</c> - 1; its target is
/// <c>targets[startIndex + p]</c>. Batches hold the data's element type: inputs (batch, sequenceLength, features...),
/// targets (batch, target features...).
/// </summary>
public sealed class TimeseriesDataSource : DataSource
{
    private readonly Array data;
    private readonly Array? targets;
    private readonly int[] positions;
    private readonly MersenneTwister? random;

    internal TimeseriesDataSource(Array data, Array? targets, int[] positions, int sequenceLength, int samplingRate, int batchSize, int startIndex, MersenneTwister? random, int workers, int maxQueueSize)
        : base(workers, maxQueueSize)
    {
        this.data = data;
        this.targets = targets;
        this.positions = positions;
        this.random = random;
        SequenceLength = sequenceLength;
        SamplingRate = samplingRate;
        BatchSize = batchSize;
        StartIndex = startIndex;
    }

    /// <summary>Steps per window.</summary>
    public int SequenceLength { get; }

    /// <summary>Rows between two steps of a window.</summary>
    public int SamplingRate { get; }

    /// <summary>Windows per batch (the last batch may hold fewer).</summary>
    public int BatchSize { get; }

    /// <summary>The first data row used.</summary>
    public int StartIndex { get; }

    /// <summary>The number of windows.</summary>
    public int SampleCount => positions.Length;

    /// <summary>Whether the windows are shuffled (and reshuffled after every epoch).</summary>
    public bool Shuffled => random is not null;

    /// <summary>The data row where each window starts, in the current order (window i of the epoch is batch
    /// i / <see cref="BatchSize"/>, row i % <see cref="BatchSize"/>).</summary>
    public IReadOnlyList<int> WindowStarts => positions.Select(p => StartIndex + p).ToArray();

    /// <inheritdoc/>
    public override int? Count => (positions.Length + BatchSize - 1) / BatchSize;

    /// <inheritdoc/>
    public override DataBatch GetBatch(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count!.Value);
        var first = index * BatchSize;
        var count = Math.Min(BatchSize, positions.Length - first);
        var (x, y) = Windows(first, count);
        return y is null ? new DataBatch(x) : new DataBatch(x, y);
    }

    /// <summary>
    /// Window <paramref name="index"/> of the current order without a batch axis, as Keras yields samples when
    /// <c>batch_size=None</c>: inputs (sequenceLength, features...) and the target (target features...; a 1-element
    /// array for scalar targets), or null without targets.
    /// </summary>
    /// <param name="index">0 to <see cref="SampleCount"/> - 1.</param>
    /// <returns>The window and its target.</returns>
    public (Array X, Array? Y) GetSample(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, positions.Length);
        var (x, y) = Windows(index, 1);
        return (DropFirst(x), y is null ? null : y.Rank == 1 ? y : DropFirst(y));
    }

    /// <summary>Reshuffles the windows (when shuffled), as Keras' <c>tf.data</c> shuffle draws a new order every epoch.</summary>
    public override void OnEpochEnd() => random?.NumPyShuffle(positions);

    private (Array X, Array? Y) Windows(int first, int count)
    {
        var rowLength = SampleArrays.RowLength(data);
        var shape = SampleArrays.Shape(data);
        var xShape = new[] { count, SequenceLength }.Concat(shape[1..]).ToArray();
        var x = Array.CreateInstance(data.GetType().GetElementType()!, xShape);
        for (var s = 0; s < count; s++)
        {
            var start = StartIndex + positions[first + s];
            for (var k = 0; k < SequenceLength; k++)
            {
                SampleArrays.Copy(data, (long)(start + (k * SamplingRate)) * rowLength, x, ((long)s * SequenceLength + k) * rowLength, rowLength);
            }
        }

        if (targets is null)
        {
            return (x, null);
        }

        var rows = Enumerable.Range(first, count).Select(i => StartIndex + positions[i]).ToArray();
        return (x, SampleArrays.Take(targets, rows));
    }

    private static Array DropFirst(Array a)
    {
        var shape = SampleArrays.Shape(a)[1..];
        var result = Array.CreateInstance(a.GetType().GetElementType()!, shape);
        SampleArrays.Copy(a, 0, result, 0, a.Length);
        return result;
    }
}
