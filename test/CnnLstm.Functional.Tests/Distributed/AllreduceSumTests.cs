namespace KerasStyle.Tests.Distributed;

/// <summary><c>DataParallel.AllreduceSum(float[])</c> under <c>mpirun -np 2</c> (the worker's <c>allreduce</c> mode).</summary>
[TestFixture]
[NonParallelizable]
public class AllreduceSumTests
{
    [Test]
    public void FloatsAreSummedInPlaceOnEveryRank()
    {
        var (code, output) = MpiJob.RunDistributed(new[] { "--mca", "btl", "self,vader" }, "allreduce");

        Assert.That(code, Is.EqualTo(0), output);
        // Rank 0 gives {1, 0, 0.001}, rank 1 {2, 0.5, 0.001}.
        Assert.That(output, Does.Contain("rank 0 of 2 floats 3 0.5 0.002").And.Contain("rank 1 of 2 floats 3 0.5 0.002"), output);
    }
}
