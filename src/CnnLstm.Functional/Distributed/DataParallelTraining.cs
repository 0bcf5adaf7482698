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
            optimizer.ImportState(trainable, new OptimizerState(header[0], BitConverter.Int64BitsToDouble(header[1]), slots, own.InterleavedSlots));
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
    /// (each rank's gradient times its sample count, summed over the ranks with one <c>MPI_Allreduce</c> of one
    /// contiguous buffer, divided by the global count), the moving statistics of trainable layers (BatchNormalization)
    /// the same weighted mean, and the logged values those of the global batch. A stand-in batch (a rank without
    /// samples in the last global batch) counts zero.
    /// </summary>
    /// <param name="model">The model trained.</param>
    /// <param name="trainable">The trainable weights, whose gradients (dense and by rows) the backward pass left.</param>
    /// <param name="batch">This rank's batch.</param>
    /// <param name="values">This rank's logged values.</param>
    /// <returns>The global logged values.</returns>
    public static Dictionary<string, LoggedValue> ReduceStep(Model model, IReadOnlyList<LayerWeight> trainable, DataSet batch, Dictionary<string, LoggedValue> values)
    {
        var local = batch.StandIn ? 0.0 : batch.Count;
        var state = model.NonTrainableWeights.Where(w => !w.Learned && w.Layer.Trainable && w.Variable.dtype == ScalarType.Float32).ToArray();
        var counts = new double[1 + trainable.Count];
        counts[0] = local;
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var pieces = new List<Tensor>();
        for (var i = 0; i < trainable.Count; i++)
        {
            var weight = trainable[i];
            var gradient = weight.DenseGradient(weight.Variable.grad, weight.RowGradient());
            counts[1 + i] = gradient is null ? 0 : 1;
            pieces.Add(gradient is null ? zeros(weight.Variable.numel()) : Scalars.With(local, s => gradient.reshape(-1).mul(s)));
        }

        pieces.AddRange(state.Select(w => Scalars.With(local, s => w.Variable.reshape(-1).mul(s))));
        var names = values.Keys.OrderBy(n => n, StringComparer.Ordinal).ToArray();
        var statistics = Pack(values, names, counts, local > 0);
        Mpi.Allreduce(statistics.AsSpan());
        var total = statistics[0];
        if (pieces.Count > 0)
        {
            using var bucket = cat(pieces, 0).contiguous();
            Mpi.AllreduceFloats(Address(bucket), bucket.numel());
            long offset = 0;
            for (var i = 0; i < trainable.Count; i++)
            {
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

        return Unpack(values, names, statistics, 1 + trainable.Count);
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
