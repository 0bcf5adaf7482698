using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Training.Optimizers;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Engine;

/// <summary>
/// The kernel checks, and the fallbacks they switch to. This machine may well run every fast kernel correctly, so
/// each failure is forced with KernelChecks.Distrust (undone after each test by an internal hook); the fallback must then give the reference maths (C# doubles).
/// The library's own small-batch convolution (tested in SmallConv1DKernelTests) is switched off here, so that
/// inference reaches libtorch's checked convolutions.
/// </summary>
[NonParallelizable]
public class KernelChecksTests
{
    private readonly List<string> warnings = new();

    [SetUp]
    public void SetUp()
    {
        Backend.ClearSession();
        Utils.SetRandomSeed(11);
        warnings.Clear();
        Warnings.Raised += Record;
        SmallConv1DKernel.Width = 0;
    }

    [TearDown]
    public void TearDown()
    {
        Warnings.Raised -= Record;
        KernelChecks.ClearDistrust();
        SmallConv1DKernel.Width = SmallConv1DKernel.NativeWidth;
    }

    [Test]
    public void RunAll_ChecksEveryFastKernelInBothModes()
    {
        var results = KernelChecks.RunAll();
        Assert.That(results.Select(r => r.Kernel).Distinct(), Is.SupersetOf(new[]
        {
            Conv1DKernels.ChannelsLastInference, Conv1DKernels.ChannelsLastTraining,
            Conv1DKernels.SingleSampleInference, Conv1DKernels.SingleSampleTraining, MaxPool1DKernels.ChannelsLastTraining,
            MaxPool1DKernels.ChannelsFirstTraining,
        }));
        Assert.That(results.Select(r => r.Kernel).Distinct(), Is.EquivalentTo(KernelChecks.Kernels), "KernelChecks.Kernels lists exactly the checked kernels");
        Assert.That(results, Has.All.Matches<KernelCheckResult>(r => r != null && !double.IsNaN(r.MaxDifference) && r.Milliseconds > 0 && r.Fallback.Length > 0));
    }

    [Test]
    public void Check_WhenForced_ReportsFailureWithItsMeasuredDifference()
    {
        KernelChecks.Distrust(MaxPool1DKernels.ChannelsLastTraining);
        Assert.That(MaxPool1DKernels.Trusted(MaxPool1DKernels.ChannelsLastTraining, pool: 3, stride: 2), Is.False);
        var result = KernelChecks.Results.Single(r => r.Kernel == MaxPool1DKernels.ChannelsLastTraining && r.Case.StartsWith("pool 3, stride 2", StringComparison.Ordinal));
        Assert.That(result.Forced, Is.True);
        Assert.That(result.Passed, Is.False);
        Assert.That(result.MaxDifference, Is.LessThanOrEqualTo(result.Tolerance), "max_pool2d itself is right here; only the verdict is forced");
        Assert.That(result.ToString(), Does.Contain("FAILED (distrusted)").And.Contain("using unfold and max"));
    }

    [Test]
    public void ConvKernelCheck_RunsOnTheLayersOwnStridesAndDilation()
    {
        // oneDNN chooses its kernel by the windows: on AMD Zen 5 a transposed convolution with stride 1 and dilation 2
        // was wrong while the stride-2 case the check used to run was right, so the key and the check take the layer's.
        Assert.That(ConvKernels.Key(1, 3, 2, 1, new[] { 3L }, new[] { 1 }, new[] { 2 }), Is.Not.EqualTo(ConvKernels.Key(1, 3, 2, 1, new[] { 3L }, new[] { 2 }, new[] { 2 })));
        using var scope = NewDisposeScope();
        using var layer = new Conv1DTranspose(2, 3, dilationRate: 2, useBias: false);
        layer.Invoke(randn(2, 6, 3));

        Assert.That(KernelChecks.Results.Where(r => r.Kernel is ConvKernels.TransposeInference or ConvKernels.TransposeTraining).Select(r => r.Case),
            Has.Some.Contains("kernel (3), strides (1), dilation (2)"));
    }

    [Test]
    public void Distrust_UnknownKernel_ThrowsListingTheKnownOnes()
    {
        var error = Assert.Throws<ArgumentException>(() => KernelChecks.Distrust("lstm-fused"));
        Assert.That(error!.Message, Does.Contain("'lstm-fused'").And.Contain(Conv1DKernels.ChannelsLastTraining).And.Contain(MaxPool1DKernels.ChannelsLastTraining));
    }

