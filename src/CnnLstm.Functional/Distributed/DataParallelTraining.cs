using System.Runtime.InteropServices;
using KerasStyle.Engine;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Training;
using KerasStyle.Training.Callbacks;
using KerasStyle.Training.Optimizers;
using static TorchSharp.torch;

namespace KerasStyle.Distributed;

/// <summary>
/// What the <see cref="Trainer"/>'s loops do across the ranks of a <see cref="DataParallel"/> distribution: rank 0's
/// weights and optimizer state broadcast at the start of <c>Fit</c>, one shared shuffle seed, the gradients of every
/// step averaged over the ranks (weighted by each rank's share of the global batch, so that the result is the gradient
/// of the whole global batch), and the logged statistics summed over the ranks.
/// </summary>
internal static unsafe class DataParallelTraining
{
    /// <summary>Copies rank 0's weights (trainable and not) and optimizer state (step count, learning rate, slots) to every rank.</summary>
    public static void BroadcastModel(Model model)
    {
        using var noGrad = no_grad();
        foreach (var weight in model.TrainableWeights.Concat(model.NonTrainableWeights))
        {
            BroadcastTensor(weight.Variable);
        }

        if (model.Optimizer is not { } optimizer)
        {
            return;
        }

        var trainable = model.TrainableWeights;
        var own = optimizer.ExportState(trainable);
        var header = new[] { own.Iterations, BitConverter.DoubleToInt64Bits(own.LearningRate), own.Slots is null ? 0L : 1L };
        Mpi.Broadcast(header.AsSpan());
        var slotCount = optimizer.KerasSlotNames.Count;
        WeightArray[][]? slots = null;
        if (header[2] == 1)
        {
            slots = trainable.Select((w, i) => Enumerable.Range(0, slotCount)
                .Select(s => own.Slots is { } mine ? mine[i][s] : new WeightArray(w.Shape.ToArray(), new float[w.Count])).ToArray()).ToArray();
            foreach (var slot in slots.SelectMany(s => s))
            {
                Mpi.Broadcast(slot.Data.AsSpan());
            }
        }

        if (Mpi.Rank != 0)
        {
            optimizer.ImportState(trainable, new OptimizerState(header[0], BitConverter.Int64BitsToDouble(header[1]), slots, own.InterleavedSlots, own.LeadingSlots, own.Extras));
        }
    }

    /// <summary>
    /// Whether <paramref name="callback"/> runs on rank 0 only: the callbacks that print or write files
    /// (<see cref="ProgbarLogger"/>, <see cref="ModelCheckpoint"/>, <see cref="CSVLogger"/>, <see cref="TensorBoard"/>,
    /// <see cref="BackupAndRestore"/>); their decisions do not change the training, and rank 0's restore reaches the
    /// other ranks through <see cref="ShareRestore"/>.
    /// </summary>
    public static bool RankZeroOnly(ICallback callback) => callback is ProgbarLogger or ModelCheckpoint or CSVLogger or TensorBoard or BackupAndRestore;

    /// <summary>
    /// After the callbacks' <c>OnTrainBegin</c>: the epoch rank 0 resumes from (a <see cref="BackupAndRestore"/> it
    /// restored) becomes every rank's, with rank 0's restored weights and optimizer state.
    /// </summary>
    public static void ShareRestore(Model model)
    {
        var resume = new[] { (long)(model.ResumeEpoch ?? -1) };
        Mpi.Broadcast(resume.AsSpan());
        if (resume[0] >= 0)
        {
            model.ResumeEpoch = (int)resume[0];
            BroadcastModel(model);
        }
    }

    /// <summary>A seed drawn from <paramref name="random"/> on every rank, rank 0's kept: the same shuffle on all ranks.</summary>
    public static ulong SharedSeed(Generator random)
    {
        var seed = new[] { RandomStreams.NextSeed(random) };
        Mpi.Broadcast(seed.AsSpan());
        return seed[0];
    }

