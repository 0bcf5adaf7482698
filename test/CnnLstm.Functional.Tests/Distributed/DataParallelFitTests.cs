namespace KerasStyle.Tests.Distributed;

/// <summary>
/// Fit and Evaluate under a DataParallel distribution, run by the worker program under <c>mpirun -np 2</c>, against
/// the same training in one process on the combined batches (test/CnnLstm.Distributed.Worker/Program.cs: a Dense
/// model without dropout, 17 samples, 4 per rank against 8 in one process, 3 epochs, validation, then Evaluate).
/// </summary>
[TestFixture]
[NonParallelizable]
public class DataParallelFitTests
{
    private static readonly string[] SharedMemory = { "--mca", "btl", "self,vader" };

    private static readonly string[] TcpOnLoopback =
        { "--mca", "btl", "self,tcp", "--mca", "btl_tcp_if_include", "lo", "--mca", "oob_tcp_if_include", "lo" };

    private string directory = string.Empty;

    [SetUp]
    public void CreateDirectory()
    {
        directory = Path.Combine(Path.GetTempPath(), "kerasstyle-mpi-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
    }

    [TearDown]
    public void DeleteDirectory() => Directory.Delete(directory, recursive: true);

    [TestCase("sgd", "shared memory")]
    [TestCase("adam", "shared memory")]
    [TestCase("adam", "tcp on lo")]
    [TestCase("embedding-adam", "shared memory")]
    [TestCase("embedding-adam", "tcp on lo")]
    [TestCase("embedding-sgd", "shared memory")]
    [TestCase("embedding-sgd", "tcp on lo")]
    [TestCase("embedding-rmsprop", "shared memory")]
    public void TwoRanksEndWithIdenticalWeightsEqualToOneProcessOnTheCombinedBatches(string optimizer, string transport)
    {
        var (ranks, output) = RunTwoRanks(optimizer, transport == "tcp on lo" ? TcpOnLoopback : SharedMemory, shuffle: false);
        var single = RunOneProcess(optimizer);

        Assert.That(ranks[1].Weights, Is.EqualTo(ranks[0].Weights), "the ranks' weights differ after Fit\n" + output);
        Assert.That(ranks[0].Weights, Is.EqualTo(single.Weights).Within(1e-5), "two ranks of batch 4 differ from one process of batch 8\n" + output);
        // 3 epochs of 3 steps (global batches of 8, 8 and 1), after rank 1's own 3 steps were replaced by rank 0's state.
        Assert.That(ranks.Select(r => r.Iterations), Is.All.EqualTo(single.Iterations));
        Assert.That(single.Iterations, Is.EqualTo(9));
    }

    [TestCase("embedding-adam")]
    [TestCase("embedding-sgd")]
    public void TheEmbeddingGradientIsExchangedByRowsAndOnlyTheDenseRestIsAllreduced(string optimizer)
    {
        var (ranks, output) = RunTwoRanks(optimizer, SharedMemory, shuffle: false);

        // The worker's Embedding model: a (40, 4) table, then Dense(4 -> 2) = 10 floats allreduced a step, for 9 steps.
        foreach (var rank in ranks)
        {
            Assert.That(rank.Exchange["steps"], Is.EqualTo(9), output);
            Assert.That(rank.Exchange["allreduce_bytes"], Is.EqualTo(9 * 10 * sizeof(float)), "the Embedding's gradient went into the allreduce\n" + output);
            Assert.That(rank.Exchange["row_weights"], Is.EqualTo(9), output);
            // A batch of 4 x 6 ids touches at most 24 of the 40 rows; a stand-in step (rank 1, last batch) touches 6.
            Assert.That(rank.Exchange["rows_sent"], Is.GreaterThan(9 * 1).And.LessThanOrEqualTo(9 * 24), output);
            Assert.That(rank.Exchange["row_bytes_sent"], Is.EqualTo((rank.Exchange["rows_sent"] * (sizeof(long) + (4 * sizeof(float)))) + (9 * sizeof(long))), output);
        }

        // Every rank receives every rank's rows, its own included.
        var sent = ranks.Sum(r => r.Exchange["rows_sent"]);
        Assert.That(ranks.Select(r => r.Exchange["rows_received"]), Is.All.EqualTo(sent), output);
    }

    [TestCase("embedding-adam")]
    [TestCase("embedding-sgd")]
    public void SparseAsDenseAllreducesTheWholeEmbeddingGradientAndEndsWithTheSameWeights(string optimizer)
    {
        var (sparse, _) = RunTwoRanks(optimizer, SharedMemory, shuffle: false);
        var prefix = Path.Combine(directory, "dense");
        var (code, output) = MpiJob.RunDistributed(SharedMemory, "train", optimizer, "dist", "0", prefix, "dense");
        Assert.That(code, Is.EqualTo(0), output);
        var dense = new[] { WorkerResult.Read(prefix + ".rank0.json"), WorkerResult.Read(prefix + ".rank1.json") };

        Assert.That(dense[0].Exchange["allreduce_bytes"], Is.EqualTo(9 * ((40 * 4) + 10) * sizeof(float)), output);
        Assert.That(dense[0].Exchange["row_weights"], Is.EqualTo(0), output);
        Assert.That(dense[1].Weights, Is.EqualTo(dense[0].Weights), output);
        Assert.That(sparse[0].Weights, Is.EqualTo(dense[0].Weights).Within(1e-6), output);
    }

    [Test]
    public void LoggedLossMetricsAndEvaluationAreTheGlobalValues()
    {
        var (ranks, output) = RunTwoRanks("sgd", SharedMemory, shuffle: false);
        var single = RunOneProcess("sgd");

        foreach (var key in new[] { "loss", "accuracy", "val_loss", "val_accuracy" })
        {
            Assert.That(ranks[0].History[key], Is.EqualTo(ranks[1].History[key]), $"{key} differs between the ranks\n{output}");
            Assert.That(ranks[0].History[key], Is.EqualTo(single.History[key]).Within(1e-5), $"{key} is not the global value\n{output}");
        }

        Assert.That(ranks[0].Evaluate["loss"], Is.EqualTo(single.Evaluate["loss"]).Within(1e-5));
        Assert.That(ranks[1].Evaluate["accuracy"], Is.EqualTo(single.Evaluate["accuracy"]).Within(1e-12));
    }

    [Test]
    public void HistoryStatesTheRanksAndTheGlobalBatch()
    {
        var (ranks, _) = RunTwoRanks("sgd", SharedMemory, shuffle: false);

        Assert.That(ranks[0].Params["ranks"], Is.EqualTo("2"));
        Assert.That(ranks[0].Params["batch_size"], Is.EqualTo("4"));
        Assert.That(ranks[0].Params["global_batch_size"], Is.EqualTo("8"));
        Assert.That(ranks[0].Params["steps"], Is.EqualTo("3"));
        Assert.That(ranks[0].Params["samples"], Is.EqualTo("17"));
    }

    [Test]
    public void OnlyRankZeroPrintsTheProgress()
    {
        var (_, output) = RunTwoRanks("sgd", SharedMemory, shuffle: false);

        var stdout = output[..output.IndexOf("--- stderr ---", StringComparison.Ordinal)];
        Assert.That(stdout.Split('\n').Count(l => l.Contains("Epoch 1/3", StringComparison.Ordinal)), Is.EqualTo(1), output);
        Assert.That(stdout.Split('\n').Count(l => l.Contains(" - loss: ", StringComparison.Ordinal)), Is.EqualTo(3), output);
    }

    [Test]
    public void ShuffledFitUsesTheSameOrderOnEveryRank()
    {
        var (ranks, output) = RunTwoRanks("adam", SharedMemory, shuffle: true);

        Assert.That(ranks[1].Weights, Is.EqualTo(ranks[0].Weights), output);
        Assert.That(ranks[1].History["loss"], Is.EqualTo(ranks[0].History["loss"]), output);
    }

    [Test]
    public void AnExceptionOnOneRankAbortsTheWholeJob()
    {
        var prefix = Path.Combine(directory, "run");
        var started = DateTime.UtcNow;

        var (code, output) = MpiJob.RunDistributed(SharedMemory, "train", "sgd", "dist", "0", prefix, "throw");

        Assert.That(code, Is.Not.EqualTo(0), output);
        Assert.That(output, Does.Contain("rank 1 of 2: Fit threw InvalidOperationException: worker: rank 1 fails at the end of epoch 2"));
        Assert.That(output, Does.Contain("aborting all 2 ranks (MPI_Abort)"));
        Assert.That(File.Exists(prefix + ".rank0.json") || File.Exists(prefix + ".rank1.json"), Is.False, "a rank finished Fit although the job was aborted\n" + output);
        Assert.That(DateTime.UtcNow - started, Is.LessThan(TimeSpan.FromSeconds(60)));
    }

    [Test]
    public void OnlyRankZeroWritesFilesAndARelaunchedJobResumesFromItsBackupExactly()
    {
        var (uninterrupted, _) = RunTwoRanks("adam", SharedMemory, shuffle: false);
        var prefix = Path.Combine(directory, "resumed");

        var (failed, failedOutput) = MpiJob.RunDistributed(SharedMemory, "train", "adam", "dist", "0", prefix, "backup-throw");
        Assert.That(failed, Is.Not.EqualTo(0), failedOutput);
        Assert.That(Directory.Exists(prefix + ".backup0"), Is.True, failedOutput);
        Assert.That(Directory.Exists(prefix + ".backup1"), Is.False, "rank 1 wrote a backup\n" + failedOutput);
        var (code, output) = MpiJob.RunDistributed(SharedMemory, "train", "adam", "dist", "0", prefix, "backup");
        Assert.That(code, Is.EqualTo(0), output);
        var ranks = new[] { WorkerResult.Read(prefix + ".rank0.json"), WorkerResult.Read(prefix + ".rank1.json") };

        // Epochs 1 and 2 were backed up by rank 0 before the failure; the relaunch trains epoch 3 only, on every rank.
        Assert.That(ranks.Select(r => r.History["loss"].Length), Is.All.EqualTo(1), output);
        Assert.That(ranks.Select(r => r.Iterations), Is.All.EqualTo(9));
        Assert.That(ranks[1].Weights, Is.EqualTo(ranks[0].Weights), output);
        Assert.That(ranks[0].Weights, Is.EqualTo(uninterrupted[0].Weights).Within(1e-6), output);
        Assert.That(File.Exists(prefix + ".ckpt0.weights.h5") && File.Exists(prefix + ".log0.csv"), Is.True, output);
        Assert.That(File.Exists(prefix + ".ckpt1.weights.h5") || File.Exists(prefix + ".log1.csv"), Is.False, "rank 1 wrote a file\n" + output);
    }

    private (WorkerResult[] Ranks, string Output) RunTwoRanks(string optimizer, string[] transport, bool shuffle)
    {
        var prefix = Path.Combine(directory, "run");
        var (code, output) = MpiJob.RunDistributed(transport, "train", optimizer, "dist", shuffle ? "1" : "0", prefix);
        Assert.That(code, Is.EqualTo(0), output);
        return (new[] { WorkerResult.Read(prefix + ".rank0.json"), WorkerResult.Read(prefix + ".rank1.json") }, output);
    }

    private WorkerResult RunOneProcess(string optimizer)
    {
        var prefix = Path.Combine(directory, "run");
        var (code, output) = MpiJob.RunAlone("train", optimizer, "single", "0", prefix);
        Assert.That(code, Is.EqualTo(0), output);
        return WorkerResult.Read(prefix + ".single.json");
    }
}