    [Test]
    public void Check_DoesNotMoveTorchsRandomGenerator()
    {
        Utils.SetRandomSeed(3);
        using var expected = rand(5);
        Utils.SetRandomSeed(3);
        // A case no other test uses, so the check runs now; its measurement draws from torch's generator.
        KernelChecks.Trusted(MaxPool1DKernels.ChannelsLastTraining, new KernelCase(9999, 13), 1e-4, "none", static _ => "a check that draws numbers", static _ =>
        {
            using var drawn = rand(3);
            return 0;
        });
        using var actual = rand(5);
        Assert.That(actual.data<float>().ToArray(), Is.EqualTo(expected.data<float>().ToArray()));
    }

    [Test]
    public void Predict_RunsTheLibraryLstmKernelWithoutAnyCheck()
    {
        // Inference and training run the library's own LSTM kernels (issue 27), not oneDNN's: no check and no warning.
        Assert.Throws<ArgumentException>(() => KernelChecks.Distrust("lstm-fused-inference"), "oneDNN's inference kernel is no longer used, nor checked");
        Assert.Throws<ArgumentException>(() => KernelChecks.Distrust("lstm-fused-training"), "oneDNN's training kernel is no longer used, nor checked");

        // Units and features no other test uses, so no earlier check of this shape could have run.
        var lstm = new LSTM(9, returnSequences: true);
        var model = TestData.Wrap(lstm, new[] { 5, 4 });
        TestData.Randomize(lstm.Weights[2], seed: 4);
        var x = TestData.Sequence(4, 5, 4, seed: 8);

        var actual = ((float[,,])model.Predict(x)).Cast<float>().ToArray();
        Assert.That(MaxDifference(actual, LstmReference(lstm, x)), Is.LessThan(1e-6));
        Assert.That(KernelChecks.Results.Where(r => r.Case.StartsWith("input 4, units 9,", StringComparison.Ordinal)), Is.Empty);
        Assert.That(warnings, Is.Empty);
    }

    [Test]
    public void Predict_FollowsWeightsChangedByTrainingAndSetWeights()
    {
        // The inference kernel keeps its packing of the recurrent kernel while the weight's bytes are unchanged.
        var lstm = new LSTM(6, returnSequences: true);
        var model = TestData.Wrap(lstm, new[] { 5, 3 });
        model.Compile(new SGD(learningRate: 0.5), "mse");
        var x = TestData.Sequence(4, 5, 3, seed: 8);
        model.Predict(x);

        model.TrainOnBatch(x, TestData.Sequence(4, 5, 6, seed: 9));
        Assert.That(MaxDifference(((float[,,])model.Predict(x)).Cast<float>().ToArray(), LstmReference(lstm, x)), Is.LessThan(1e-6), "after a training step");

        var weights = model.GetWeights().Select((w, i) => new WeightArray(w.Shape.ToArray(), w.Data.Select((v, j) => v + (0.01f * (((i + j) % 7) - 3))).ToArray())).ToArray();
        model.SetWeights(weights);
        Assert.That(MaxDifference(((float[,,])model.Predict(x)).Cast<float>().ToArray(), LstmReference(lstm, x)), Is.LessThan(1e-6), "after SetWeights");
    }

    [TestCase(1, 1, "valid")]
    [TestCase(2, 3, "valid")]
    [TestCase(1, 2, "causal")]
    [TestCase(1, 1, "same")]
    public void Predict_WithChannelsLastConvForcedToFail_GivesReferenceNumbers(int strides, int dilation, string padding)
    {
        KernelChecks.Distrust(Conv1DKernels.ChannelsLastInference);
        var conv = new Conv1D(filters: 4, kernelSize: 3, strides: strides, padding: padding, dilationRate: dilation);
        var model = TestData.Wrap(conv, new[] { 12, 5 });
        TestData.Randomize(conv.Weights[1], seed: 2);
        var x = TestData.Sequence(3, 12, 5, seed: 6);

        var actual = ((float[,,])model.Predict(x)).Cast<float>().ToArray();
        var left = padding == "causal" ? 2 * dilation : padding == "same" ? 1 : 0;
        var right = padding == "same" ? 1 : 0;
        Assert.That(MaxDifference(actual, ConvReference(conv, x, left, right, strides, dilation)), Is.LessThan(1e-5));
        Assert.That(warnings, Has.One.Contains(Conv1DKernels.ChannelsLastInference));
    }