    /// <summary>
    /// After this rank's backward pass: the gradient of every trainable weight becomes the gradient of the global batch
    /// (each rank's gradient times its sample count, summed over the ranks, divided by the global count), the moving
    /// statistics of trainable layers (BatchNormalization) the same weighted mean, and the logged values those of the
    /// global batch. A stand-in batch (a rank without samples in the last global batch) counts zero.
    /// </summary>
    /// <remarks>
    /// A weight whose gradient comes by rows on every rank (Embedding, with no dense gradient such as a regularizer's)
    /// is exchanged as rows, as Horovod exchanges <c>IndexedSlices</c>: every rank's (id, row x count) pairs are
    /// gathered with <c>MPI_Allgather</c> (the counts) and <c>MPI_Allgatherv</c> (ids, rows), the rows of equal ids
    /// summed in rank order and divided by the global count, and the result handed to the optimizer by rows (its row
    /// path, or the dense gradient built from them). Unless <see cref="DataParallel.SparseAsDense"/>; then, and for
    /// every other weight, the dense gradients and statistics go into one contiguous buffer summed by one
    /// <c>MPI_Allreduce</c>.
    /// </remarks>
    /// <param name="parallel">The distribution (its <see cref="DataParallel.SparseAsDense"/> and exchange statistics).</param>
    /// <param name="model">The model trained.</param>
    /// <param name="trainable">The trainable weights, whose gradients (dense and by rows) the backward pass left.</param>
    /// <param name="batch">This rank's batch.</param>
    /// <param name="values">This rank's logged values.</param>
    /// <returns>The global logged values.</returns>
    public static Dictionary<string, LoggedValue> ReduceStep(DataParallel parallel, Model model, IReadOnlyList<LayerWeight> trainable, DataSet batch, Dictionary<string, LoggedValue> values)
    {
        var local = batch.StandIn ? 0.0 : batch.Count;
        var state = model.NonTrainableWeights.Where(w => !w.Learned && w.Layer.Trainable && w.Variable.dtype == ScalarType.Float32).ToArray();
        var n = trainable.Count;

        // Head of the statistics: the sample count, then per weight whether this rank has a gradient, then whether it
        // has a dense one (which rules out the exchange by rows for that weight on every rank).
        var counts = new double[1 + (2 * n)];
        counts[0] = local;
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var dense = new Tensor?[n];
        var rows = new (Tensor Ids, Tensor Grad)?[n];
        for (var i = 0; i < n; i++)
        {
            dense[i] = trainable[i].Variable.grad;
            rows[i] = trainable[i].RowGradient();
            counts[1 + i] = dense[i] is null && rows[i] is null ? 0 : 1;
            counts[1 + n + i] = dense[i] is null ? 0 : 1;
        }

        var names = values.Keys.OrderBy(k => k, StringComparer.Ordinal).ToArray();
        var statistics = Pack(values, names, counts, local > 0);
        Mpi.Allreduce(statistics.AsSpan());
        var total = statistics[0];
        var byRows = Enumerable.Range(0, n).Select(i => !parallel.SparseAsDense && statistics[1 + i] > 0 && statistics[1 + n + i] == 0
            && trainable[i].Variable.dim() == 2 && trainable[i].Variable.dtype == ScalarType.Float32).ToArray();

        var pieces = new List<Tensor>();
        for (var i = 0; i < n; i++)
        {
            if (byRows[i])
            {
                continue;
            }

            var gradient = trainable[i].DenseGradient(dense[i], rows[i]);
            pieces.Add(gradient is null ? zeros(trainable[i].Variable.numel()) : Scalars.With(local, s => gradient.reshape(-1).mul(s)));
        }

        pieces.AddRange(state.Select(w => Scalars.With(local, s => w.Variable.reshape(-1).mul(s))));
        var exchange = new GradientExchangeStatistics { Steps = 1 };
        if (pieces.Count > 0)
        {
            using var bucket = cat(pieces, 0).contiguous();
            var clock = System.Diagnostics.Stopwatch.StartNew();
            Mpi.AllreduceFloats(Address(bucket), bucket.numel());
            exchange = exchange with { AllreduceBytes = bucket.numel() * sizeof(float), AllreduceMilliseconds = clock.Elapsed.TotalMilliseconds };
            long offset = 0;
            for (var i = 0; i < n; i++)
            {
                if (byRows[i])
                {
                    continue;
                }

                var variable = trainable[i].Variable;
                var size = variable.numel();
                var mean = Scalars.With(total, s => bucket.narrow(0, offset, size).div(s)).view(variable.shape);
                trainable[i].ReplaceGradient(statistics[1 + i] > 0 ? mean.MoveToOuterDisposeScope() : null);
                offset += size;
            }

            foreach (var weight in state)
            {
                var variable = weight.Variable;
                var size = variable.numel();
                variable.copy_(Scalars.With(total, s => bucket.narrow(0, offset, size).div(s)).view(variable.shape));
                offset += size;
            }
        }

        var sparse = Enumerable.Range(0, n).Where(i => byRows[i]).ToArray();
        if (sparse.Length > 0)
        {
            exchange = ExchangeRows(trainable, sparse, rows, local, total, exchange);
        }

        parallel.Record(exchange);
        return Unpack(values, names, statistics, 1 + (2 * n));
    }

