using System.Text.RegularExpressions;
using KerasStyle.Tests.Distributed;

namespace KerasStyle.Tests.Examples;

/// <summary>
/// The examples' <c>sentiment --distributed</c> and <c>bench-distributed</c> under <c>mpirun -np 2</c> (a child process
/// with a hard timeout; ignored only when mpirun is absent), and both without a launcher.
/// </summary>
[TestFixture]
[NonParallelizable]
public class DistributedExamplesTests
{
    private static readonly string[] SharedMemory = { "--mca", "btl", "self,vader" };

    private DirectoryInfo scratch = null!;

    [SetUp]
    public void CreateScratch() => scratch = Directory.CreateTempSubdirectory("kerasstyle-examples-mpi-");

    [TearDown]
    public void DeleteScratch() => scratch.Delete(recursive: true);

    [Test]
    public void SentimentDistributed_OnTwoRanks_PrintsOnceFromRankZeroWithRanks2AndSavesTheModel()
    {
        var model = Path.Combine(scratch.FullName, "distributed.keras");

        var (code, output) = MpiJob.RunProgram(2, SharedMemory, ExamplesProgram.Dll,
            "sentiment", "--distributed", "--limit", "200", "--epochs", "1", "--verbose", "0", "--output", model, "--data", TestPaths.SharedData);

        Assert.That(code, Is.EqualTo(0), output);
        var lines = output.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        Assert.That(lines.Count(l => Regex.IsMatch(l, @"^result task=sentiment architecture=seed test_loss=\d+\.\d{4} test_accuracy=\d\.\d{4} train_seconds=\d+\.\d seconds_per_epoch=\d+\.\d samples_per_second=\d+\.\d data=memory peak_working_set_mb=\d+ ranks=2$")),
            Is.EqualTo(1), output);
        Assert.That(lines.Count(l => l.EndsWith("Loading data...", StringComparison.Ordinal)), Is.EqualTo(1), "only rank 0 prints\n" + output);
        Assert.That(lines.Count(l => l.StartsWith("Saved: ", StringComparison.Ordinal)), Is.EqualTo(1), output);
        Assert.That(new FileInfo(model).Length, Is.GreaterThan(0), "rank 0 saved the trained model");
    }

    [Test]
    public void SentimentDistributed_WithoutALauncher_FailsWithTheLibrarysErrorBeforeLoadingData()
    {
        var run = ExamplesProgram.Run(ExamplesProgram.Dll, scratch.FullName, TestPaths.SharedData, "sentiment", "--distributed", "--limit", "200");

        Assert.That(run.ExitCode, Is.EqualTo(3), run.ToString());
        Assert.That(run.Stderr, Does.StartWith("sentiment --distributed: DataParallel: this process was not started by an MPI launcher"), run.ToString());
        Assert.That(run.Stdout, Does.Not.Contain("Loading data"), run.ToString());
    }

    [Test]
    public void SentimentDistributed_WithStream_OnTwoRanks_TrainsFromTheStreamAndSavesOnce()
    {
        var model = Path.Combine(scratch.FullName, "streamed.keras");

        var (code, output) = MpiJob.RunProgram(2, SharedMemory, ExamplesProgram.Dll,
            "sentiment", "--distributed", "--stream", "--limit", "120", "--epochs", "1", "--verbose", "0", "--output", model, "--data", TestPaths.SharedData);

        Assert.That(code, Is.EqualTo(0), output);
        var lines = output.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        Assert.That(lines.Count(l => Regex.IsMatch(l, @"^result task=sentiment architecture=seed test_loss=\d+\.\d{4} test_accuracy=\d\.\d{4} .* data=stream peak_working_set_mb=\d+ ranks=2$")),
            Is.EqualTo(1), output);
        Assert.That(lines.Count(l => l.StartsWith("Saved: ", StringComparison.Ordinal)), Is.EqualTo(1), output);
        Assert.That(new FileInfo(model).Length, Is.GreaterThan(0), "rank 0 saved the trained model");
    }

    [Test]
    public void BenchDistributed_Quick_OnTwoRanks_PrintsTheStepSplitAndTheBytesOfBothExchangesOnce()
    {
        var (code, output) = MpiJob.RunProgram(2, SharedMemory, ExamplesProgram.Dll, "bench-distributed", "--quick", "--data", TestPaths.SharedData);

        Assert.That(code, Is.EqualTo(0), output);
        var line = Regex.Matches(output, @"(?m)^bench-distributed ranks=2 step_ms=[\d.]+ step_ms_sparse_as_dense=[\d.]+ compute_ms=[\d.]+ allgatherv_ms=[\d.]+ allreduce_ms=[\d.]+ allreduce_ms_sparse_as_dense=[\d.]+ rest_allreduce_alone_ms=[\d.]+ "
            + @"row_bytes_sent=(?<rows>[\d.]+) rest_bytes=(?<rest>[\d.]+) dense_bytes=(?<dense>[\d.]+) link_ms_10gbps=[\d.]+ link_ms_1gbps=(?<one>[\d.]+) dense_ring_ms_10gbps=(?<ten>[\d.]+) dense_ring_ms_1gbps=[\d.]+\r?$");
        Assert.That(line, Has.Count.EqualTo(1), output);
        double Value(string name) => double.Parse(line[0].Groups[name].Value, System.Globalization.CultureInfo.InvariantCulture);

        // The seed model: Embedding 20000 x 128, Conv1D 5 x 128 x 64 + 64, LSTM 4 x 70 x (64 + 70 + 1), Dense 70 + 1.
        const long embedding = 20000 * 128;
        const long floats = embedding + (5 * 128 * 64) + 64 + (4 * 70 * (64 + 70 + 1)) + 71;
        Assert.That(Value("dense"), Is.EqualTo(floats * 4), "SparseAsDense allreduces every gradient");
        Assert.That(Value("rest"), Is.EqualTo((floats - embedding) * 4), "by rows, the Embedding leaves the allreduce");
        // A batch of 30 x 100 tokens touches at most 3,000 rows of 128 floats and an int64 id each.
        Assert.That(Value("rows"), Is.GreaterThan(0).And.LessThanOrEqualTo(8 + (3000 * ((128 * 4) + 8))));
        // 2 (n - 1) / n x bytes / (bits per second / 8), in ms, for n = 2; by rows, (n - 1) x the rows sent plus the ring of the rest.
        Assert.That(Value("ten"), Is.EqualTo(floats * 4 / 1.25e9 * 1000).Within(0.001));
        Assert.That(Value("one"), Is.EqualTo((Value("rows") + Value("rest")) / 1.25e8 * 1000).Within(0.002));
    }

    [Test]
    public void BenchDistributed_WithoutALauncher_FailsWithTheLibrarysError()
    {
        var run = ExamplesProgram.Run(ExamplesProgram.Dll, scratch.FullName, TestPaths.SharedData, "bench-distributed", "--quick");

        Assert.That(run.ExitCode, Is.EqualTo(3), run.ToString());
        Assert.That(run.Stderr, Does.StartWith("bench-distributed: DataParallel: this process was not started by an MPI launcher"), run.ToString());
    }
}
