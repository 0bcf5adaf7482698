namespace KerasStyle.Distributed;

/// <summary>
/// The process-wide distribution, as Keras 3's <c>keras.distribution.set_distribution</c> /
/// <c>keras.distribution.distribution()</c>: null (the default) trains in this process alone; a
/// <see cref="DataParallel"/> set here makes every model's <c>Fit</c> and <c>Evaluate</c> run across the processes an
/// MPI launcher started (see docs/scaling.md). A program that never sets one never loads the MPI library.
/// </summary>
public static class Distribution
{
    private static DataParallel? current;

    /// <summary>The distribution set by <see cref="SetDistribution"/>, or null (one process).</summary>
    public static DataParallel? Current => Volatile.Read(ref current);

    /// <summary>This process's rank among the distribution's processes (0 to <see cref="Size"/> - 1); 0 without a distribution.</summary>
    public static int Rank => Current?.Rank ?? 0;

    /// <summary>The number of processes training together; 1 without a distribution.</summary>
    public static int Size => Current?.Size ?? 1;

    /// <summary>
    /// Sets (or, with null, clears) the distribution used by every later <c>Fit</c> and <c>Evaluate</c>. Set it on
    /// every rank, before the first <c>Fit</c>: the ranks must make the same calls in the same order. Clearing it makes
    /// later calls run in each process alone (MPI stays initialized until the process exits).
    /// </summary>
    /// <param name="distribution">The distribution, or null.</param>
    public static void SetDistribution(DataParallel? distribution) => Volatile.Write(ref current, distribution);
}

/// <summary>
/// Data parallelism across processes, as Keras 3's <c>keras.distribution.DataParallel</c> and Horovod: every process
/// (rank) holds a whole copy of the model; in <c>Fit</c> each rank trains on its own shard of every global batch (the
/// batch size given to <c>Fit</c> is per rank, the global batch is batch size x <see cref="Size"/>), the gradients are
/// averaged over the ranks with <c>MPI_Allreduce</c> (an Embedding's by rows, gathered with <c>MPI_Allgatherv</c>,
/// unless <see cref="SparseAsDense"/>), and every rank applies the same update. Creating one initializes
/// MPI (Open MPI's <c>libmpi.so.40</c>) in a process started by an MPI launcher (<c>mpirun</c>, <c>srun</c>).
/// </summary>
public sealed class DataParallel
{
    private readonly object statisticsGate = new();
    private GradientExchangeStatistics statistics = new();

    /// <summary>Initializes MPI (once per process) and reads this process's rank and the number of ranks.</summary>
    /// <exception cref="InvalidOperationException">The process was not started by an MPI launcher (none of
    /// <c>OMPI_COMM_WORLD_SIZE</c>, <c>PMI_SIZE</c>, <c>PMIX_RANK</c> is set), or Open MPI's <c>libmpi.so.40</c> cannot be
    /// loaded; the message says what to do.</exception>
    public DataParallel()
    {
        Mpi.Initialize();
        Rank = Mpi.Rank;
        Size = Mpi.Size;
    }

    /// <summary>This process's rank, 0 to <see cref="Size"/> - 1; rank 0 prints the progress and its weights are broadcast at the start of <c>Fit</c>.</summary>
    public int Rank { get; }

    /// <summary>The number of processes (MPI's <c>MPI_COMM_WORLD</c> size).</summary>
    public int Size { get; }

    /// <summary>
    /// Whether gradients that come by rows (Embedding's) are made dense and allreduced with the rest, as Horovod's
    /// <c>DistributedOptimizer(sparse_as_dense=True)</c>. False (the default, as Horovod): each rank's touched rows and
    /// their ids are gathered from every rank (<c>MPI_Allgatherv</c>), summed by id, and handed to the optimizer by
    /// rows; a step then sends a rank's touched rows instead of the whole table. Both give the same update (the sum of
    /// the same values); set it the same on every rank, before <c>Fit</c>.
    /// </summary>
    public bool SparseAsDense { get; set; }

    /// <summary>What this rank's data-parallel training steps have exchanged since the distribution was made or
    /// <see cref="ResetExchangeStatistics"/> was called (totals over the steps).</summary>
    public GradientExchangeStatistics ExchangeStatistics
    {
        get
        {
            lock (statisticsGate)
            {
                return statistics;
            }
        }
    }