    /// <summary>
    /// The weights <paramref name="sparse"/> exchanged by rows: this rank's distinct ids and rows x
    /// <paramref name="local"/>, gathered from every rank (one <c>MPI_Allgather</c> of the per-weight counts, one
    /// <c>MPI_Allgatherv</c> of the ids, one of the rows), the rows of equal ids summed in rank order (the dense
    /// allreduce's sum) and divided by <paramref name="total"/>, set as each weight's gradient by rows.
    /// </summary>
    private static GradientExchangeStatistics ExchangeRows(IReadOnlyList<LayerWeight> trainable, int[] sparse, (Tensor Ids, Tensor Grad)?[] rows, double local, double total, GradientExchangeStatistics exchange)
    {
        var k = sparse.Length;
        var widths = sparse.Select(i => trainable[i].Variable.shape[1]).ToArray();
        var mine = new long[k];
        var ids = new List<Tensor>();
        var grads = new List<Tensor>();
        for (var j = 0; j < k; j++)
        {
            if (rows[sparse[j]] is { } r)
            {
                mine[j] = r.Ids.shape[0];
                ids.Add(r.Ids.to_type(ScalarType.Int64));
                grads.Add(Scalars.With(local, s => r.Grad.reshape(-1).mul(s)));
            }
        }

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var everyCount = new long[k * Mpi.Size];
        Mpi.Allgather(mine, everyCount);
        var idCounts = new long[Mpi.Size];
        var valueCounts = new long[Mpi.Size];
        for (var r = 0; r < Mpi.Size; r++)
        {
            for (var j = 0; j < k; j++)
            {
                idCounts[r] += everyCount[(r * k) + j];
                valueCounts[r] += everyCount[(r * k) + j] * widths[j];
            }
        }

        var idTotal = idCounts.Sum();
        using var sendIds = ids.Count > 0 ? cat(ids, 0).contiguous() : empty(0, dtype: ScalarType.Int64);
        using var sendRows = grads.Count > 0 ? cat(grads, 0).contiguous() : empty(0, dtype: ScalarType.Float32);
        using var gatheredIds = empty(idTotal, dtype: ScalarType.Int64);
        using var gatheredRows = empty(valueCounts.Sum(), dtype: ScalarType.Float32);
        if (idTotal > 0)
        {
            Mpi.Allgatherv(MemoryMarshal.Cast<byte, long>(sendIds.bytes), MemoryMarshal.Cast<byte, long>(gatheredIds.bytes), idCounts);
            Mpi.AllgathervFloats(Address(sendRows), sendRows.numel(), Address(gatheredRows), gatheredRows.numel(), valueCounts);
        }

        var milliseconds = clock.Elapsed.TotalMilliseconds;
        var sent = (k * sizeof(long)) + (sendIds.numel() * sizeof(long)) + (sendRows.numel() * sizeof(float));
        var received = (everyCount.Length * sizeof(long)) + (idTotal * sizeof(long)) + (gatheredRows.numel() * sizeof(float));

        // Rank r's block holds its weights' ids (rows) one weight after another; weight j's part of every block, in rank order.
        long idOffset = 0, valueOffset = 0;
        var idParts = Enumerable.Range(0, k).Select(_ => new List<Tensor>()).ToArray();
        var rowParts = Enumerable.Range(0, k).Select(_ => new List<Tensor>()).ToArray();
        for (var r = 0; r < Mpi.Size; r++)
        {
            for (var j = 0; j < k; j++)
            {
                var count = everyCount[(r * k) + j];
                idParts[j].Add(gatheredIds.narrow(0, idOffset, count));
                rowParts[j].Add(gatheredRows.narrow(0, valueOffset, count * widths[j]).view(count, widths[j]));
                idOffset += count;
                valueOffset += count * widths[j];
            }
        }

        for (var j = 0; j < k; j++)
        {
            var weight = trainable[sparse[j]];
            // Rank after rank, each id's rows in order: the same sum as one rank's lookups.
            var (distinct, summed) = weight.SumRowGradients(idParts[j].Zip(rowParts[j]).ToList());
            var mean = Scalars.With(total, s => summed.div(s)).to_type(weight.Variable.dtype).contiguous();
            weight.ReplaceRowGradient(distinct.contiguous().MoveToOuterDisposeScope(), mean.MoveToOuterDisposeScope());
        }

        return exchange with
        {
            RowWeights = k,
            RowsSent = mine.Sum(),
            RowsReceived = idTotal,
            RowBytesSent = sent,
            RowBytesReceived = received,
            AllgatherMilliseconds = milliseconds,
        };
    }

