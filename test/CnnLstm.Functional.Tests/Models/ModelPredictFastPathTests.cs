using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Models;

/// <summary>
/// Predict's per-call path (issue 27): a single batch read into arrays without its own copy, outputs read in one
/// copy, and one-step single-sample LSTM inference (the library's LSTM inference kernel). The results stay those of the
/// batched path and every tensor is released.
/// </summary>
public class ModelPredictFastPathTests
{
    private static long LiveOnThisThread => DisposeScopeManager.Statistics.ThreadTotalLiveCount;

    [SetUp]
    public void Seed()
    {
        Backend.ClearSession();
        Utils.SetRandomSeed(5);
    }

    [Test]
    public void Predict_OutputThatIsTheInputAndTwoEqualOutputs_ComesBackAsOwnArraysAndLeavesNoTensors()
    {
        // Dropout's inference output is the input itself; the same tensor is the model's two outputs.
        var input = new Input(new[] { 3 });
        var same = new Dropout(0.5).Call(input);
        using var model = new Model(new[] { input }, new[] { same, same });
        var x = new float[,] { { 1, 2, 3 }, { 4, 5, 6 } };
        _ = model.Predict(new Array[] { x });
        var live = LiveOnThisThread;
        for (var i = 0; i < 200; i++)
        {
            var single = model.Predict(new Array[] { x }, batchSize: 2);
            var batched = model.Predict(new Array[] { x }, batchSize: 1);
            Assert.That(single[0], Is.EqualTo(x).And.Not.SameAs(x));
            Assert.That(single[1], Is.EqualTo(x).And.Not.SameAs(single[0]));
            Assert.That(batched[0], Is.EqualTo(x));
        }

        Assert.That(LiveOnThisThread, Is.EqualTo(live), "every handle of 400 Predict calls released");
    }

    [Test]
    public void PredictTensors_SingleBatch_StillReturnsACopyTheCallerOwns()
    {
        var input = new Input(new[] { 3 });
        using var model = new Model(input, new Dropout(0.5).Call(input));
        using var x = tensor(new float[] { 1, 2, 3 }, new long[] { 1, 3 });
        var result = model.PredictTensors(new[] { x }).Single();
        using (result)
        {
            x.add_(1);
            Assert.That(result.data<float>().ToArray(), Is.EqualTo(new float[] { 1, 2, 3 }), "the result does not follow later writes to the input");
        }
    }

    [Test]
    public void ToArray_ReadsFloatContiguousAndOtherTensorsAlike()
    {
        using var scope = NewDisposeScope();
        var values = arange(6, dtype: ScalarType.Float32).reshape(2, 3);
        Assert.That(TensorData.ToArray(values), Is.EqualTo(new float[,] { { 0, 1, 2 }, { 3, 4, 5 } }));
        Assert.That(TensorData.ToArray(values.t()), Is.EqualTo(new float[,] { { 0, 3 }, { 1, 4 }, { 2, 5 } }), "a transposed view is read in its own order");
        Assert.That(TensorData.ToArray(values.to_type(ScalarType.Float64).narrow(1, 1, 2)), Is.EqualTo(new float[,] { { 1, 2 }, { 4, 5 } }), "a double view becomes float");
        Assert.That(TensorData.ToArray(zeros(0, 4)), Has.Length.EqualTo(0));
    }

    [Test]
    public void FromArray_EveryElementTypeAndRank_KeepsTheValuesInRowMajorOrder()
    {
        using var scope = NewDisposeScope();
        var floats = TensorData.FromArray(new float[,,] { { { 1.5f, 2 } }, { { 3, 4 } } }, "x");
        Assert.That(floats.shape, Is.EqualTo(new long[] { 2, 1, 2 }));
        Assert.That(floats.dtype, Is.EqualTo(ScalarType.Float32));
        Assert.That(floats.data<float>().ToArray(), Is.EqualTo(new float[] { 1.5f, 2, 3, 4 }));
        var doubles = TensorData.FromArray(new double[,] { { 0.25, -1 }, { 1e30, 7 } }, "x");
        Assert.That(doubles.dtype, Is.EqualTo(ScalarType.Float32));
        Assert.That(doubles.data<float>().ToArray(), Is.EqualTo(new float[] { 0.25f, -1, 1e30f, 7 }));
        var ints = TensorData.FromArray(new int[,] { { 19999, -3 }, { 0, 5 } }, "x");
        Assert.That(ints.dtype, Is.EqualTo(ScalarType.Int64));
        Assert.That(ints.data<long>().ToArray(), Is.EqualTo(new long[] { 19999, -3, 0, 5 }));
        var longs = TensorData.FromArray(new long[,] { { long.MaxValue, 2 } }, "x");
        Assert.That(longs.data<long>().ToArray(), Is.EqualTo(new long[] { long.MaxValue, 2 }));
        Assert.That(TensorData.FromArray(new float[0, 3], "x").shape, Is.EqualTo(new long[] { 0, 3 }));
    }

    [Test]
    public void RegressionModel_SingleSamplePredict_MatchesTheSameSampleInABatch()
    {
        // One sample of one step runs the LSTM cell; a batch of them runs the fused kernel (or the cell where that is distrusted).
        using var model = CnnLstmModels.Regression();
        var random = new Random(3);
        var x = new float[8, 1, 3];
        for (var i = 0; i < 8; i++)
        {
            for (var f = 0; f < 3; f++)
            {
                x[i, 0, f] = (float)(random.NextDouble() * 2) - 1;
            }
        }

        var batch = model.Predict<float[,]>(x, batchSize: 8);
        for (var i = 0; i < 8; i++)
        {
            var one = new float[1, 1, 3];
            for (var f = 0; f < 3; f++)
            {
                one[0, 0, f] = x[i, 0, f];
            }

            Assert.That(model.Predict<float[,]>(one)[0, 0], Is.EqualTo(batch[i, 0]).Within(1e-6), $"sample {i}");
        }
    }

    [Test]
    public void LstmOneStepOneSample_Inference_MatchesTheSampleInABatchAndLeavesNoTensors()
    {
        var input = new Input(new[] { 1, 4 });
        var lstm = new LSTM(6, returnState: true);
        using var model = new Model(new[] { input }, lstm.CallMulti(input));
        using var x = rand(1, 1, 4);
        using var pair = cat(new[] { x, x }, 0);
        var one = model.PredictTensors(new[] { x });
        var two = model.PredictTensors(new[] { pair });
        try
        {
            for (var o = 0; o < 3; o++)
            {
                var difference = (one[o] - two[o].narrow(0, 0, 1)).abs().max().item<float>();
                Assert.That(difference, Is.LessThan(1e-6), $"output {o} (sequence output, h, c)");
            }
        }
        finally
        {
            one.Concat(two).ToList().ForEach(t => t.Dispose());
        }

        var live = LiveOnThisThread;
        for (var i = 0; i < 100; i++)
        {
            model.PredictTensors(new[] { x }).ForEach(t => t.Dispose());
        }

        Assert.That(LiveOnThisThread, Is.EqualTo(live));
    }
}
