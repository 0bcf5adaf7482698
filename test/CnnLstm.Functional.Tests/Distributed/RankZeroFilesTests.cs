namespace KerasStyle.Tests.Distributed;

/// <summary>
/// Save, SaveWeights, Export and Warnings under a DataParallel distribution (the worker's <c>files</c> case): every
/// rank calls them with its own path; only rank 0 writes, and the others return after its files exist.
/// </summary>
[TestFixture]
[NonParallelizable]
public class RankZeroFilesTests
{
    private static readonly string[] SharedMemory = { "--mca", "btl", "self,vader" };

    private string directory = string.Empty;

    [SetUp]
    public void CreateDirectory()
    {
        directory = Path.Combine(Path.GetTempPath(), "kerasstyle-mpi-files-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
    }

    [TearDown]
    public void DeleteDirectory() => Directory.Delete(directory, recursive: true);

    [Test]
    public void OnlyRankZeroWritesAndTheOtherRanksReturnAfterItsFilesExist()
    {
        var prefix = Path.Combine(directory, "model");
        var (code, output) = MpiJob.RunDistributed(SharedMemory, "files", prefix);

        Assert.That(code, Is.EqualTo(0), output);
        Assert.That(File.Exists(prefix + ".rank0.keras") && File.Exists(prefix + ".rank0.weights.h5") && File.Exists(prefix + ".rank0.onnx"), Is.True, output);
        Assert.That(Directory.GetFiles(directory, "model.rank1.*"), Is.Empty, "rank 1 wrote a file\n" + output);
        Assert.That(output, Does.Contain("rank 1 after the writes: rank 0's files True True True, own files False False False"), output);
    }

    [Test]
    public void ASaveThatFailsOnRankZeroThrowsOnEveryRank()
    {
        var (code, output) = MpiJob.RunDistributed(SharedMemory, "files", Path.Combine(directory, "model"));

        Assert.That(code, Is.EqualTo(0), output);
        Assert.That(output, Does.Contain("rank 1 failed save: IOException: Save: rank 0 could not write"), output);
        Assert.That(output, Does.Match("rank 0 failed save: [A-Za-z]+Exception"), output);
        Assert.That(output, Does.Not.Contain("failed save: nothing thrown"), output);
    }

    [Test]
    public void WarningsAreReportedOnRankZeroOnly()
    {
        var (code, output) = MpiJob.RunDistributed(SharedMemory, "files", Path.Combine(directory, "model"));

        Assert.That(code, Is.EqualTo(0), output);
        Assert.That(output, Does.Contain("rank 0 warnings 1"), output);
        Assert.That(output, Does.Contain("rank 1 warnings 0"), output);
        Assert.That(output.Split('\n').Count(l => l.Contains("does not have any trainable weights", StringComparison.Ordinal)), Is.EqualTo(1), output);
    }
}
