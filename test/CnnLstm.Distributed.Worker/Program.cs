// The program the distributed tests (test/CnnLstm.Functional.Tests/Distributed/) start under mpirun, and alone for
// the one-process reference: it trains a small model without dropout on fixed data and writes the weights, the
// history and an evaluation as JSON.
//
//   train <sgd|adam|embedding-adam|embedding-sgd|embedding-rmsprop> <dist|single> <shuffle 0|1> <output prefix>
//     sgd, adam: a Dense model on 3 features. embedding-*: an Embedding(40, 4) over 6 token ids, averaged, then a
//     Dense softmax (its gradient comes by rows; Adam has a row path, SGD and RMSprop do not).
//     dist:   sets a DataParallel distribution, batch size 4 per rank; writes <prefix>.rank<r>.json.
//             Rank 1 first trains alone on other data, so its weights and optimizer state differ from rank 0's
//             until Fit broadcasts rank 0's.
//     single: one process, batch size 8 (the global batch of 2 ranks); writes <prefix>.single.json.
//   train ... <prefix> throw: as dist, but rank 1's callback throws at the end of epoch 2 (the job must abort).
//   train ... <prefix> backup: every rank is given BackupAndRestore(<prefix>.backup<rank>), ModelCheckpoint
//     (<prefix>.ckpt<rank>.weights.h5) and CSVLogger(<prefix>.log<rank>.csv); only rank 0 runs them.
//   train ... <prefix> backup-throw: as backup, and rank 0 throws at the end of epoch 2, after its backup.
//   train ... <prefix> dense: as dist, with DataParallel.SparseAsDense (the Embedding's rows made dense and allreduced).
//   The rank files also hold DataParallel.ExchangeStatistics after Fit (what the training steps exchanged).
//   ask     creates a DataParallel and prints what it threw (exit 3), or "initialized" (exit 0).
//   source | stream | onbatch | files | bn: see ShardCases.cs.
//   allgatherv: rank r sends r + 1 int64 values (100 r + i) and as many floats (r + i / 10); every rank prints the
//     gathered counts, ids and floats. allgatherv-overflow: counts whose total passes int.MaxValue; prints the error.
//   allreduce: every rank sums {rank + 1, rank / 2, 0.001} as floats (AllreduceSum(float[])) and prints the sums.
using System.Globalization;
using System.Text.Json;
using KerasStyle.Distributed;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Training.Optimizers;

if (args.Length >= 1 && ShardCases.Handles(args[0]))
{
    return ShardCases.Run(args);
}

if (args.Length == 1 && args[0] == "ask")
{
    try
    {
        _ = new DataParallel();
        Console.WriteLine("initialized");
        return 0;
    }
    catch (Exception e)
    {
        Console.WriteLine($"{e.GetType().Name}: {e.Message}");
        return 3;
    }
}

if (args.Length == 1 && args[0] == "allreduce")
{
    var parallel = new DataParallel();
    var values = new[] { parallel.Rank + 1f, parallel.Rank / 2f, 0.001f };
    parallel.AllreduceSum(values);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"rank {parallel.Rank} of {parallel.Size} floats {values[0]:R} {values[1]:R} {values[2]:R}"));
    return 0;
}

