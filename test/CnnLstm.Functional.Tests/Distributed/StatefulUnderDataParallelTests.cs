namespace KerasStyle.Tests.Distributed;

/// <summary>
/// A model with a stateful recurrent layer under a DataParallel distribution (the worker's <c>stateful</c> case): Fit,
/// Evaluate, TrainOnBatch and TestOnBatch are refused on every rank naming the layer, before anything changes, since
/// each rank would carry the states of its own shard.
/// </summary>
[TestFixture]
[NonParallelizable]
public class StatefulUnderDataParallelTests
{
    private static readonly string[] SharedMemory = { "--mca", "btl", "self,vader" };

    [Test]
    public void TrainingAndEvaluatingAStatefulModel_AreRefusedOnEveryRankNamingTheLayer_BeforeAnythingChanges()
    {
        var (code, output) = MpiJob.RunDistributed(SharedMemory, "stateful");
        Assert.That(code, Is.EqualTo(0), output);
        foreach (var rank in new[] { 0, 1 })
        {
            foreach (var call in new[] { "Fit", "FitSource", "Evaluate", "EvaluateSource", "TrainOnBatch", "TestOnBatch" })
            {
                var line = output.Split('\n').SingleOrDefault(l => l.Contains($"rank {rank} {call} ", StringComparison.Ordinal));
                Assert.That(line, Does.Contain($"rank {rank} {call} NotSupportedException: ").And.Contain("LSTM 'carried' is stateful").And.Contain("DataParallel"), output);
            }

            Assert.That(output, Does.Contain($"rank {rank} unchanged True"), output);
        }
    }
}