    [TestCase(false, TestName = "Predict_OneSample_GivesReferenceNumbers")]
    [TestCase(true, TestName = "Predict_OneSample_WithSingleSampleConvForcedToFail_UsesIm2ColAndGivesReferenceNumbers")]
    public void Predict_OneSample_GivesReferenceNumbers(bool distrust)
    {
        if (distrust)
        {
            KernelChecks.Distrust(Conv1DKernels.SingleSampleInference);
        }

        var conv = new Conv1D(filters: 4, kernelSize: 3, strides: 2, padding: "valid", dilationRate: 2);
        var model = TestData.Wrap(conv, new[] { 11, 5 });
        TestData.Randomize(conv.Weights[1], seed: 2);
        var x = TestData.Sequence(1, 11, 5, seed: 6);
        var actual = ((float[,,])model.Predict(x)).Cast<float>().ToArray();
        Assert.That(MaxDifference(actual, ConvReference(conv, x, 0, 0, 2, 2)), Is.LessThan(1e-5));
        Assert.That(warnings.Count(w => w.Contains(Conv1DKernels.SingleSampleInference, StringComparison.Ordinal)), Is.EqualTo(distrust ? 1 : 0));
    }

    [Test]
    public void TrainOnBatch_OneSample_WithSingleSampleConvAndChannelsFirstPoolForcedToFail_StepsAsLibtorch()
    {
        var x = TestData.Sequence(1, 12, 3, seed: 8);
        var y = TestData.Matrix(1, 5, seed: 9);
        float[] Train() => TrainedWeights(new[] { 12, 3 }, x, y, input =>
        {
            var h = new Conv1D(filters: 5, kernelSize: 3, strides: 1, padding: "valid", activation: "tanh").Call(input);
            h = new MaxPooling1D(poolSize: 2).Call(h);
            return new LSTM(5).Call(h);
        });

        var libtorch = Train();
        KernelChecks.Distrust(MaxPool1DKernels.ChannelsFirstTraining);
        var unfoldedPool = Train();
        // im2col's output is channels-last, so the pool after it takes the channels-last path.
        KernelChecks.Distrust(Conv1DKernels.SingleSampleTraining);
        var im2col = Train();

        Assert.That(MaxDifference(unfoldedPool, libtorch.Select(v => (double)v).ToArray()), Is.LessThan(1e-6));
        Assert.That(MaxDifference(im2col, libtorch.Select(v => (double)v).ToArray()), Is.LessThan(1e-6));
        Assert.That(warnings, Has.One.Contains(Conv1DKernels.SingleSampleTraining));
        Assert.That(warnings, Has.One.Contains(MaxPool1DKernels.ChannelsFirstTraining));
    }

    [Test]
    public void Predict_ChannelsFirstInput_PoolsWithoutLibtorch_ToReferenceNumbers()
    {
        // One sample: the convolution's output is a transposed view of channels-first memory.
        var input = new Input(new[] { 12, 3 });
        var conv = new Conv1D(filters: 6, kernelSize: 3);
        var convolved = conv.Call(input);
        var model = new Model(new[] { input }, new[] { convolved, new MaxPooling1D(poolSize: 3, strides: 2).Call(convolved) });
        var x = TestData.Sequence(1, 12, 3, seed: 6);
        var outputs = model.Predict(new Array[] { x });
        var expected = ReferenceMaths.MaxPool1D(((float[,,])outputs[0]).Cast<float>().Select(v => (double)v).ToArray(), 1, 10, 6, 3, 2);
        Assert.That(MaxDifference(((float[,,])outputs[1]).Cast<float>().ToArray(), expected), Is.EqualTo(0));
    }

    [Test]
    public void Nnpack_IsTurnedOffOnceAConvolutionRan()
    {
        var conv = new Conv1D(filters: 2, kernelSize: 2);
        TestData.Wrap(conv, new[] { 4, 3 }).Predict(TestData.Sequence(1, 4, 3, seed: 1));
        Assert.That(LibTorchSwitches.NnpackDisabled, Is.True);
    }

