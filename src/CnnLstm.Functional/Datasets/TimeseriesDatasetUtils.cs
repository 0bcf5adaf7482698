namespace KerasStyle.Datasets;

/// <summary>Keras' <c>keras.utils.timeseries_dataset_from_array</c> (Keras 3.16 <c>keras/src/utils/timeseries_dataset_utils.py</c>).</summary>
public static class TimeseriesDatasetUtils
{
    /// <summary>
    /// Sliding windows over a timeseries, with their targets, as a <see cref="TimeseriesDataSource"/> that
    /// <c>Fit</c>, <c>Evaluate</c> and <c>Predict</c> take. As Keras: there are
    /// <c>n = (end - start) - (sequenceLength - 1) * samplingRate</c> candidate start positions (at most
    /// <c>targets.GetLength(0)</c> when targets are given), of which every <paramref name="sequenceStride"/>-th is used
    /// (0, stride, 2 stride, ... below n); none when n ≤ 0. Window p holds data rows
    /// <c>start + p, start + p + samplingRate, ...</c> (<paramref name="sequenceLength"/> of them) and its target is
    /// <c>targets[start + p]</c>: to predict the value after each window, pass <c>data[..^L]</c> and <c>data[L..]</c>.
    /// </summary>
    /// <param name="data">The series, time on axis 0 (any rank, element type float, double, int or long; batches keep it).</param>
    /// <param name="targets">The targets, axis 0 aligned with <paramref name="data"/>'s rows (any rank); null: the
    /// batches hold inputs only (for <c>Predict</c>).</param>
    /// <param name="sequenceLength">Steps per window; at least 1 (Keras does not check it; a window of 0 steps is refused here).</param>
    /// <param name="sequenceStride">Rows between the starts of two windows (default 1); 1 to data length - 1.</param>
    /// <param name="samplingRate">Rows between two steps of a window (default 1); 1 to data length - 1.</param>
    /// <param name="batchSize">Windows per batch (default 128; the last batch may hold fewer). Keras' <c>None</c>
    /// (unbatched samples) is <see cref="TimeseriesDataSource.GetSample"/>.</param>
    /// <param name="shuffle">Whether to shuffle the windows. The first order is NumPy's
    /// <c>RandomState(seed).shuffle</c> of the start positions, as Keras draws it; Keras then passes the windows through
    /// <c>tf.data</c>'s shuffle buffer (<c>batch_size * 8</c>), whose order TensorFlow draws and which cannot be
    /// reproduced here, so the windows in each batch differ from Keras' (each window still pairs with its own target).
    /// After every epoch the windows are reshuffled (with the same generator), as Keras' buffer reshuffles each
    /// iteration.</param>
    /// <param name="seed">The shuffle seed (0 to 2^32 - 1, NumPy's range); null draws one, as Keras.</param>
    /// <param name="startIndex">The first data row used (default 0); below the data length. Keras skips its checks
    /// for 0 (Python falsiness); so does this.</param>
    /// <param name="endIndex">One past the last data row used (default: the data length); Keras requires it to be
    /// below the data length (so the last row can only be used through the default), above 0 and above
    /// <paramref name="startIndex"/>; 0 means the default's checks are skipped and no window fits, as in Keras.</param>
    /// <param name="workers">Threads that prepare batches ahead (see <see cref="Training.Data.DataSource"/>).</param>
    /// <param name="maxQueueSize">Batches prepared ahead at most.</param>
    /// <returns>The source.</returns>
    /// <exception cref="ArgumentException">The data has no time axis or an element type other than float, double, int
    /// or long; an index, stride or rate Keras refuses (Keras' messages); or a target row a window needs lies beyond
    /// <paramref name="targets"/> (Keras fails later, inside <c>tf.gather</c>).</exception>
    public static TimeseriesDataSource TimeseriesDatasetFromArray(
        Array data,
        Array? targets,
        int sequenceLength,
        int sequenceStride = 1,
        int samplingRate = 1,
        int batchSize = 128,
        bool shuffle = false,
        long? seed = null,
        int? startIndex = null,
        int? endIndex = null,
        int workers = 1,
        int maxQueueSize = 10)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Rank == 0 || (data.GetType().GetElementType() is var type && type != typeof(float) && type != typeof(double) && type != typeof(int) && type != typeof(long)))
        {
            throw new ArgumentException($"TimeseriesDatasetFromArray: data must be an array of float, double, int or long with time on axis 0; got {data.GetType().Name}.", nameof(data));
        }

        if (targets is { Rank: 0 })
        {
            throw new ArgumentException("TimeseriesDatasetFromArray: targets must have time on axis 0.", nameof(targets));
        }

        var length = data.GetLength(0);
        if (startIndex is { } s && s != 0)
        {
            if (s < 0)
            {
                throw new ArgumentException($"TimeseriesDatasetFromArray: `start_index` must be 0 or greater. Received: start_index={s}", nameof(startIndex));
            }

            if (s >= length)
            {
                throw new ArgumentException($"TimeseriesDatasetFromArray: `start_index` must be lower than the length of the data. Received: start_index={s}, for data of length {length}", nameof(startIndex));
            }
        }

        if (endIndex is { } e && e != 0)
        {
            if (startIndex is { } s2 && s2 != 0 && e <= s2)
            {
                throw new ArgumentException($"TimeseriesDatasetFromArray: `end_index` must be higher than `start_index`. Received: start_index={s2}, and end_index={e} ", nameof(endIndex));
            }

            if (e >= length)
            {
                throw new ArgumentException($"TimeseriesDatasetFromArray: `end_index` must be lower than the length of the data. Received: end_index={e}, for data of length {length}", nameof(endIndex));
            }

            if (e <= 0)
            {
                throw new ArgumentException($"TimeseriesDatasetFromArray: `end_index` must be higher than 0. Received: end_index={e}", nameof(endIndex));
            }
        }

        if (samplingRate <= 0)
        {
            throw new ArgumentException($"TimeseriesDatasetFromArray: `sampling_rate` must be higher than 0. Received: sampling_rate={samplingRate}", nameof(samplingRate));
        }

        if (samplingRate >= length)
        {
            throw new ArgumentException($"TimeseriesDatasetFromArray: `sampling_rate` must be lower than the length of the data. Received: sampling_rate={samplingRate}, for data of length {length}", nameof(samplingRate));
        }

        if (sequenceStride <= 0)
        {
            throw new ArgumentException($"TimeseriesDatasetFromArray: `sequence_stride` must be higher than 0. Received: sequence_stride={sequenceStride}", nameof(sequenceStride));
        }

        if (sequenceStride >= length)
        {
            throw new ArgumentException($"TimeseriesDatasetFromArray: `sequence_stride` must be lower than the length of the data. Received: sequence_stride={sequenceStride}, for data of length {length}", nameof(sequenceStride));
        }

        if (sequenceLength <= 0)
        {
            throw new ArgumentException($"TimeseriesDatasetFromArray: `sequence_length` must be higher than 0. Received: sequence_length={sequenceLength}", nameof(sequenceLength));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (seed is < 0 or > uint.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(seed), seed, "TimeseriesDatasetFromArray: seed must be between 0 and 2**32 - 1 (NumPy's RandomState).");
        }

        var start = startIndex ?? 0;
        var end = endIndex ?? length;
        var windows = (long)end - start - ((long)(sequenceLength - 1) * samplingRate);
        if (targets is not null)
        {
            windows = Math.Min(windows, targets.GetLength(0));
        }

        var positions = new List<int>();
        for (long p = 0; p < windows; p += sequenceStride)
        {
            positions.Add((int)p);
        }

        if (targets is not null && positions.Count > 0 && start + positions[^1] >= targets.GetLength(0))
        {
            throw new ArgumentException($"TimeseriesDatasetFromArray: the window starting at data row {start + positions[^1]} needs targets[{start + positions[^1]}], but targets has {targets.GetLength(0)} rows (targets[i] is the target of the window that starts at row i; Keras fails here inside tf.gather).", nameof(targets));
        }

        MersenneTwister? random = null;
        var order = positions.ToArray();
        if (shuffle)
        {
            random = MersenneTwister.NumPy((uint)(seed ?? Random.Shared.Next(0, 1_000_000)));
            random.NumPyShuffle(order);
        }

        return new TimeseriesDataSource(data, targets, order, sequenceLength, samplingRate, batchSize, start, random, workers, maxQueueSize);
    }
}
