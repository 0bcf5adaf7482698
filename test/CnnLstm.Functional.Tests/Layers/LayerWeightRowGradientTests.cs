using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Tests.Training;
using KerasStyle.Training.Losses;
using KerasStyle.Training.Metrics;
using KerasStyle.Training.Optimizers;
using TorchSharp;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Layers;

/// <summary>
/// <c>LayerWeight.RowGradient</c>, the Embedding's gradient by rows the trainer's step hands the optimizer: with the
/// table looked up twice in one step (a shared Embedding) it is the dense gradient autograd gives, and steps leave no
/// tensors behind.
/// </summary>
public class LayerWeightRowGradientTests
{
    private const int Classes = 3;

    private static long LiveOnThisThread => DisposeScopeManager.Statistics.ThreadTotalLiveCount;

    [SetUp]
    public void Seed()
    {
        Backend.ClearSession();
        Utils.SetRandomSeed(27);
    }

    /// <summary>ids (6) -> one Embedding(12, 5) called twice -> (mean -> Dense) + (max -> Dense): two lookups whose rows get different gradients.</summary>
    private static Model SharedEmbedding()
    {
        var ids = new Input(shape: 6, dtype: DType.Int64);
        var embedding = new Embedding(12, 5);
        var byMean = new Dense(Classes).Call(new GlobalAveragePooling1D().Call(embedding.Call(ids)));
        var byMax = new Dense(Classes).Call(new GlobalMaxPooling1D().Call(embedding.Call(ids)));
        return new Model(ids, new Add().Call(byMean, byMax));
    }

    private static (Tensor X, Tensor Y) Batch()
    {
        // Ids 0 and 11 (the table's ends) and repeated ids within and across samples.
        var x = tensor(Enumerable.Range(0, 48).Select(i => (long)(i * 5 % 12)).ToArray(), 8, 6);
        var y = tensor(Enumerable.Range(0, 8 * Classes).Select(i => i / Classes % Classes == i % Classes ? 1f : 0f).ToArray(), 8, Classes);
        return (x, y);
    }

    [Test]
    public void SharedEmbeddingCalledTwice_OneStepByRows_GivesTheDenseGradientsWeights()
    {
        using var looped = SharedEmbedding();
        using var trained = SharedEmbedding();
        trained.SetWeights(looped.GetWeights());
        trained.Compile(new Adam(), new CategoricalCrossentropy(fromLogits: true));
        using var optimizer = new Adam();
        var initial = looped.GetWeights();
        var (x, y) = Batch();
        using (x)
        using (y)
        {
            // TrainOnBatch sums both lookups' rows by id; the loop from scratch takes autograd's dense gradient.
            trained.TrainOnBatch(x, y);
            TrainingLoopFromScratch.Train(looped, optimizer, new CategoricalCrossentropy(fromLogits: true),
                new CategoricalAccuracy(), new CategoricalAccuracy(), x, y, x, y, epochs: 1, batchSize: 8);
        }

        var (expected, actual) = (trained.GetWeights(), looped.GetWeights());
        Assert.That(actual[0].Data.ToArray(), Is.EqualTo(expected[0].Data.ToArray()).Within(1e-6), "embeddings");
        Assert.That(actual[0].Data.ToArray(), Is.Not.EqualTo(initial[0].Data.ToArray()), "embeddings moved");
        for (var i = 1; i < expected.Count; i++)
        {
            Assert.That(actual[i].Data.ToArray(), Is.EqualTo(expected[i].Data.ToArray()).Within(1e-6), $"weight {i}");
        }
    }

    [Test]
    public void StepsByRows_LeaveLiveTensorCountsFlat()
    {
        using var model = SharedEmbedding();
        model.Compile(new Adam(), new CategoricalCrossentropy(fromLogits: true));
        var (x, y) = Batch();
        using (x)
        using (y)
        {
            // Warm-up: the first step makes the optimizer's slots (kept).
            model.TrainOnBatch(x, y);
            model.TrainOnBatch(x, y);
            var live = LiveOnThisThread;
            for (var s = 0; s < 30; s++)
            {
                model.TrainOnBatch(x, y);
            }

            Assert.That(LiveOnThisThread, Is.EqualTo(live), "tensors created and not disposed on this thread over 30 steps");
        }
    }
}
