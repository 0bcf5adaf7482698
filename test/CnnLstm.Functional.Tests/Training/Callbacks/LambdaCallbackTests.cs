using KerasStyle.Training.Callbacks;

namespace KerasStyle.Tests.Training.Callbacks;

public class LambdaCallbackTests
{
    [SetUp]
    public void Seed()
    {
        Backend.ClearSession();
        Utils.SetRandomSeed(81);
    }

    [Test]
    public void EachDelegate_RunsAtItsHook_WithTheIndicesAndLogsFitPasses()
    {
        using var model = CallbackTesting.CompiledMlp();
        var (x, y) = TinyModels.Blobs(6);
        var seen = new List<string>();
        var lambda = new LambdaCallback(
            onEpochBegin: (epoch, logs) => seen.Add($"epoch_begin {epoch} [{string.Join(",", logs.Keys)}]"),
            onEpochEnd: (epoch, logs) => seen.Add($"epoch_end {epoch} [{string.Join(",", logs.Keys)}]"),
            onTrainBegin: logs => seen.Add($"train_begin [{string.Join(",", logs.Keys)}]"),
            onTrainEnd: logs => seen.Add($"train_end [{string.Join(",", logs.Keys)}]"),
            onBatchBegin: (batch, logs) => seen.Add($"batch_begin {batch} [{string.Join(",", logs.Keys)}]"),
            onBatchEnd: (batch, logs) => seen.Add($"batch_end {batch} [{string.Join(",", logs.Keys)}]"));
        model.Fit(x, y, batchSize: 4, epochs: 2, verbose: 0, validationData: (x, y), callbacks: new[] { lambda });

        var epoch = new[]
        {
            "batch_begin 0 [batch,size]", "batch_end 0 [batch,size,loss,accuracy]",
            "batch_begin 1 [batch,size]", "batch_end 1 [batch,size,loss,accuracy]",
        };
        var expected = new List<string> { "train_begin []", "epoch_begin 0 []" };
        expected.AddRange(epoch);
        expected.AddRange(new[] { "epoch_end 0 [loss,accuracy,val_loss,val_accuracy]", "epoch_begin 1 []" });
        expected.AddRange(epoch);
        expected.AddRange(new[] { "epoch_end 1 [loss,accuracy,val_loss,val_accuracy]", "train_end [loss,accuracy,val_loss,val_accuracy]" });
        Assert.That(seen, Is.EqualTo(expected));
    }

    [Test]
    public void AnEntryAddedToTheEpochLogs_ReachesTheHistory_AndMissingDelegatesDoNothing()
    {
        using var model = CallbackTesting.CompiledMlp();
        var batches = 0;
        var history = CallbackTesting.Fit(model, 3,
            new LambdaCallback(onEpochEnd: (epoch, logs) => logs["double_epoch"] = 2 * epoch),
            new LambdaCallback(onBatchEnd: (_, _) => batches++),
            new LambdaCallback());
        Assert.That(history["double_epoch"], Is.EqualTo(new[] { 0.0, 2.0, 4.0 }));
        Assert.That(batches, Is.EqualTo(3));
    }
}