if (args.Length == 1 && args[0] is "allgatherv" or "allgatherv-overflow")
{
    var parallel = new DataParallel();
    var (me, size) = (parallel.Rank, parallel.Size);
    var counts = new long[size];
    KerasStyle.Distributed.Mpi.Allgather(new[] { me + 1L }, counts);
    if (args[0] == "allgatherv-overflow")
    {
        // Every rank claims one value more than int.MaxValue in total; the check runs before any MPI call.
        var claimed = counts.Select((c, r) => r == 0 ? (long)int.MaxValue : c).ToArray();
        try
        {
            KerasStyle.Distributed.Mpi.AllgathervFloats(IntPtr.Zero, claimed[me], IntPtr.Zero, claimed.Sum(), claimed);
            Console.WriteLine($"rank {me} no error");
        }
        catch (InvalidOperationException e)
        {
            Console.WriteLine($"rank {me} {e.GetType().Name}: {e.Message}");
        }

        return 0;
    }

    var ids = Enumerable.Range(0, me + 1).Select(i => (100L * me) + i).ToArray();
    var gatheredIds = new long[counts.Sum()];
    KerasStyle.Distributed.Mpi.Allgatherv(ids, gatheredIds, counts);
    var floats = Enumerable.Range(0, me + 1).Select(i => me + (i / 10f)).ToArray();
    var gatheredFloats = new float[counts.Sum()];
    var pinnedFrom = System.Runtime.InteropServices.GCHandle.Alloc(floats, System.Runtime.InteropServices.GCHandleType.Pinned);
    var pinnedTo = System.Runtime.InteropServices.GCHandle.Alloc(gatheredFloats, System.Runtime.InteropServices.GCHandleType.Pinned);
    try
    {
        KerasStyle.Distributed.Mpi.AllgathervFloats(pinnedFrom.AddrOfPinnedObject(), floats.Length, pinnedTo.AddrOfPinnedObject(), gatheredFloats.Length, counts);
    }
    finally
    {
        pinnedFrom.Free();
        pinnedTo.Free();
    }

    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"rank {me} of {size} counts {string.Join(',', counts)} ids {string.Join(',', gatheredIds)} floats {string.Join(',', gatheredFloats.Select(f => f.ToString("R", CultureInfo.InvariantCulture)))}"));
    return 0;
}

if (args.Length is not (5 or 6) || args[0] != "train" || (args.Length == 6 && args[5] is not ("throw" or "backup" or "backup-throw" or "dense")))
{
    Console.Error.WriteLine("usage: train <sgd|adam|embedding-adam|embedding-sgd|embedding-rmsprop> <dist|single> <shuffle 0|1> <output prefix> [throw|backup|backup-throw|dense] | ask | allreduce | allgatherv | allgatherv-overflow");
    return 2;
}

var optimizerName = args[1];
var distributed = args[2] == "dist";
var shuffle = args[3] == "1";
var prefix = args[4];
var extra = args.Length == 6 ? args[5] : string.Empty;
var embedding = optimizerName.StartsWith("embedding-", StringComparison.Ordinal);
if (embedding)
{
    optimizerName = optimizerName["embedding-".Length..];
}

Model Build(float offset)
{
    var input = embedding ? new Input(new[] { 6 }, dtype: KerasStyle.Graph.DType.Int64) : new Input(new[] { 3 });
    var hidden = embedding
        ? new GlobalAveragePooling1D().Call(new Embedding(40, 4).Call(input))
        : new Dense(5, activation: "tanh").Call(input);
    var model = new Model(input, new Dense(2, activation: "softmax").Call(hidden));
    var weights = model.GetWeights().Select((w, k) => new WeightArray(w.Shape.ToArray(),
        w.Data.Select((_, i) => (float)(Math.Sin((i * 0.7) + (k * 1.3) + offset) * 0.5)).ToArray())).ToList();
    model.SetWeights(weights);
    Optimizer optimizer = optimizerName switch
    {
        "adam" => new Adam(learningRate: 0.01),
        "rmsprop" => new RMSprop(learningRate: 0.01),
        _ => new SGD(learningRate: 0.1, momentum: 0.5),
    };
    model.Compile(optimizer, "sparse_categorical_crossentropy", new[] { "accuracy" });
    return model;
}

(Array X, float[] Y) Data(int count, int seed) => embedding ? Tokens(count, seed) : Features(count, seed);

// Token ids in [0, 40): ids repeat within and across samples, so ranks touch overlapping rows.
(Array X, float[] Y) Tokens(int count, int seed)
{
    var x = new long[count, 6];
    var y = new float[count];
    for (var i = 0; i < count; i++)
    {
        for (var j = 0; j < 6; j++)
        {
            x[i, j] = ((i * 7) + (j * 5) + (seed * 3) + (i * j)) % 40;
        }

        y[i] = (x[i, 0] + x[i, 3]) % 3 == 0 ? 1 : 0;
    }

    return (x, y);
}