    /// <summary>The logged values of one evaluation batch summed over the ranks (a stand-in batch counts zero).</summary>
    public static Dictionary<string, LoggedValue> ReduceValues(DataSet batch, Dictionary<string, LoggedValue> values)
    {
        var names = values.Keys.OrderBy(n => n, StringComparer.Ordinal).ToArray();
        var statistics = Pack(values, names, Array.Empty<double>(), !batch.StandIn);
        Mpi.Allreduce(statistics.AsSpan());
        return Unpack(values, names, statistics, 0);
    }

    /// <summary>
    /// Ends every rank of the job (<c>MPI_Abort</c>, exit code 1) after writing to standard error which rank's
    /// <paramref name="what"/> threw what: a rank that stopped making the collective calls would leave the others
    /// waiting forever. Returns false only when the abort call itself returned.
    /// </summary>
    public static bool AbortJob(string what, Exception error)
    {
        Console.Error.WriteLine($"KerasStyle DataParallel: rank {Mpi.Rank} of {Mpi.Size}: {what} threw {error.GetType().Name}: {error.Message}");
        Console.Error.WriteLine(error.StackTrace);
        Console.Error.WriteLine($"KerasStyle DataParallel: aborting all {Mpi.Size} ranks (MPI_Abort).");
        Console.Error.Flush();
        Mpi.Abort(1);
        return false;
    }

    private static double[] Pack(Dictionary<string, LoggedValue> values, string[] names, double[] head, bool counts)
    {
        var result = new List<double>(head);
        foreach (var name in names)
        {
            result.AddRange(values[name].Statistics.Select(s => counts ? s : 0.0));
        }

        return result.ToArray();
    }

    private static Dictionary<string, LoggedValue> Unpack(Dictionary<string, LoggedValue> values, string[] names, double[] statistics, int offset)
    {
        var result = new Dictionary<string, LoggedValue>(StringComparer.Ordinal);
        foreach (var (key, value) in values)
        {
            result[key] = default;
        }

        foreach (var name in names)
        {
            var length = values[name].Statistics.Length;
            var global = statistics.AsSpan(offset, length).ToArray();
            offset += length;
            result[name] = new LoggedValue(values[name].Result(global), global, values[name].Result);
        }

        return result;
    }

    private static void BroadcastTensor(Tensor variable)
    {
        if (variable.is_contiguous())
        {
            Mpi.Broadcast(Address(variable), variable.numel() * variable.element_size());
            return;
        }

        using var copy = variable.contiguous();
        Mpi.Broadcast(Address(copy), copy.numel() * copy.element_size());
        variable.copy_(copy);
    }

    private static IntPtr Address(Tensor tensor)
    {
        fixed (byte* data = tensor.bytes)
        {
            return (IntPtr)data;
        }
    }
}
