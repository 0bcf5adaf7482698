using KerasStyle.Engine;
using KerasStyle.Layers;
using KerasStyle.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Engine;

/// <summary>
/// The library's LSTM inference kernel (issue 27) against the library's reference maths (C# doubles) and the
/// step-by-step cell: every vector width, batches that are not multiples of the four-sample block, units that are
/// not multiples of the lanes, initial states, whole layers and the seed sentiment model, within 1e-6.
/// </summary>
public class LstmInferenceKernelTests
{
    private const double Tolerance = 1e-6;

    private static long LiveOnThisThread => DisposeScopeManager.Statistics.ThreadTotalLiveCount;

    [SetUp]
    public void Seed()
    {
        Backend.ClearSession();
        Utils.SetRandomSeed(7);
    }

    [Test]
    public void Run_MatchesReferenceMaths(
        [Values(1, 3, 5, 256)] int batch,
        [Values(7, 32, 70)] int units,
        [Values(1, 24)] int steps)
    {
        var weights = new Weights(input: 9, units, seed: batch + (10 * units) + (1000 * steps));
        var x = Uniform(new Random(steps + batch), batch * steps * 9, 1.0);
        var expected = ReferenceMaths.Lstm(x, weights.W, weights.U, weights.B, batch, steps, 9, units);

        var (sequence, lastH, lastC) = RunKernel(weights, x, batch, steps, lanes: 0, initial: null);

        Assert.That(MaxDifference(sequence, expected.Sequence), Is.LessThan(Tolerance), "every step's h");
        Assert.That(MaxDifference(lastC, expected.LastCell), Is.LessThan(Tolerance), "last c");
        Assert.That(MaxDifference(lastH, LastStep(expected.Sequence, batch, steps, units)), Is.LessThan(Tolerance), "last h");
    }

    [Test]
    public void Run_EveryVectorWidth_MatchesReferenceMaths([Values(16, 8, 4, 1)] int lanes, [Values(3, 9)] int batch)
    {
        // Widths this CPU lacks run in .NET's software fallback: slower, but the same arithmetic.
        var weights = new Weights(input: 5, units: 70, seed: lanes);
        var x = Uniform(new Random(lanes), batch * 24 * 5, 1.0);
        var expected = ReferenceMaths.Lstm(x, weights.W, weights.U, weights.B, batch, 24, 5, 70);

        var (sequence, _, lastC) = RunKernel(weights, x, batch, 24, lanes, initial: null);

        Assert.That(MaxDifference(sequence, expected.Sequence), Is.LessThan(Tolerance));
        Assert.That(MaxDifference(lastC, expected.LastCell), Is.LessThan(Tolerance));
    }

    [Test]
    public void Run_SplitAcrossTwoThreads_MatchesReferenceMaths()
    {
        // 258 samples: two ranges of whole four-sample blocks, the second ending in two samples run alone.
        using var threads = TestSetup.Threads(2);
        var weights = new Weights(input: 16, units: 70, seed: 12);
        var x = Uniform(new Random(12), 258 * 24 * 16, 1.0);
        var expected = ReferenceMaths.Lstm(x, weights.W, weights.U, weights.B, 258, 24, 16, 70);

        var (sequence, _, lastC) = RunKernel(weights, x, 258, 24, lanes: 0, initial: null);

        Assert.That(MaxDifference(sequence, expected.Sequence), Is.LessThan(Tolerance));
        Assert.That(MaxDifference(lastC, expected.LastCell), Is.LessThan(Tolerance));
    }

