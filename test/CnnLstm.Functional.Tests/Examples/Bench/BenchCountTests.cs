using KerasStyle.Examples.Bench;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;

namespace KerasStyle.Tests.Examples.Bench;

/// <summary>
/// The bench's counted FLOPs and bytes (issue 27; src/CnnLstm.Examples/Bench/FlopCount.cs and ByteCount.cs, linked
/// into this project): each figure computed by hand from the layer shapes, as docs/performance.md "Machine limits
/// and floors" explains.
/// </summary>
public class BenchCountTests
{
    [SetUp]
    public void Fresh() => Backend.ClearSession();

    [Test]
    public void Sentiment_ForwardFlops_AreTheConvolutionTheLstmProductsAndTheDense()
    {
        using var model = CnnLstmModels.Sentiment();

        // Conv1D: 96 output steps x 64 filters of 5·128-long dot products; LSTM over 24 steps: x·W (64 → 280) and
        // h·U (70 → 280); Dense 70 → 1. Embedding, Dropout, pooling and the sigmoid count 0.
        const double Expected = (2.0 * 5 * 128 * 64 * 96) + (24 * 2.0 * 64 * 280) + (24 * 2.0 * 70 * 280) + (2.0 * 70);
        Assert.That(FlopCount.ForwardPerSample(model), Is.EqualTo(Expected));
    }

    [Test]
    public void Sentiment_TrainingFlops_AreThreeForwards_AsTheTrainableEmbeddingNeedsTheConvolutionsInputGradient()
    {
        using var model = CnnLstmModels.Sentiment();

        Assert.That(FlopCount.TrainingPerSample(model), Is.EqualTo(3 * FlopCount.ForwardPerSample(model)));
    }

    [Test]
    public void Regression_TrainingFlops_LeaveOutTheFirstConvolutionsInputGradient()
    {
        using var model = CnnLstmModels.Regression();

        // Input (1, 3) → Dropout → Conv1D(10, 1) → MaxPooling1D(1) → LSTM(70) → Dense(1): the convolution reads the
        // model's input (through Dropout, which has no weights), so it is counted forward and for its weights only.
        const double Conv = 2.0 * 1 * 3 * 10 * 1;
        const double LstmInput = 1 * 2.0 * 10 * 280;
        const double LstmRecurrent = 1 * 2.0 * 70 * 280;
        const double Dense = 2.0 * 70;
        Assert.That(FlopCount.ForwardPerSample(model), Is.EqualTo(Conv + LstmInput + LstmRecurrent + Dense));
        Assert.That(FlopCount.TrainingPerSample(model), Is.EqualTo((2 * Conv) + (3 * LstmInput) + (3 * LstmRecurrent) + (3 * Dense)));
    }

    [Test]
    public void TimeDistributedConvolution_IsCountedOncePerTimeStep()
    {
        var weeks = new Input(shape: (4, 7, 1));
        var x = new TimeDistributed(new Conv1D(64, 3)).Call(weeks);
        using var model = new Model(weeks, x);

        // Per week: 5 output steps x 64 filters of 3·1-long dot products.
        Assert.That(FlopCount.ForwardPerSample(model), Is.EqualTo(4 * 2.0 * 3 * 1 * 64 * 5));
    }

    [Test]
    public void DenseOverASequence_IsCountedOncePerStep_AndItsInputGradientIsNotNeededOnTheModelInput()
    {
        var steps = new Input(shape: (6, 4));
        using var model = new Model(steps, new Dense(3).Call(steps));

        Assert.That(FlopCount.ForwardPerSample(model), Is.EqualTo(6 * 2.0 * 4 * 3));
        Assert.That(FlopCount.TrainingPerSample(model), Is.EqualTo(2 * 6 * 2.0 * 4 * 3));
    }

    [Test]
    public void SelfAttention_CountsTheScoresAndTheWeightedSum()
    {
        var sequence = new Input(shape: (24, 70));
        using var model = new Model(sequence, new Attention().Call(sequence, sequence));

        Assert.That(FlopCount.ForwardPerSample(model), Is.EqualTo(2 * 2.0 * 24 * 24 * 70));
        // Both sides are activations: no weight gradient, and the model input needs no gradient.
        Assert.That(FlopCount.TrainingPerSample(model), Is.EqualTo(FlopCount.ForwardPerSample(model)));
    }

    [Test]
    public void Sentiment_TrainingBytes_AreAdamsStateOfEveryEmbeddingRowAndFortyBytesAParameterOfTheRest()
    {
        using var model = CnnLstmModels.Sentiment();

        var traffic = ByteCount.Training(model);

        const double Embedding = 20000.0 * 128;
        const double Rest = (5 * 128 * 64) + 64 + (64 * 280) + (70 * 280) + 280 + 70 + 1;
        Assert.That(Rest, Is.EqualTo(78895));
        Assert.That(traffic.PerStep, Is.EqualTo((Embedding * 24) + (Rest * 40)));
        // Activations: Embedding and Dropout outputs (100 x 128), Conv1D (96 x 64), pooling (24 x 64), the LSTM's 4
        // gates, cell and hidden state for 24 steps, Dense and sigmoid (1 each); 20 B a value in training.
        const double Activations = (2 * 100 * 128) + (96 * 64) + (24 * 64) + (24 * 6 * 70) + 1 + 1;
        Assert.That(traffic.Activations, Is.EqualTo(Activations * 20));
        // Besides: the 100 token ids (8 B each) and the looked-up rows, read (4 B) and their gradient written and read (8 B).
        Assert.That(traffic.PerSample, Is.EqualTo((Activations * 20) + (100 * 8) + (100 * 128 * 12)));
        Assert.That(traffic.Step(30), Is.EqualTo(traffic.PerStep + (30 * traffic.PerSample)));
    }

    [Test]
    public void Sentiment_InferenceBytes_ReadEachWeightOnceAndOnlyTheLookedUpEmbeddingRows()
    {
        using var model = CnnLstmModels.Sentiment();

        var traffic = ByteCount.Inference(model);

        const double Activations = (2 * 100 * 128) + (96 * 64) + (24 * 64) + (24 * 6 * 70) + 1 + 1;
        Assert.That(traffic.PerStep, Is.EqualTo(78895 * 4.0));
        Assert.That(traffic.Activations, Is.EqualTo(Activations * 8));
        Assert.That(traffic.PerSample, Is.EqualTo((Activations * 8) + (100 * 8) + (100 * 128 * 4)));
    }

    [Test]
    public void FrozenLayer_IsReadOnceAndNeedsNoWeightGradient()
    {
        var steps = new Input(shape: (6, 4));
        var dense = new Dense(3) { Trainable = false };
        using var model = new Model(steps, dense.Call(steps));

        Assert.That(ByteCount.Training(model).PerStep, Is.EqualTo(((4 * 3) + 3) * 4.0));
        Assert.That(FlopCount.TrainingPerSample(model), Is.EqualTo(FlopCount.ForwardPerSample(model)));
    }

    [Test]
    public void Floor_IsFlopsAtThePeakPlusBytesAtTheBandwidth()
    {
        Assert.That(ByteCount.FloorSeconds(2e9, 1e8, 1e11, 2e10), Is.EqualTo(0.02 + 0.005).Within(1e-15));
    }
}
