namespace KerasStyle.Tests.Distributed;

/// <summary>
/// <c>DataParallel.AllreduceSum(float[])</c> and the row exchange's <c>Mpi.Allgather</c> / <c>Mpi.Allgatherv</c> under
/// <c>mpirun -np 2</c> (the worker's <c>allreduce</c>, <c>allgatherv</c> and <c>allgatherv-overflow</c> modes).
/// </summary>
[TestFixture]
[NonParallelizable]
public class MpiCollectivesTests
{
    [Test]
    public void FloatsAreSummedInPlaceOnEveryRank()
    {
        var (code, output) = MpiJob.RunDistributed(new[] { "--mca", "btl", "self,vader" }, "allreduce");

        Assert.That(code, Is.EqualTo(0), output);
        // Rank 0 gives {1, 0, 0.001}, rank 1 {2, 0.5, 0.001}.
        Assert.That(output, Does.Contain("rank 0 of 2 floats 3 0.5 0.002").And.Contain("rank 1 of 2 floats 3 0.5 0.002"), output);
    }

    [Test]
    public void AllgathervConcatenatesEveryRanksIdsAndRowsInRankOrder()
    {
        var (code, output) = MpiJob.RunDistributed(new[] { "--mca", "btl", "self,vader" }, "allgatherv");

        Assert.That(code, Is.EqualTo(0), output);
        // Rank 0 sends one value (id 0, float 0), rank 1 two (ids 100 and 101, floats 1 and 1.1).
        Assert.That(output, Does.Contain("rank 0 of 2 counts 1,2 ids 0,100,101 floats 0,1,1.1").And.Contain("rank 1 of 2 counts 1,2 ids 0,100,101 floats 0,1,1.1"), output);
    }

    [Test]
    public void AllgathervRefusesCountsBeyondMpisIntBeforeTheCall()
    {
        var (code, output) = MpiJob.RunDistributed(new[] { "--mca", "btl", "self,vader" }, "allgatherv-overflow");

        Assert.That(code, Is.EqualTo(0), output);
        foreach (var rank in new[] { 0, 1 })
        {
            Assert.That(output, Does.Contain($"rank {rank} InvalidOperationException: MPI_Allgatherv: float values from rank 1 (2) bring the total to 2147483649, beyond MPI's int counts"), output);
        }
    }
}