    [Test]
    public void Run_FromInitialStates_MatchesTheStepByStepCell([Values(1, 5, 8)] int batch, [Values(7, 32)] int units)
    {
        const int Steps = 6;
        const int Input = 4;
        using var scope = NewDisposeScope();
        using var cell = new LSTMCell(units);
        var random = new Random(units + batch);
        var x = tensor(Uniform(random, batch * Steps * Input, 1.0).Select(v => (float)v).ToArray(), new long[] { batch, Steps, Input });
        var h0 = tensor(Uniform(random, batch * units, 1.0).Select(v => (float)v).ToArray(), new long[] { batch, units });
        var c0 = tensor(Uniform(random, batch * units, 2.0).Select(v => (float)v).ToArray(), new long[] { batch, units });
        cell.Call(x.select(1, 0), new[] { h0, c0 });
        TestData.Randomize(cell.Weights[2], seed: units);

        var states = new[] { h0, c0 };
        var outputs = new List<Tensor>();
        for (var t = 0; t < Steps; t++)
        {
            var (output, next) = cell.Call(x.select(1, t), states);
            outputs.Add(output);
            states = next.ToArray();
        }

        PackedLstmWeights? packed = null;
        using var inference = inference_mode();
        var (sequence, h, c) = LstmInferenceKernel.Run(x, cell.Weights[0].Variable, cell.Weights[1].Variable, cell.Weights[2].Variable, new[] { h0, c0 }, ref packed);

        Assert.That(sequence.shape, Is.EqualTo(new long[] { batch, Steps, units }));
        Assert.That((sequence - stack(outputs, 1)).abs().max().item<float>(), Is.LessThan(Tolerance), "every step's h");
        Assert.That((h - states[0]).abs().max().item<float>(), Is.LessThan(Tolerance), "last h");
        Assert.That((c - states[1]).abs().max().item<float>(), Is.LessThan(Tolerance), "last c");
    }

    [Test]
    public void Run_OneSampleOneStep_ReadsTheWeightsDirectly_MatchesReferenceMaths(
        [Values(16, 8, 4, 1)] int lanes, [Values(7, 70)] int units, [Values(3, 10, 40)] int input, [Values(false, true)] bool noBias)
    {
        // Batch · steps at most LstmInferenceKernel.DirectLimit: dot products over W's and U's rows, no packing kept.
        var weights = new Weights(input, units, seed: lanes + units + input);
        var x = Uniform(new Random(input), input, 1.0);
        var expected = ReferenceMaths.Lstm(x, weights.W, weights.U, noBias ? new double[4 * units] : weights.B, 1, 1, input, units);
        using var scope = NewDisposeScope();
        using var inference = inference_mode();
        var (w, u, b) = weights.Tensors();
        PackedLstmWeights? packed = null;

        var (sequence, h, c) = LstmInferenceKernel.Run(Float(x, 1, 1, input), w, u, noBias ? null : b, null, ref packed, lanes);

        Assert.That(packed, Is.Null, "no packing for one sample of one step");
        Assert.That(sequence.shape, Is.EqualTo(new long[] { 1, 1, units }));
        Assert.That(MaxDifference(ToDoubles(sequence), expected.Sequence), Is.LessThan(Tolerance), "h");
        Assert.That(MaxDifference(ToDoubles(h), expected.Sequence), Is.LessThan(Tolerance), "last h");
        Assert.That(MaxDifference(ToDoubles(c), expected.LastCell), Is.LessThan(Tolerance), "last c");
    }

    [Test]
    public void Run_OneSampleOneStepFromInitialStates_MatchesTheCell([Values(16, 8, 4, 1)] int lanes, [Values(7, 70)] int units)
    {
        const int Input = 10;
        using var scope = NewDisposeScope();
        using var cell = new LSTMCell(units);
        var random = new Random(units + lanes);
        var x = tensor(Uniform(random, Input, 1.0).Select(v => (float)v).ToArray(), new long[] { 1, 1, Input });
        var h0 = tensor(Uniform(random, units, 1.0).Select(v => (float)v).ToArray(), new long[] { 1, units });
        var c0 = tensor(Uniform(random, units, 2.0).Select(v => (float)v).ToArray(), new long[] { 1, units });
        cell.Call(x.select(1, 0), new[] { h0, c0 });
        TestData.Randomize(cell.Weights[2], seed: units);
        var (output, next) = cell.Call(x.select(1, 0), new[] { h0, c0 });

        PackedLstmWeights? packed = null;
        using var inference = inference_mode();
        var (sequence, h, c) = LstmInferenceKernel.Run(x, cell.Weights[0].Variable, cell.Weights[1].Variable, cell.Weights[2].Variable, new[] { h0, c0 }, ref packed, lanes);

        Assert.That((sequence.select(1, 0) - output).abs().max().item<float>(), Is.LessThan(Tolerance), "h");
        Assert.That((h - next[0]).abs().max().item<float>(), Is.LessThan(Tolerance), "last h");
        Assert.That((c - next[1]).abs().max().item<float>(), Is.LessThan(Tolerance), "last c");
    }

