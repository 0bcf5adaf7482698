using KerasStyle.Distributed;

namespace KerasStyle.Tests.Distributed;

/// <summary>A process not started by an MPI launcher: asking for distribution says what to do; Fit without it never loads MPI.</summary>
[TestFixture]
[NonParallelizable]
public class DistributionWithoutLauncherTests
{
    [Test]
    public void DataParallelWithoutALauncherThrowsAndNamesMpirun()
    {
        if (new[] { "OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK" }.Any(v => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable(v))))
        {
            Assert.Ignore("The tests themselves run under an MPI launcher.");
        }

        var error = Assert.Throws<InvalidOperationException>(() => _ = new DataParallel())!;

        Assert.That(error.Message, Does.Contain("not started by an MPI launcher").And.Contain("mpirun -np 2"));
        Assert.That(Distribution.Current, Is.Null);
        Assert.That(Distribution.Size, Is.EqualTo(1));
        Assert.That(Distribution.Rank, Is.EqualTo(0));
        Assert.That(LoadedLibraries(), Does.Not.Contain("libmpi"));
    }

    [Test]
    public void TheWorkerAloneReportsTheMissingLauncher()
    {
        var (code, output) = MpiJob.RunAlone("ask");

        Assert.That(code, Is.EqualTo(3), output);
        Assert.That(output, Does.StartWith("InvalidOperationException: DataParallel: this process was not started by an MPI launcher"));
    }

    [Test]
    public void FitWithoutADistributionRunsInThisProcessAndNeverLoadsMpi()
    {
        var model = TinyModels.Linear(new float[,] { { 0.5f }, { -0.25f } });
        model.Compile("sgd", "mse");
        var (x, y) = TinyModels.Blobs(10);

        var history = model.Fit(x, y, batchSize: 4, epochs: 2, verbose: 0, shuffle: false);

        Assert.That(history.Params.ContainsKey("ranks"), Is.False);
        Assert.That(history.Params["steps"], Is.EqualTo(3));
        Assert.That(LoadedLibraries(), Does.Not.Contain("libmpi"));
    }

    private static string LoadedLibraries() => File.ReadAllText("/proc/self/maps");
}