(Array X, float[] Y) Features(int count, int seed)
{
    var x = new float[count, 3];
    var y = new float[count];
    for (var i = 0; i < count; i++)
    {
        for (var j = 0; j < 3; j++)
        {
            x[i, j] = (float)Math.Cos((i * 1.7) + (j * 0.9) + seed);
        }

        y[i] = x[i, 0] + (0.5f * x[i, 1]) > 0 ? 1 : 0;
    }

    return (x, y);
}

var rank = 0;
Model trained;
if (distributed)
{
    // Before the distribution is set, every rank trains alone: rank 1 moves its weights and optimizer state away.
    var parallel = new DataParallel { SparseAsDense = extra == "dense" };
    rank = parallel.Rank;
    trained = Build(rank);
    if (rank != 0)
    {
        var (ox, oy) = Data(12, 5);
        trained.Fit(ox, oy, batchSize: 4, epochs: 1, verbose: 0, shuffle: false);
    }

    Distribution.SetDistribution(parallel);
}
else
{
    trained = Build(0);
}

// 17 samples: global batches of 8, 8 and 1 (rank 1 runs a stand-in step in the last); validation of 5 (2 + 3).
var (x, y) = Data(17, 0);
var (vx, vy) = Data(5, 9);
var callbacks = new List<KerasStyle.Training.Callbacks.ICallback>();
if (extra.StartsWith("backup", StringComparison.Ordinal))
{
    callbacks.Add(new KerasStyle.Training.Callbacks.BackupAndRestore($"{prefix}.backup{rank}", deleteCheckpoint: false));
    callbacks.Add(new KerasStyle.Training.Callbacks.ModelCheckpoint($"{prefix}.ckpt{rank}.weights.h5", monitor: "loss", saveWeightsOnly: true));
    callbacks.Add(new KerasStyle.Training.Callbacks.CSVLogger($"{prefix}.log{rank}.csv"));
}

if ((extra == "throw" && rank == 1) || (extra == "backup-throw" && rank == 0))
{
    callbacks.Add(new KerasStyle.Training.Callbacks.LambdaCallback(onEpochEnd: (epoch, _) =>
    {
        if (epoch == 1)
        {
            throw new InvalidOperationException($"worker: rank {rank} fails at the end of epoch 2");
        }
    }));
}

var history = trained.Fit(x, y, batchSize: distributed ? 4 : 8, epochs: 3, verbose: 2, validationData: (vx, vy), shuffle: shuffle, callbacks: callbacks);
var evaluation = trained.Evaluate(x, y, batchSize: distributed ? 3 : 6);
var result = new Dictionary<string, object>
{
    ["rank"] = rank,
    ["weights"] = trained.GetWeights().SelectMany(w => w.Data).Select(v => (double)v).ToArray(),
    ["history"] = history.Values.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray()),
    ["params"] = history.Params.ToDictionary(kv => kv.Key, kv => Convert.ToString(kv.Value, CultureInfo.InvariantCulture) ?? string.Empty),
    ["evaluate"] = evaluation.ToDictionary(kv => kv.Key, kv => kv.Value),
    ["iterations"] = trained.Optimizer!.Iterations,
};
if (Distribution.Current is { } used)
{
    var e = used.ExchangeStatistics;
    result["exchange"] = new Dictionary<string, double>
    {
        ["steps"] = e.Steps,
        ["allreduce_bytes"] = e.AllreduceBytes,
        ["row_weights"] = e.RowWeights,
        ["rows_sent"] = e.RowsSent,
        ["rows_received"] = e.RowsReceived,
        ["row_bytes_sent"] = e.RowBytesSent,
        ["row_bytes_received"] = e.RowBytesReceived,
    };
}

File.WriteAllText($"{prefix}.{(distributed ? $"rank{rank}" : "single")}.json", JsonSerializer.Serialize(result));
return 0;