    [Test]
    public void Run_OneSampleOneStep_WeightChangedInPlace_UsesTheNewWeights()
    {
        var weights = new Weights(input: 3, units: 7, seed: 5);
        var x = Uniform(new Random(5), 3, 1.0);
        using var scope = NewDisposeScope();
        using var inference = inference_mode();
        var (w, u, b) = weights.Tensors();
        var input = Float(x, 1, 1, 3);
        PackedLstmWeights? packed = null;
        LstmInferenceKernel.Run(input, w, u, b, null, ref packed);

        // As the fused Adam writes a weight: its memory, with no version bump libtorch could see.
        var changed = weights.W.Select(v => -v).ToArray();
        System.Runtime.InteropServices.MemoryMarshal.Cast<float, byte>(changed.Select(v => (float)v).ToArray()).CopyTo(w.bytes);
        var (sequence, _, _) = LstmInferenceKernel.Run(input, w, u, b, null, ref packed);

        var expected = ReferenceMaths.Lstm(x, changed, weights.U, weights.B, 1, 1, 3, 7);
        Assert.That(MaxDifference(ToDoubles(sequence), expected.Sequence), Is.LessThan(Tolerance));
    }

    [Test]
    public void RegressionShapedPredict_OneSample_MatchesTheTrainingModeForwardAndLeavesNoTensors()
    {
        // The seed regression model's shape: (1, 3) through Conv1D and an LSTM over one step.
        var input = new Input(new[] { 1, 3 });
        var conv = new Conv1D(10, 1, activation: "relu").Call(input);
        var lstm = new LSTM(70).Call(conv);
        using var model = new Model(input, new Dense(1).Call(lstm));
        using var x = rand(1, 1, 3);
        AssertPredictMatchesForward(model, x);
        model.PredictTensors(new[] { x }, batchSize: 1).ForEach(t => t.Dispose());
        var live = LiveOnThisThread;
        for (var i = 0; i < 20; i++)
        {
            model.PredictTensors(new[] { x }, batchSize: 1).ForEach(t => t.Dispose());
        }

        Assert.That(LiveOnThisThread, Is.EqualTo(live));
    }

    [Test]
    public void Run_LastStepOnly_ReturnsTheLastHAsTheSequence([Values(1, 6)] int batch, [Values(1, 5)] int steps)
    {
        var weights = new Weights(input: 4, units: 9, seed: batch + steps);
        var x = Uniform(new Random(batch), batch * steps * 4, 1.0);
        var expected = ReferenceMaths.Lstm(x, weights.W, weights.U, weights.B, batch, steps, 4, 9);
        using var scope = NewDisposeScope();
        using var inference = inference_mode();
        var (w, u, b) = weights.Tensors();
        PackedLstmWeights? packed = null;

        var (sequence, h, c) = LstmInferenceKernel.Run(Float(x, batch, steps, 4), w, u, b, null, ref packed, everyStep: false);

        Assert.That(sequence, Is.SameAs(h));
        Assert.That(MaxDifference(ToDoubles(h), LastStep(expected.Sequence, batch, steps, 9)), Is.LessThan(Tolerance), "last h");
        Assert.That(MaxDifference(ToDoubles(c), expected.LastCell), Is.LessThan(Tolerance), "last c");
    }

