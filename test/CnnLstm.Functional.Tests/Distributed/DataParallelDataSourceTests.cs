using System.Text.Json;

namespace KerasStyle.Tests.Distributed;

/// <summary>
/// Fit and Evaluate on a DataSource under a DataParallel distribution, run by the worker's <c>source</c> and
/// <c>stream</c> cases (test/CnnLstm.Distributed.Worker/ShardCases.cs) under <c>mpirun -np 2</c>, against one process.
/// </summary>
[TestFixture]
[NonParallelizable]
public class DataParallelDataSourceTests
{
    private static readonly string[] SharedMemory = { "--mca", "btl", "self,vader" };

    private string directory = string.Empty;

    [SetUp]
    public void CreateDirectory()
    {
        directory = Path.Combine(Path.GetTempPath(), "kerasstyle-mpi-source-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
    }

    [TearDown]
    public void DeleteDirectory() => Directory.Delete(directory, recursive: true);

    [Test]
    public void AnIndexedSourceIsShardedByBatchAndTrainsAsOneProcessOnTheGlobalBatches()
    {
        // 17 samples in batches of 4 (5 batches): global steps of batches (0, 1), (2, 3), (4, stand-in) = arrays of 8, 8, 1.
        var prefix = Path.Combine(directory, "source");
        var (code, output) = MpiJob.RunDistributed(SharedMemory, "source", "dist", "0", prefix);
        Assert.That(code, Is.EqualTo(0), output);
        var (aloneCode, aloneOutput) = MpiJob.RunAlone("source", "single", "0", prefix);
        Assert.That(aloneCode, Is.EqualTo(0), aloneOutput);
        var ranks = new[] { WorkerResult.Read(prefix + ".rank0.json"), WorkerResult.Read(prefix + ".rank1.json") };
        var single = WorkerResult.Read(prefix + ".single.json");

        Assert.That(ranks[1].Weights, Is.EqualTo(ranks[0].Weights), output);
        Assert.That(ranks[0].Weights, Is.EqualTo(single.Weights).Within(1e-5), output);
        Assert.That(ranks.Select(r => r.Iterations), Is.All.EqualTo(9), output);
        Assert.That(ranks[0].Params["steps"], Is.EqualTo("3"));
        Assert.That(ranks[0].Params["ranks"], Is.EqualTo("2"));
        foreach (var key in new[] { "loss", "accuracy", "val_loss", "val_accuracy" })
        {
            Assert.That(ranks[1].History[key], Is.EqualTo(ranks[0].History[key]), $"{key}\n{output}");
            Assert.That(ranks[0].History[key], Is.EqualTo(single.History[key]).Within(1e-5), $"{key} is not the global value\n{output}");
        }

        Assert.That(ranks[0].Evaluate["loss"], Is.EqualTo(single.Evaluate["loss"]).Within(1e-5), output);
        Assert.That(ranks[1].Evaluate["accuracy"], Is.EqualTo(single.Evaluate["accuracy"]).Within(1e-12), output);
    }

    [Test]
    public void AShuffledIndexedSourceDrawsTheSameOrderOnEveryRank()
    {
        var prefix = Path.Combine(directory, "shuffled");
        var (code, output) = MpiJob.RunDistributed(SharedMemory, "source", "dist", "1", prefix);
        Assert.That(code, Is.EqualTo(0), output);
        var ranks = new[] { WorkerResult.Read(prefix + ".rank0.json"), WorkerResult.Read(prefix + ".rank1.json") };

        Assert.That(ranks[1].Weights, Is.EqualTo(ranks[0].Weights), output);
        Assert.That(ranks[1].History["loss"], Is.EqualTo(ranks[0].History["loss"]), output);
        Assert.That(ranks.Select(r => r.Iterations), Is.All.EqualTo(9), output);
    }

    [Test]
    public void StreamsNeedStepsPerEpochAndEveryRankStopsWhenOneRunsOut()
    {
        // Rank 0's stream has 6 batches, rank 1's 4; 3 steps per epoch for 3 epochs: both stop after 4 steps.
        var prefix = Path.Combine(directory, "stream");
        var (code, output) = MpiJob.RunDistributed(SharedMemory, "stream", "dist", prefix);
        Assert.That(code, Is.EqualTo(0), output);
        var (aloneCode, aloneOutput) = MpiJob.RunAlone("stream", "single", prefix);
        Assert.That(aloneCode, Is.EqualTo(0), aloneOutput);
        var ranks = new[] { WorkerResult.Read(prefix + ".rank0.json"), WorkerResult.Read(prefix + ".rank1.json") };
        var single = WorkerResult.Read(prefix + ".single.json");

        foreach (var rank in new[] { 0, 1 })
        {
            using var document = JsonDocument.Parse(File.ReadAllText($"{prefix}.rank{rank}.json"));
            Assert.That(document.RootElement.GetProperty("refused").GetString(),
                Does.StartWith("ArgumentException (stepsPerEpoch): stepsPerEpoch: the data source's length is unknown (Count is null), so give stepsPerEpoch"), output);
            Assert.That(document.RootElement.GetProperty("unchanged").GetBoolean(), Is.True, "the refused Fit changed the weights or the optimizer\n" + output);
        }

        Assert.That(ranks.Select(r => r.Iterations), Is.All.EqualTo(4), output);
        Assert.That(ranks.Select(r => r.History["loss"].Length), Is.All.EqualTo(2), output);
        Assert.That(ranks[1].Weights, Is.EqualTo(ranks[0].Weights), output);
        Assert.That(ranks[0].Weights, Is.EqualTo(single.Weights).Within(1e-5), "4 steps on both ranks' batches are 4 steps of 8 in one process\n" + output);
        Assert.That(output.Split('\n').Count(l => l.Contains("ran out of data", StringComparison.Ordinal)), Is.EqualTo(1), "rank 0 alone warns, once\n" + output);
        Assert.That(output, Does.Contain("Warning: Fit: the input of another rank ran out of data after 1 batches of this epoch; training stops on every rank"), output);
    }

    [Test]
    public void EvaluateOnStreamsOfDifferentLengthsGivesTheValuesOfAllBatchesOnEveryRank()
    {
        // Rank 0 evaluates 3 batches, rank 1 one; one process evaluates the 4 batches.
        var prefix = Path.Combine(directory, "evaluate");
        var (code, output) = MpiJob.RunDistributed(SharedMemory, "stream", "dist", prefix);
        Assert.That(code, Is.EqualTo(0), output);
        var (aloneCode, aloneOutput) = MpiJob.RunAlone("stream", "single", prefix);
        Assert.That(aloneCode, Is.EqualTo(0), aloneOutput);
        var ranks = new[] { WorkerResult.Read(prefix + ".rank0.json"), WorkerResult.Read(prefix + ".rank1.json") };
        var single = WorkerResult.Read(prefix + ".single.json");

        Assert.That(ranks[1].Evaluate, Is.EqualTo(ranks[0].Evaluate), output);
        Assert.That(ranks[0].Evaluate["loss"], Is.EqualTo(single.Evaluate["loss"]).Within(1e-5), output);
        Assert.That(ranks[0].Evaluate["accuracy"], Is.EqualTo(single.Evaluate["accuracy"]).Within(1e-12), output);
    }
}
