namespace KerasStyle.Training.Data;

/// <summary>
/// A source of batches for <c>Fit</c>, <c>Evaluate</c> and <c>Predict</c>, for data that is read and encoded while
/// training runs (data larger than memory), as Keras 3's <c>keras.utils.PyDataset</c>: either indexed (override
/// <see cref="Count"/> and <see cref="GetBatch(int)"/>; Keras' <c>__len__</c> and <c>__getitem__</c>) or a sequence of
/// unknown length (<see cref="FromEnumerable"/>, with <c>stepsPerEpoch</c>). Batches are prepared ahead of the
/// training step on <see cref="Workers"/> background threads, at most <see cref="MaxQueueSize"/> of them waiting,
/// so reading and encoding overlap with compute; the batches reach the model in index order.
/// </summary>
public abstract class DataSource
{
    /// <summary>Creates a source.</summary>
    /// <param name="workers">Threads that prepare batches ahead (Keras' <c>workers</c>, default 1); at least 1.</param>
    /// <param name="maxQueueSize">Batches prepared ahead at most (Keras' <c>max_queue_size</c>, default 10); at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException">Either is below 1.</exception>
    protected DataSource(int workers = 1, int maxQueueSize = 10)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxQueueSize, 1);
        Workers = workers;
        MaxQueueSize = maxQueueSize;
    }

    /// <summary>Threads that prepare batches ahead of the training step.</summary>
    public int Workers { get; }

    /// <summary>The most batches prepared and waiting at any time.</summary>
    public int MaxQueueSize { get; }

    /// <summary>
    /// How long a call that ends early (a stop, an error, a cancellation) waits for the <see cref="GetBatch(int, CancellationToken)"/>
    /// calls still running before it returns without them (default 2 s; at least 0). A call that does not return in
    /// that time is abandoned: it goes on running on its worker thread (a .NET thread cannot be stopped from outside),
    /// what it returns is disposed, and the next call on this source waits up to this long again for it, then throws.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative (also <see cref="Timeout.InfiniteTimeSpan"/>): the wait must be bounded.</exception>
    public TimeSpan StopTimeout
    {
        get => stopTimeout;
        init
        {
            if (value < TimeSpan.Zero || value.TotalMilliseconds > int.MaxValue)
            {
                throw new ArgumentOutOfRangeException(nameof(StopTimeout), value, $"DataSource.StopTimeout must be between 0 and {TimeSpan.FromMilliseconds(int.MaxValue)}; the wait for a blocked GetBatch must be bounded.");
            }

            stopTimeout = value;
        }
    }

    /// <summary>The number of batches, or null when it is not known (then <c>Fit</c> needs <c>stepsPerEpoch</c>).
    /// Read once per call (and again at each epoch start of <c>Fit</c>, where it must not have changed).</summary>
    public abstract int? Count { get; }

    /// <summary>The batch at <paramref name="index"/> (0 to <see cref="Count"/> - 1); called from background threads, possibly several at once when <see cref="Workers"/> &gt; 1.</summary>
    /// <param name="index">The batch index.</param>
    public abstract DataBatch GetBatch(int index);

    /// <summary>
    /// The batch at <paramref name="index"/>, as <see cref="GetBatch(int)"/> (which the default calls), with a token
    /// that is cancelled when the call no longer needs the batch: training stopped, another batch failed, the caller's
    /// token was cancelled, or the call returned. Override it to end a slow or blocking read early (throw
    /// <see cref="OperationCanceledException"/>); a source that ignores the token is abandoned after
    /// <see cref="StopTimeout"/>.
    /// </summary>
    /// <param name="index">The batch index.</param>
    /// <param name="cancellationToken">Cancelled when the batch is no longer needed.</param>
    public virtual DataBatch GetBatch(int index, CancellationToken cancellationToken) => GetBatch(index);

    /// <summary>Called after each epoch (Keras' <c>on_epoch_end</c>), e.g. to reshuffle the samples; no batch is being prepared then.</summary>
    public virtual void OnEpochEnd()
    {
    }

    private TimeSpan stopTimeout = TimeSpan.FromSeconds(2);
    private Pass? pass;
    private int cursor;
    private Task abandoned = Task.CompletedTask;

    /// <summary>Whether a <see cref="GetBatch(int, CancellationToken)"/> of an ended call still runs (abandoned after <see cref="StopTimeout"/>).</summary>
    internal bool HasAbandoned => !abandoned.IsCompleted;

    /// <summary>Records batches that outlived their call, so that the next call does not overlap them.</summary>
    internal void Abandon(IEnumerable<Task> stillRunning) =>
        abandoned = Task.WhenAll(stillRunning.Append(abandoned)).ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);

    /// <summary>Waits up to <see cref="StopTimeout"/> for batches an earlier call abandoned, and refuses to start while one still runs (a source need not be safe for calls that overlap).</summary>
    /// <exception cref="InvalidOperationException">An abandoned <c>GetBatch</c> is still running.</exception>
    internal void RequireIdle()
    {
        if (!abandoned.Wait(StopTimeout))
        {
            throw new InvalidOperationException(
                $"DataSource {GetType().Name}: a GetBatch call of an earlier Fit, Evaluate or Predict on this {GetType().Name} is still running (it did not return within StopTimeout {StopTimeout} after that call ended, and was abandoned); a new call cannot start until it returns. Make GetBatch(index, cancellationToken) observe its token.");
        }
    }

    /// <summary>Reads <see cref="Count"/>; a source that throws, or gives a negative count, fails with <see cref="DataSourceException"/>.</summary>
    internal int? ReadCount()
    {
        int? count;
        try
        {
            count = Count;
        }
        catch (Exception e)
        {
            throw new DataSourceException($"Data source {GetType().Name}: Count threw: {e.Message}", e);
        }

        return count is < 0 ? throw new DataSourceException($"Data source {GetType().Name}: Count is {count}; expected 0 or more batches (or null when unknown).") : count;
    }

    /// <summary>
    /// The batches for one pass, in the order they are to be used, drawn as they are read (nothing is allocated per
    /// batch of <see cref="Count"/> up front). An indexed source gives 0 to steps - 1 (shuffled when asked), or, when
    /// <paramref name="carryOn"/> (training with fewer steps per epoch than batches), the next <paramref name="steps"/>
    /// batches of a pass over all of them that continues across epochs, a new (shuffled) pass starting when one ends,
    /// as Keras' epoch iterator does; a sequence source continues where it stopped. The orders are those of
    /// <see cref="Random.Shuffle{T}(T[])"/> on 0 to n - 1.
    /// </summary>
    /// <param name="steps">The batches to give.</param>
    /// <param name="shuffle">Whether to shuffle an indexed source's batches.</param>
    /// <param name="random">The draws of the shuffle (a pass keeps the one that started it).</param>
    /// <param name="count">The source's count as read when the call started; the source must still give it.</param>
    /// <param name="carryOn">Whether the batches continue a pass across epochs.</param>
    /// <exception cref="DataSourceException">Count throws or has changed.</exception>
    internal virtual IEnumerable<int> Order(int steps, bool shuffle, Random random, int? count, bool carryOn = false)
    {
        var now = ReadCount();
        if (now != count)
        {
            throw new DataSourceException($"Data source {GetType().Name}: Count changed from {count} to {now?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "null"} during the call; a source's Count must stay the same while Fit, Evaluate or Predict runs.");
        }

        var total = count ?? steps;
        if (!carryOn || steps >= total)
        {
            return new Pass(Math.Min(steps, total), shuffle ? random : null).Take(0, Math.Min(steps, total));
        }

        // The positions are taken now, so that the next epoch (or call) starts after them however many of these are read.
        var segments = new List<IEnumerable<int>>();
        for (var left = steps; left > 0;)
        {
            if (pass is null || cursor == pass.Length || pass.Length != total)
            {
                pass = new Pass(total, shuffle ? random : null);
                cursor = 0;
            }

            var take = Math.Min(left, pass.Length - cursor);
            segments.Add(pass.Take(cursor, take));
            cursor += take;
            left -= take;
        }

        return segments.SelectMany(s => s);
    }

    /// <summary>
    /// A pass over 0 to <see cref="Length"/> - 1, shuffled as <see cref="Random.Shuffle{T}(T[])"/> shuffles an array
    /// (the same draws, in the same order) but drawn position by position, keeping only the values moved out of the
    /// way: memory grows with the positions read, not with the length.
    /// </summary>
    private sealed class Pass(int length, Random? random)
    {
        private readonly Dictionary<int, int> moved = new();
        private int drawn;

        public int Length => length;

        /// <summary>Positions <paramref name="start"/> to start + count - 1; positions are read in increasing order across calls.</summary>
        public IEnumerable<int> Take(int start, int count)
        {
            for (var position = start; position < start + count; position++)
            {
                yield return At(position);
            }
        }

        private int At(int position)
        {
            if (random is null)
            {
                return position;
            }

            var value = 0;
            while (drawn <= position)
            {
                value = Draw(drawn++);
            }

            return value;
        }

        /// <summary>Step i of Fisher-Yates as Random.Shuffle does it: swap position i with a position j drawn from [i, n).</summary>
        private int Draw(int i)
        {
            var j = i < length - 1 ? random!.Next(i, length) : i;
            var atI = moved.Remove(i, out var vi) ? vi : i;
            if (j == i)
            {
                return atI;
            }

            var atJ = moved.TryGetValue(j, out var vj) ? vj : j;
            moved[j] = atI;
            return atJ;
        }
    }

    /// <summary>
    /// A source over a sequence of batches of unknown length (Keras' generator input): one enumeration runs across
    /// epochs, each epoch taking <c>stepsPerEpoch</c> batches; when the sequence ends early, training stops with a
    /// warning, as Keras' "your input ran out of data". <c>shuffle</c> does not apply.
    /// </summary>
    /// <param name="batches">The batches.</param>
    /// <param name="maxQueueSize">Batches read ahead at most (one reader thread, since a sequence is read in order).</param>
    public static DataSource FromEnumerable(IEnumerable<DataBatch> batches, int maxQueueSize = 10) => new SequenceSource(batches, maxQueueSize);

    private sealed class SequenceSource : DataSource
    {
        private readonly IEnumerable<DataBatch> batches;
        private IEnumerator<DataBatch>? enumerator;
        private int next;

        public SequenceSource(IEnumerable<DataBatch> batches, int maxQueueSize)
            : base(1, maxQueueSize)
        {
            ArgumentNullException.ThrowIfNull(batches);
            this.batches = batches;
        }

        public override int? Count => null;

        public override DataBatch GetBatch(int index)
        {
            enumerator ??= batches.GetEnumerator();
            if (!enumerator.MoveNext())
            {
                throw new EndOfDataException(index);
            }

            return enumerator.Current;
        }

        /// <summary>The next <paramref name="steps"/> positions of the sequence, taken as the feeder asks for them (int.MaxValue: to its end).</summary>
        internal override IEnumerable<int> Order(int steps, bool shuffle, Random random, int? count, bool carryOn = false)
        {
            for (var taken = 0; taken < steps; taken++)
            {
                yield return next++;
            }
        }
    }
}

/// <summary>A sequence source ran out of batches.</summary>
internal sealed class EndOfDataException(int index) : Exception($"the data source ran out of batches at batch {index}.")
{
    public int Index { get; } = index;
}