    [Test]
    public void Run_WeightChangedInPlace_IsPackedAgain()
    {
        var weights = new Weights(input: 3, units: 7, seed: 2);
        var x = Uniform(new Random(2), 2 * 4 * 3, 1.0);
        using var scope = NewDisposeScope();
        using var inference = inference_mode();
        var (w, u, b) = weights.Tensors();
        var input = Float(x, 2, 4, 3);
        PackedLstmWeights? packed = null;
        LstmInferenceKernel.Run(input, w, u, b, null, ref packed);
        var first = packed;
        LstmInferenceKernel.Run(input, w, u, b, null, ref packed);
        Assert.That(packed, Is.SameAs(first), "the same bytes reuse the packing");

        // As the fused Adam writes a weight: its memory, with no version bump libtorch could see.
        var changed = weights.U.Select(v => -v).ToArray();
        System.Runtime.InteropServices.MemoryMarshal.Cast<float, byte>(changed.Select(v => (float)v).ToArray()).CopyTo(u.bytes);
        var (sequence, _, _) = LstmInferenceKernel.Run(input, w, u, b, null, ref packed);

        Assert.That(packed, Is.Not.SameAs(first));
        var expected = ReferenceMaths.Lstm(x, weights.W, changed, weights.B, 2, 4, 3, 7);
        Assert.That(MaxDifference(ToDoubles(sequence), expected.Sequence), Is.LessThan(Tolerance));
    }

    [TestCase(false, false)]
    [TestCase(true, false)]
    [TestCase(false, true)]
    public void LstmLayerPredict_MatchesTheTrainingModeForward(bool goBackwards, bool noBias)
    {
        var lstm = new LSTM(70, returnSequences: true, returnState: true, goBackwards: goBackwards, useBias: !noBias);
        var input = new Input(new[] { 24, 64 });
        using var model = new Model(new[] { input }, lstm.CallMulti(input));
        if (!noBias)
        {
            TestData.Randomize(lstm.Weights[2], seed: 3);
        }

        using var x = tensor(Uniform(new Random(4), 5 * 24 * 64, 1.0).Select(v => (float)v).ToArray(), new long[] { 5, 24, 64 });
        AssertPredictMatchesForward(model, x);
    }

    [Test]
    public void SentimentModelPredict_MatchesTheTrainingModeForward()
    {
        using var model = CnnLstmModels.Sentiment();
        var random = new Random(5);
        using var x = tensor(Enumerable.Range(0, 6 * 100).Select(_ => (long)random.Next(20000)).ToArray(), new long[] { 6, 100 });
        AssertPredictMatchesForward(model, x);
    }

    [Test]
    public void StatefulLstmPredict_CarriesTheStatesAsTheForwardWithAutogradOn()
    {
        var x = TestData.Sequence(3, 5, 4, seed: 6);
        Model Stateful(out LSTM lstm)
        {
            lstm = new LSTM(9, returnSequences: true, stateful: true);
            var input = new Input(new[] { 5, 4 }, batchSize: 3);
            return new Model(input, lstm.Call(input));
        }

        using var model = Stateful(out var lstm);
        TestData.Randomize(lstm.Weights[2], seed: 3);
        using var reference = Stateful(out _);
        reference.SetWeights(model.GetWeights());

        // The second call starts from the states the first one left.
        model.Predict(x, batchSize: 3);
        var predicted = ((float[,,])model.Predict(x, batchSize: 3)).Cast<float>().ToArray();
        using var scope = NewDisposeScope();
        using var grad = enable_grad();
        using var xt = tensor(x.Cast<float>().ToArray(), new long[] { 3, 5, 4 });
        reference.Run(new[] { xt }, training: false);
        var forward = reference.Run(new[] { xt }, training: false)[0].detach().contiguous().data<float>().ToArray();

        Assert.That(predicted.Zip(forward, (a, b) => Math.Abs(a - b)).Max(), Is.LessThan(Tolerance));
    }

