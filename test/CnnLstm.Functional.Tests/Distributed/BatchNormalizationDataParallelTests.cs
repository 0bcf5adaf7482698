using System.Text.Json;

namespace KerasStyle.Tests.Distributed;

/// <summary>
/// BatchNormalization's moving statistics under a DataParallel distribution (the worker's <c>bn</c> case:
/// Input(3) -> BatchNormalization(momentum 0.5) -> Dense(2), 2 steps of 4 samples per rank whose two halves of every
/// global batch have different means). The rule (docs/scaling.md): each rank normalizes with its own batch's
/// statistics (Keras' synchronized=False) and moves its moving statistics toward them; after every step the ranks'
/// moving statistics are replaced by their sample-weighted mean. So the moving mean equals one process's on the global
/// batch; the moving variance is the mean of the ranks' batch variances, below the global batch's when the ranks'
/// batch means differ.
/// </summary>
[TestFixture]
[NonParallelizable]
public class BatchNormalizationDataParallelTests
{
    private static readonly string[] SharedMemory = { "--mca", "btl", "self,vader" };

    private string directory = string.Empty;

    [SetUp]
    public void CreateDirectory()
    {
        directory = Path.Combine(Path.GetTempPath(), "kerasstyle-mpi-bn-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
    }

    [TearDown]
    public void DeleteDirectory() => Directory.Delete(directory, recursive: true);

    [Test]
    public void MovingMeanIsTheGlobalBatchsAndMovingVarianceTheMeanOfTheRanksBatchVariances()
    {
        var prefix = Path.Combine(directory, "bn");
        var (code, output) = MpiJob.RunDistributed(SharedMemory, "bn", "dist", prefix);
        Assert.That(code, Is.EqualTo(0), output);
        var (aloneCode, aloneOutput) = MpiJob.RunAlone("bn", "single", prefix);
        Assert.That(aloneCode, Is.EqualTo(0), aloneOutput);
        var rank0 = Read(prefix + ".rank0.json");
        var rank1 = Read(prefix + ".rank1.json");
        var single = Read(prefix + ".single.json");

        Assert.That(rank1["moving_mean"], Is.EqualTo(rank0["moving_mean"]), output);
        Assert.That(rank1["moving_variance"], Is.EqualTo(rank0["moving_variance"]), output);
        Assert.That(rank0["moving_mean"], Is.EqualTo(rank0["rule_mean"]).Within(1e-5), output);
        Assert.That(rank0["moving_variance"], Is.EqualTo(rank0["rule_variance"]).Within(1e-5), output);
        Assert.That(rank0["moving_mean"], Is.EqualTo(single["moving_mean"]).Within(1e-5), "the moving mean is one process's on the global batch\n" + output);
        for (var j = 0; j < 3; j++)
        {
            Assert.That(rank0["moving_variance"][j], Is.LessThan(single["moving_variance"][j] - 0.5),
                "the moving variance leaves out the spread between the ranks' batch means\n" + output);
        }
    }

    private static Dictionary<string, double[]> Read(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        return new[] { "moving_mean", "moving_variance", "rule_mean", "rule_variance" }.ToDictionary(
            k => k, k => document.RootElement.GetProperty(k).EnumerateArray().Select(e => e.GetDouble()).ToArray());
    }
}
