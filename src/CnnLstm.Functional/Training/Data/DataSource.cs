namespace KerasStyle.Training.Data;

/// <summary>
/// A source of batches for <c>Fit</c>, <c>Evaluate</c> and <c>Predict</c>, for data that is read and encoded while
/// training runs (data larger than memory), as Keras 3's <c>keras.utils.PyDataset</c>: either indexed (override
/// <see cref="Count"/> and <see cref="GetBatch"/>; Keras' <c>__len__</c> and <c>__getitem__</c>) or a sequence of
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

    /// <summary>The number of batches, or null when it is not known (then <c>Fit</c> needs <c>stepsPerEpoch</c>).</summary>
    public abstract int? Count { get; }

    /// <summary>The batch at <paramref name="index"/> (0 to <see cref="Count"/> - 1); called from background threads, possibly several at once when <see cref="Workers"/> &gt; 1.</summary>
    /// <param name="index">The batch index.</param>
    public abstract DataBatch GetBatch(int index);

    /// <summary>Called after each epoch (Keras' <c>on_epoch_end</c>), e.g. to reshuffle the samples; no batch is being prepared then.</summary>
    public virtual void OnEpochEnd()
    {
    }

    private int[]? pass;
    private int cursor;

    /// <summary>
    /// The batches for one pass, in the order they are to be used. An indexed source gives 0 to steps - 1 (shuffled
    /// when asked), or, when <paramref name="carryOn"/> (training with fewer steps per epoch than batches), the next
    /// <paramref name="steps"/> batches of a pass over all of them that continues across epochs, a new (shuffled)
    /// pass starting when one ends, as Keras' epoch iterator does; a sequence source continues where it stopped.
    /// </summary>
    internal virtual IEnumerable<int> Order(int steps, bool shuffle, Random random, bool carryOn = false)
    {
        var count = Count ?? steps;
        if (!carryOn || steps >= count)
        {
            var order = Enumerable.Range(0, Math.Min(steps, count)).ToArray();
            if (shuffle)
            {
                random.Shuffle(order);
            }

            return order;
        }

        var next = new int[steps];
        for (var i = 0; i < steps; i++)
        {
            if (pass is null || cursor == pass.Length)
            {
                pass = Enumerable.Range(0, count).ToArray();
                if (shuffle)
                {
                    random.Shuffle(pass);
                }

                cursor = 0;
            }

            next[i] = pass[cursor++];
        }

        return next;
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
        internal override IEnumerable<int> Order(int steps, bool shuffle, Random random, bool carryOn = false)
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