    [Test]
    public void Predict_ThroughTheKernel_LeavesNoTensors([Values(1, 300)] int batch)
    {
        var input = new Input(new[] { 24, 8 });
        var lstm = new LSTM(70, returnState: true);
        using var model = new Model(new[] { input }, lstm.CallMulti(input));
        using var x = rand(batch, 24, 8);
        model.PredictTensors(new[] { x }, batchSize: batch).ForEach(t => t.Dispose());
        var live = LiveOnThisThread;
        for (var i = 0; i < 20; i++)
        {
            model.PredictTensors(new[] { x }, batchSize: batch).ForEach(t => t.Dispose());
        }

        Assert.That(LiveOnThisThread, Is.EqualTo(live));
    }

    [Test]
    public void Run_GatesSaturate_WithoutNaN()
    {
        // Pre-activations of ±100 overflow e^x in float: σ must give 0 or 1 and tanh ±1, not NaN.
        var weights = new Weights(input: 2, units: 7, seed: 9, scale: 60);
        var x = Uniform(new Random(9), 3 * 4 * 2, 1.0);
        var expected = ReferenceMaths.Lstm(x, weights.W, weights.U, weights.B, 3, 4, 2, 7);
        foreach (var lanes in new[] { 16, 8, 4, 1 })
        {
            var (sequence, _, lastC) = RunKernel(weights, x, 3, 4, lanes, initial: null);
            Assert.That(sequence.All(double.IsFinite) && lastC.All(double.IsFinite), Is.True, $"{lanes} lanes");
            // Pre-activations near 100 carry float rounding of about 1e-5 (not typical values): a looser bound.
            Assert.That(MaxDifference(sequence, expected.Sequence), Is.LessThan(1e-4), $"{lanes} lanes");
        }
    }

    [Test]
    public void Run_NaNInput_GivesNaNForThatSampleFromThatStepOn([Values(16, 8, 4, 1)] int lanes)
    {
        // As Keras: a NaN is not clamped into a number by the gates' exponentials.
        var weights = new Weights(input: 3, units: 7, seed: 4);
        var x = Uniform(new Random(4), 3 * 4 * 3, 1.0);
        x[((1 * 4) + 2) * 3] = double.NaN;
        var expected = ReferenceMaths.Lstm(x, weights.W, weights.U, weights.B, 3, 4, 3, 7);

        var (sequence, _, _) = RunKernel(weights, x, 3, 4, lanes, initial: null);

        for (var i = 0; i < sequence.Length; i++)
        {
            var (sample, step) = (i / (4 * 7), i / 7 % 4);
            if (sample == 1 && step >= 2)
            {
                Assert.That(double.IsNaN(sequence[i]), Is.True, $"sample 1, step {step}");
            }
            else
            {
                Assert.That(sequence[i], Is.EqualTo(expected.Sequence[i]).Within(Tolerance), $"sample {sample}, step {step}");
            }
        }
    }

    [Test]
    public void Run_InfiniteRecurrentWeight_FromZeroStates_GivesNaNAsKeras([Values(16, 1)] int lanes, [Values(1, 5)] int batch)
    {
        // From zero states the first step may skip h · Uᵀ only while U is finite: Keras' product gives 0 · ∞ = NaN.
        var weights = new Weights(input: 3, units: 7, seed: 5);
        weights.U[0] = double.PositiveInfinity;
        var x = Uniform(new Random(5), batch * 3 * 3, 1.0);
        var expected = ReferenceMaths.Lstm(x, weights.W, weights.U, weights.B, batch, 3, 3, 7);
        Assume.That(expected.Sequence.Any(double.IsNaN), Is.True, "the reference carries the NaN");

        var (sequence, _, _) = RunKernel(weights, x, batch, 3, lanes, initial: null);

        Assert.That(sequence.Select(double.IsNaN), Is.EqualTo(expected.Sequence.Select(double.IsNaN)));
    }