    /// <summary>Sets <see cref="ExchangeStatistics"/> back to zero.</summary>
    public void ResetExchangeStatistics()
    {
        lock (statisticsGate)
        {
            statistics = new GradientExchangeStatistics();
        }
    }

    /// <summary>Waits until every rank has called it (<c>MPI_Barrier</c>).</summary>
    public void Barrier() => Mpi.Barrier();

    /// <summary>Sums <paramref name="values"/> in place over all ranks (<c>MPI_Allreduce</c>); every rank must call it with the same length.</summary>
    /// <param name="values">This rank's values; the sums on return.</param>
    public void AllreduceSum(double[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        Mpi.Allreduce(values.AsSpan());
    }

    /// <summary>Sums single-precision <paramref name="values"/> in place over all ranks (<c>MPI_Allreduce</c> of
    /// <c>MPI_FLOAT</c>, the call <c>Fit</c> makes once a step on its gradient buffer); every rank must call it with the same length.</summary>
    /// <param name="values">This rank's values; the sums on return.</param>
    /// <exception cref="ArgumentNullException"><paramref name="values"/> is null.</exception>
    public void AllreduceSum(float[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        Mpi.Allreduce(values.AsSpan());
    }

    /// <summary>Adds one step's exchange to <see cref="ExchangeStatistics"/>.</summary>
    internal void Record(GradientExchangeStatistics step)
    {
        lock (statisticsGate)
        {
            statistics = statistics.Add(step);
        }
    }

    /// <summary>Rank 0's <paramref name="values"/> copied to every rank (<c>MPI_Bcast</c>); every rank must call it with the same length.</summary>
    /// <param name="values">Rank 0's values; overwritten on the other ranks.</param>
    public void Broadcast(double[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        Mpi.Broadcast(values.AsSpan());
    }
}

/// <summary>
/// Totals of what one rank's data-parallel training steps exchanged (<see cref="DataParallel.ExchangeStatistics"/>):
/// the allreduced buffer (dense gradients and BatchNormalization statistics) and the gradients exchanged by rows
/// (Embedding's, unless <see cref="DataParallel.SparseAsDense"/>), with the time spent in the MPI calls.
/// </summary>
public sealed record GradientExchangeStatistics
{
    /// <summary>Training steps counted.</summary>
    public long Steps { get; init; }

    /// <summary>Bytes of the buffer this rank allreduced (<c>MPI_Allreduce</c> of floats), summed over the steps.</summary>
    public long AllreduceBytes { get; init; }

    /// <summary>Milliseconds spent in <c>MPI_Allreduce</c> of the gradient buffer, summed over the steps.</summary>
    public double AllreduceMilliseconds { get; init; }

    /// <summary>Weights exchanged by rows, summed over the steps (1 a step for a model with one Embedding).</summary>
    public long RowWeights { get; init; }

    /// <summary>Rows (ids) this rank sent, summed over the steps.</summary>
    public long RowsSent { get; init; }

    /// <summary>Rows (ids) this rank received from all ranks, itself included, summed over the steps.</summary>
    public long RowsReceived { get; init; }

    /// <summary>Bytes this rank sent in the row exchange (its counts, int64 ids and float rows), summed over the steps.</summary>
    public long RowBytesSent { get; init; }

    /// <summary>Bytes this rank received in the row exchange (every rank's counts, ids and rows), summed over the steps.</summary>
    public long RowBytesReceived { get; init; }

    /// <summary>Milliseconds spent in the row exchange (<c>MPI_Allgather</c> of the counts and <c>MPI_Allgatherv</c> of ids and rows), summed over the steps.</summary>
    public double AllgatherMilliseconds { get; init; }

    /// <summary>The sum of two totals.</summary>
    internal GradientExchangeStatistics Add(GradientExchangeStatistics other) => new()
    {
        Steps = Steps + other.Steps,
        AllreduceBytes = AllreduceBytes + other.AllreduceBytes,
        AllreduceMilliseconds = AllreduceMilliseconds + other.AllreduceMilliseconds,
        RowWeights = RowWeights + other.RowWeights,
        RowsSent = RowsSent + other.RowsSent,
        RowsReceived = RowsReceived + other.RowsReceived,
        RowBytesSent = RowBytesSent + other.RowBytesSent,
        RowBytesReceived = RowBytesReceived + other.RowBytesReceived,
        AllgatherMilliseconds = AllgatherMilliseconds + other.AllgatherMilliseconds,
    };
}
