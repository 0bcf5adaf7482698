using System.Text.Json;

namespace KerasStyle.Tests.Distributed;

/// <summary>
/// TrainOnBatch and TestOnBatch under a DataParallel distribution (the worker's <c>onbatch</c> case): each rank passes
/// its own batch (rank 0: 5 samples, rank 1: 3), against one process on the 8 samples together.
/// </summary>
[TestFixture]
[NonParallelizable]
public class DataParallelOnBatchTests
{
    private static readonly string[] SharedMemory = { "--mca", "btl", "self,vader" };

    private string directory = string.Empty;

    [SetUp]
    public void CreateDirectory()
    {
        directory = Path.Combine(Path.GetTempPath(), "kerasstyle-mpi-onbatch-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
    }

    [TearDown]
    public void DeleteDirectory() => Directory.Delete(directory, recursive: true);

    [Test]
    public void TrainOnBatchAveragesSampleWeightedAndReturnsTheGlobalValues_TestOnBatchToo()
    {
        var prefix = Path.Combine(directory, "onbatch");
        var (code, output) = MpiJob.RunDistributed(SharedMemory, "onbatch", "dist", prefix);
        Assert.That(code, Is.EqualTo(0), output);
        var (aloneCode, aloneOutput) = MpiJob.RunAlone("onbatch", "single", prefix);
        Assert.That(aloneCode, Is.EqualTo(0), aloneOutput);
        var ranks = new[] { WorkerResult.Read(prefix + ".rank0.json"), WorkerResult.Read(prefix + ".rank1.json") };
        var single = WorkerResult.Read(prefix + ".single.json");

        // Rank 1 started from other weights: the first call broadcast rank 0's.
        Assert.That(ranks[1].Weights, Is.EqualTo(ranks[0].Weights), output);
        Assert.That(ranks[0].Weights, Is.EqualTo(single.Weights).Within(1e-5), output);
        Assert.That(ranks.Select(r => r.Iterations), Is.All.EqualTo(3), output);
        var logs = new[] { Logs(prefix + ".rank0.json"), Logs(prefix + ".rank1.json") };
        Assert.That(logs[1], Is.EqualTo(logs[0]), output);
        Assert.That(logs[0], Is.EqualTo(Logs(prefix + ".single.json")).Within(1e-5), "TrainOnBatch's logs are not the global batch's\n" + output);
        Assert.That(ranks[1].Evaluate, Is.EqualTo(ranks[0].Evaluate), output);
        Assert.That(ranks[0].Evaluate["loss"], Is.EqualTo(single.Evaluate["loss"]).Within(1e-5), "TestOnBatch\n" + output);
        Assert.That(ranks[0].Evaluate["accuracy"], Is.EqualTo(single.Evaluate["accuracy"]).Within(1e-12), "TestOnBatch\n" + output);
    }

    [Test]
    public void ABatchRefusedOnOneRankIsRefusedOnEveryRankBeforeAnythingChanges()
    {
        var prefix = Path.Combine(directory, "refused");
        var (code, output) = MpiJob.RunDistributed(SharedMemory, "onbatch", "dist", prefix);
        Assert.That(code, Is.EqualTo(0), output);

        using var rank0 = JsonDocument.Parse(File.ReadAllText(prefix + ".rank0.json"));
        using var rank1 = JsonDocument.Parse(File.ReadAllText(prefix + ".rank1.json"));
        Assert.That(rank0.RootElement.GetProperty("refused").GetString(), Does.StartWith("TrainOnBatch: the batch of rank 1 was refused"), output);
        Assert.That(rank1.RootElement.GetProperty("refused").GetString(), Does.Contain("x has 4 samples but y for output"), output);
        Assert.That(rank0.RootElement.GetProperty("unchanged").GetBoolean() && rank1.RootElement.GetProperty("unchanged").GetBoolean(), Is.True, output);
    }

    private static double[] Logs(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        return document.RootElement.GetProperty("logs").EnumerateArray().Select(e => e.GetDouble()).ToArray();
    }
}