    [Test]
    public void TrainOnBatch_WithChannelsLastConvAndPoolForcedToFail_StepsAsTheFastKernels()
    {
        var x = TestData.Sequence(4, 12, 3, seed: 8);
        var y = TestData.Matrix(4, 2, seed: 9);
        float[] Train() => TrainedWeights(new[] { 12, 3 }, x, y, input =>
        {
            var h = new Conv1D(filters: 5, kernelSize: 3, strides: 1, padding: "valid", dilationRate: 2, activation: "relu").Call(input);
            h = new MaxPooling1D(poolSize: 2).Call(h);
            return new Dense(2).Call(new LSTM(3).Call(h));
        });

        var fast = Train();
        KernelChecks.Distrust(Conv1DKernels.ChannelsLastTraining);
        KernelChecks.Distrust(MaxPool1DKernels.ChannelsLastTraining);
        var plain = Train();

        Assert.That(MaxDifference(plain, fast.Select(v => (double)v).ToArray()), Is.LessThan(1e-6));
        Assert.That(warnings, Has.One.Contains(Conv1DKernels.ChannelsLastTraining));
        Assert.That(warnings, Has.One.Contains(MaxPool1DKernels.ChannelsLastTraining));
    }

    [TestCase(2, 2)]
    [TestCase(3, 1)]
    public void Predict_ChannelsLastPool_GivesReferenceNumbers(int poolSize, int strides)
    {
        var model = TestData.Wrap(new MaxPooling1D(poolSize: poolSize, strides: strides), new[] { 9, 4 });
        var x = TestData.Sequence(3, 9, 4, seed: 6);
        var actual = ((float[,,])model.Predict(x)).Cast<float>().ToArray();
        var expected = ReferenceMaths.MaxPool1D(x.Cast<float>().Select(v => (double)v).ToArray(), 3, 9, 4, poolSize, strides);
        Assert.That(MaxDifference(actual, expected), Is.EqualTo(0));
    }

    /// <summary>The weights after one SGD step from seed 21 of the model <paramref name="build"/> makes on an input.</summary>
    private static float[] TrainedWeights(int[] inputShape, Array x, Array y, Func<Input, KerasTensor> build)
    {
        Backend.ClearSession();
        Utils.SetRandomSeed(21);
        var input = new Input(inputShape);
        using var model = new Model(input, build(input));
        model.Compile(new SGD(learningRate: 0.5), "mse");
        model.TrainOnBatch(x, y);
        return TinyModels.Flat(model);
    }

    private static double[] LstmReference(LSTM lstm, float[,,] x)
    {
        double[] Torch(int i) => lstm.Weights[i].Variable.detach().contiguous().data<float>().ToArray().Select(v => (double)v).ToArray();
        return ReferenceMaths.Lstm(x.Cast<float>().Select(v => (double)v).ToArray(), Torch(0), Torch(1), Torch(2),
            x.GetLength(0), x.GetLength(1), x.GetLength(2), lstm.Units).Sequence;
    }

    private static double[] ConvReference(Conv1D conv, float[,,] x, int left, int right, int strides, int dilation)
    {
        var (batch, length, channels) = (x.GetLength(0), x.GetLength(1), x.GetLength(2));
        var padded = new double[batch * (length + left + right) * channels];
        for (var n = 0; n < batch; n++)
        {
            for (var t = 0; t < length; t++)
            {
                for (var c = 0; c < channels; c++)
                {
                    padded[(((n * (length + left + right)) + t + left) * channels) + c] = x[n, t, c];
                }
            }
        }

        double[] Torch(int i) => conv.Weights[i].Variable.detach().contiguous().data<float>().ToArray().Select(v => (double)v).ToArray();
        return ReferenceMaths.Conv1D(padded, Torch(0), Torch(1), batch, length + left + right, channels, conv.Filters, conv.KernelSize, strides, dilation);
    }

    private static double MaxDifference(float[] actual, double[] expected)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length));
        return actual.Select((v, i) => Math.Abs(v - expected[i])).DefaultIfEmpty(0).Max();
    }

    private void Record(object? sender, string message) => warnings.Add(message);
}
