using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Tests.Training;
using KerasStyle.Training.Losses;
using KerasStyle.Training.Metrics;
using KerasStyle.Training.Optimizers;
using TorchSharp;
using static TorchSharp.torch;
using MeanSquaredErrorLoss = KerasStyle.Training.Losses.MeanSquaredError;

namespace KerasStyle.Tests.Layers;

/// <summary>
/// <c>LayerWeight.RowGradient</c>, the Embedding's gradient by rows the trainer's step hands the optimizer: with the
/// table looked up twice in one step (a shared Embedding) it is the dense gradient autograd gives, and steps leave no
/// tensors behind; training by rows (mask_zero, int32 ids, inside TimeDistributed, with clipping and the optimizers
/// that take the dense gradient built from the rows) follows autograd's dense gradient, and a bad batch changes nothing.
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

    /// <summary>Random id batches of <paramref name="shape"/> over <paramref name="vocab"/> ids (int32 or int64) with two float targets.</summary>
    private static (Tensor X, Tensor Y)[] IdBatches(int count, long[] shape, int vocab, DType dtype, int seed)
    {
        var random = new Random(seed);
        var n = (int)shape.Aggregate(1L, (a, b) => a * b);
        return Enumerable.Range(0, count).Select(_ =>
        {
            var ids = Enumerable.Range(0, n).Select(_ => random.Next(vocab)).ToArray();
            var x = dtype == DType.Int32 ? tensor(ids, shape) : tensor(ids.Select(i => (long)i).ToArray(), shape);
            return (x, tensor(Enumerable.Range(0, (int)shape[0] * 2).Select(_ => random.NextSingle()).ToArray(), shape[0], 2));
        }).ToArray();
    }

    /// <summary>
    /// TrainOnBatch (the gradient by rows: summed in C#, or by libtorch for int32 ids; Adam's row path, or the dense
    /// gradient built from the rows for clipping and other optimizers) against the same optimizer applying autograd's
    /// dense gradient, batch after batch.
    /// </summary>
    private static void AssertStepsByRowsAsDense(Func<Model> build, Func<Optimizer> optimizer, (Tensor X, Tensor Y)[] batches)
    {
        using var trained = build();
        using var looped = build();
        looped.SetWeights(trained.GetWeights());
        trained.Compile(optimizer(), new MeanSquaredErrorLoss());
        using var dense = optimizer();
        var loss = new MeanSquaredErrorLoss();
        var initial = trained.GetWeights();
        foreach (var (x, y) in batches)
        {
            trained.TrainOnBatch(x, y);
            using var scope = NewDisposeScope();
            var output = looped.Invoke(x, training: true);
            foreach (var weight in looped.TrainableWeights)
            {
                weight.Variable.grad = null;
            }

            loss.Invoke(y, output).backward();
            dense.ApplyGradients(looped.TrainableWeights.Select(w => (w.Variable.grad, w)));
        }

        var (expected, actual) = (looped.GetWeights(), trained.GetWeights());
        Assert.That(actual[0].Data.ToArray(), Is.Not.EqualTo(initial[0].Data.ToArray()), "embeddings moved");
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.That(actual[i].Data.ToArray(), Is.EqualTo(expected[i].Data.ToArray()).Within(2e-5), $"weight {i}");
        }
    }

    private static Model MaskZeroLstm()
    {
        var ids = new Input(shape: 7, dtype: DType.Int64);
        return new Model(ids, new Dense(2).Call(new LSTM(4).Call(new Embedding(15, 6, maskZero: true).Call(ids))));
    }

    public static IEnumerable<TestCaseData> Optimizers()
    {
        yield return new TestCaseData((Func<Optimizer>)(() => new Adam(0.01))).SetArgDisplayNames("Adam");
        yield return new TestCaseData((Func<Optimizer>)(() => new Adam(0.01) { ClipNorm = 0.01 })).SetArgDisplayNames("Adam clipnorm");
        yield return new TestCaseData((Func<Optimizer>)(() => new Adam(0.01) { GlobalClipNorm = 0.01 })).SetArgDisplayNames("Adam global_clipnorm");
        yield return new TestCaseData((Func<Optimizer>)(() => new Adam(0.01, amsgrad: true))).SetArgDisplayNames("Adam amsgrad");
        yield return new TestCaseData((Func<Optimizer>)(() => new SGD(0.1, momentum: 0.9) { ClipValue = 0.001 })).SetArgDisplayNames("SGD clipvalue");
        yield return new TestCaseData((Func<Optimizer>)(() => new RMSprop(0.01))).SetArgDisplayNames("RMSprop");
        yield return new TestCaseData((Func<Optimizer>)(() => new Adagrad(0.1))).SetArgDisplayNames("Adagrad");
        yield return new TestCaseData((Func<Optimizer>)(() => new AdamW(0.01))).SetArgDisplayNames("AdamW");
    }

    [TestCaseSource(nameof(Optimizers))]
    public void MaskZeroEmbedding_StepsByRows_AsDenseGradient(Func<Optimizer> optimizer) =>
        AssertStepsByRowsAsDense(MaskZeroLstm, optimizer, IdBatches(3, new long[] { 5, 7 }, 15, DType.Int64, 1));

    [Test]
    public void Int32Ids_SummedByLibTorch_StepsByRows_AsDenseGradient()
    {
        AssertStepsByRowsAsDense(() =>
        {
            var ids = new Input(shape: 7, dtype: DType.Int32);
            return new Model(ids, new Dense(2).Call(new GlobalAveragePooling1D().Call(new Embedding(15, 6).Call(ids))));
        }, () => new Adam(0.01), IdBatches(3, new long[] { 5, 7 }, 15, DType.Int32, 2));
    }

    [Test]
    public void EmbeddingInTimeDistributed_StepsByRows_AsDenseGradient()
    {
        AssertStepsByRowsAsDense(() =>
        {
            var ids = new Input(shape: new[] { 3, 4 }, dtype: DType.Int64);
            return new Model(ids, new Dense(2).Call(new Flatten().Call(new TimeDistributed(new Embedding(15, 6)).Call(ids))));
        }, () => new Adam(0.01), IdBatches(3, new long[] { 5, 3, 4 }, 15, DType.Int64, 3));
    }

    [Test]
    public void BatchWithAnIdOutsideTheTable_Throws_AndTrainingGoesOnAsIfItWasNotGiven()
    {
        var batches = IdBatches(2, new long[] { 5, 7 }, 15, DType.Int64, 4);
        using var a = MaskZeroLstm();
        using var b = MaskZeroLstm();
        b.SetWeights(a.GetWeights());
        a.Compile(new Adam(0.01), new MeanSquaredErrorLoss());
        b.Compile(new Adam(0.01), new MeanSquaredErrorLoss());
        a.TrainOnBatch(batches[0].X, batches[0].Y);
        b.TrainOnBatch(batches[0].X, batches[0].Y);
        using var bad = batches[1].X.clone();
        bad[4, 6] = tensor(15L);
        Assert.That(() => a.TrainOnBatch(bad, batches[1].Y), Throws.Exception);
        a.TrainOnBatch(batches[1].X, batches[1].Y);
        b.TrainOnBatch(batches[1].X, batches[1].Y);
        var (wa, wb) = (a.GetWeights(), b.GetWeights());
        for (var i = 0; i < wa.Count; i++)
        {
            Assert.That(wa[i].Data.ToArray(), Is.EqualTo(wb[i].Data.ToArray()), $"weight {i}");
        }
    }
}