    /// <summary>Predict (the kernel, autograd off) against the graph run with autograd on (the library's training kernel or the cell), training false.</summary>
    private static void AssertPredictMatchesForward(Model model, Tensor x)
    {
        var predicted = model.PredictTensors(new[] { x }, batchSize: (int)x.shape[0]);
        try
        {
            using var scope = NewDisposeScope();
            using var grad = enable_grad();
            var forward = model.Run(new[] { x }, training: false);
            Assert.That(forward, Has.Count.EqualTo(predicted.Count));
            for (var o = 0; o < predicted.Count; o++)
            {
                Assert.That(predicted[o].shape, Is.EqualTo(forward[o].shape), $"output {o}");
                Assert.That((predicted[o] - forward[o].detach()).abs().max().item<float>(), Is.LessThan(Tolerance), $"output {o}");
            }
        }
        finally
        {
            predicted.ForEach(t => t.Dispose());
        }
    }

    private static (double[] Sequence, double[] H, double[] C) RunKernel(Weights weights, double[] x, int batch, int steps, int lanes, Tensor[]? initial)
    {
        using var scope = NewDisposeScope();
        using var inference = inference_mode();
        var (w, u, b) = weights.Tensors();
        PackedLstmWeights? packed = null;
        var (sequence, h, c) = LstmInferenceKernel.Run(Float(x, batch, steps, weights.Input), w, u, b, initial, ref packed, lanes);
        Assert.That(sequence.shape, Is.EqualTo(new long[] { batch, steps, weights.Units }));
        Assert.That(h.shape, Is.EqualTo(new long[] { batch, weights.Units }));
        return (ToDoubles(sequence), ToDoubles(h), ToDoubles(c));
    }

    private static Tensor Float(double[] values, params long[] shape) => tensor(values.Select(v => (float)v).ToArray(), shape);

    private static double[] ToDoubles(Tensor t) => t.contiguous().data<float>().ToArray().Select(v => (double)v).ToArray();

    private static double[] Uniform(Random random, int count, double scale) =>
        Enumerable.Range(0, count).Select(_ => (double)(float)(((random.NextDouble() * 2) - 1) * scale)).ToArray();

    private static double[] LastStep(double[] sequence, int batch, int steps, int units) =>
        Enumerable.Range(0, batch).SelectMany(s => sequence.Skip((((s * steps) + steps - 1) * units)).Take(units)).ToArray();

    private static double MaxDifference(double[] actual, double[] expected)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length));
        return actual.Zip(expected, (a, e) => Math.Abs(a - e)).DefaultIfEmpty(0).Max();
    }

    /// <summary>Weights in torch layout with float32 values (as doubles): w (4u, input), u (4u, u), b (4u), scaled by 1/√units as Keras' initialisers give.</summary>
    private sealed class Weights
    {
        public Weights(int input, int units, int seed, double scale = 1)
        {
            var random = new Random(seed);
            (Input, Units) = (input, units);
            var s = scale / Math.Sqrt(units);
            W = Uniform(random, 4 * units * input, s);
            U = Uniform(random, 4 * units * units, s);
            B = Uniform(random, 4 * units, s);
        }

        public int Input { get; }

        public int Units { get; }

        public double[] W { get; }

        public double[] U { get; }

        public double[] B { get; }

        public (Tensor W, Tensor U, Tensor B) Tensors() =>
            (Float(W, 4 * Units, Input), Float(U, 4 * Units, Units), Float(B, 4 * Units));
    }

    [Test]
    public void Supports_WeightsPastIntMaxValueBytes_LeaveTheCallToTheStepLoop()
    {
        // Weights past int.MaxValue bytes cannot be read as one span nor packed into one array; the step loop takes them.
        using var one = empty(1, 1, 1);
        using var wide = empty(1, 1, 10_000);
        Assert.That(LstmInferenceKernel.Supports(one, null, 70), Is.True);
        Assert.That(LstmInferenceKernel.Supports(one, null, 11_500), Is.True);
        Assert.That(LstmInferenceKernel.Supports(one, null, 11_600), Is.False);
        Assert.That(LstmInferenceKernel.Supports(wide, null, 10_000), Is.False);
    }
}
