using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Tests.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Layers;

public class DropoutTests
{
    [SetUp]
    public void FreshNames() => Backend.ClearSession();

    [TestCase(0.25)]
    [TestCase(0.9)]
    public void Predict_IsIdentity(double rate)
    {
        var x = TestData.Sequence(4, 5, 3, seed: 9);

        var y = (float[,,])TestData.Run(new Dropout(rate), new[] { 5, 3 }, x);

        Assert.That(y, Is.EqualTo(x));
    }

    [Test]
    public void Call_KeepsShapeAndHasNoWeights()
    {
        var dropout = new Dropout(0.25);
        var output = dropout.Call(new Input(new[] { 1, 3 }));
        Assert.That(output.Shape, Is.EqualTo(new Shape(null, 1, 3)));
        Assert.That(dropout.Weights, Is.Empty);
        Assert.That(dropout.Rate, Is.EqualTo(0.25));
    }

    [TestCase(-0.1)]
    [TestCase(1.0)]
    [TestCase(1.5)]
    [TestCase(double.NaN)]
    public void Constructor_WithRateOutsideZeroToOne_ThrowsArgumentOutOfRange(double rate)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new Dropout(rate))!;
        Assert.That(error.ParamName, Is.EqualTo("rate"));
    }

    [TestCase(0.0)]
    [TestCase(0.999)]
    public void Constructor_WithRateInZeroToOne_Accepts(double rate) =>
        Assert.That(new Dropout(rate).Rate, Is.EqualTo(rate));

    [Test]
    public void Forward_WhileTraining_DropsAboutRateAndScalesTheRestByOneOverKeep()
    {
        Utils.SetRandomSeed(1234);
        var dropout = new Dropout(0.5);
        using var x = ones(1, 4000);

        var y = dropout.Invoke(x, training: true).data<float>().ToArray();

        // Inverted dropout: every value is 0 or 1 / (1 - 0.5) = 2.
        Assert.That(y, Has.All.EqualTo(0f).Or.EqualTo(2f));
        Assert.That(y.Count(v => v == 0f), Is.InRange(1800, 2200));
    }

    [Test]
    public void Forward_NotTraining_IsIdentity()
    {
        using var x = ones(1, 100);
        var y = new Dropout(0.5).Invoke(x, training: false).data<float>().ToArray();
        Assert.That(y, Has.All.EqualTo(1f));
    }

    [TestCase(8, 1)]
    [TestCase(30, 2)]
    public void TrainOnBatch_SentimentModel_StepsAsTheMaskTensorPathBitForBit(int batch, int threads)
    {
        // Embedding -> Dropout(0.25) -> Conv1D -> ... : the weights after three steps, the Embedding's gradient
        // having passed through the Dropout's backward, as the path that multiplies by a mask tensor gives them.
        using var split = TestSetup.Threads(threads);
        var tokens = new long[batch, 40];
        var random = new Random(3);
        for (var i = 0; i < batch; i++)
        {
            for (var t = 0; t < 40; t++)
            {
                tokens[i, t] = random.Next(300);
            }
        }

        var labels = new float[batch, 1];
        for (var i = 0; i < batch; i++)
        {
            labels[i, 0] = i % 2;
        }

        float[][] Train(bool maskTensor)
        {
            Backend.ClearSession();
            Utils.SetRandomSeed(21);
            DropoutMask.UseMaskTensor = maskTensor;
            try
            {
                using var model = CnnLstmModels.Sentiment(maxFeatures: 300, maxLen: 40, embeddingSize: 32, filters: 8, lstmUnits: 6);
                model.Compile("adam", "binary_crossentropy");
                for (var step = 0; step < 3; step++)
                {
                    model.TrainOnBatch(tokens, labels);
                }

                return model.GetWeights().Select(w => w.Data).ToArray();
            }
            finally
            {
                DropoutMask.UseMaskTensor = false;
            }
        }

        var actual = Train(false);
        var expected = Train(true);
        Assert.That(actual, Is.EqualTo(expected));
    }

    [Test]
    public void TrainOnBatch_ManySteps_LeavesNoTensorsAndNoAutogradNodes()
    {
        var input = new Input(new[] { 12, 16 });
        using var model = new Model(input, new Dense(1).Call(new Flatten().Call(new Dropout(0.25).Call(new Dense(16).Call(input)))));
        model.Compile("adam", "mse");
        var x = TestData.Sequence(30, 12, 16, seed: 2);
        var y = TestData.Matrix(30, 1, seed: 3);
        model.TrainOnBatch(x, y);
        var live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        var nodes = DropoutMaskTests.AliveAutogradFunctionNodes();
        for (var i = 0; i < 20; i++)
        {
            model.TrainOnBatch(x, y);
        }

        Assert.That(DisposeScopeManager.Statistics.ThreadTotalLiveCount, Is.EqualTo(live), "tensors");
        Assert.That(DropoutMaskTests.AliveAutogradFunctionNodes(), Is.EqualTo(nodes), "nodes");
    }

    [Test]
    public void EagerCall_BackwardAfterTheCallEnded_RunsAndLeavesNoTensors()
    {
        // The layer's own dispose scopes end before the caller's backward: the graph node's tensors must outlive them.
        Utils.SetRandomSeed(5);
        var dropout = new Dropout(0.25);
        using var x = randn(6, 20, 8).requires_grad_(true);
        void Step()
        {
            using var scope = NewDisposeScope();
            dropout.Invoke(x, training: true).sum().backward();
        }

        Step();
        var (live, nodes) = (DisposeScopeManager.Statistics.ThreadTotalLiveCount, DropoutMaskTests.AliveAutogradFunctionNodes());
        for (var i = 0; i < 5; i++)
        {
            Step();
        }

        Assert.That(DisposeScopeManager.Statistics.ThreadTotalLiveCount, Is.EqualTo(live), "tensors");
        Assert.That(DropoutMaskTests.AliveAutogradFunctionNodes(), Is.EqualTo(nodes), "nodes");
        using var gradient = x.grad!;
        var values = gradient.data<float>().ToArray();
        // Six calls, each adding 0 or 1 / 0.75 per element.
        Assert.That(values.Max(), Is.GreaterThan(4f));
        Assert.That(values.All(v => Math.Abs((v * 0.75) - Math.Round(v * 0.75)) < 1e-4), Is.True, "sums of 0 and 1 / 0.75");
        Assert.That(values.Count(v => v == 0f), Is.LessThan(values.Length / 10));
    }
}
