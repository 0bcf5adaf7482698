using System.Collections;
using System.Reflection;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Training.Optimizers;
using TorchSharp;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Engine;

/// <summary>
/// The library's LSTM training kernel (issue 27): its outputs and every gradient (x, W, U, bias, h0, c0) against the
/// same LSTM written as a libtorch step loop in double precision (autograd's own gradients) and against
/// <see cref="ReferenceMaths.Lstm"/> (a directional finite difference in doubles), within 1e-5; every vector width,
/// batches that are not multiples of the four-sample block, units that are not multiples of the lanes, one step, one
/// sample, no bias, saturated gates and NaN inputs; whole layers trained through the kernel against the step loop;
/// and no tensor or autograd node left behind.
/// </summary>
public class LstmTrainingKernelTests
{
    private const double Tolerance = 1e-5;

    private static long LiveOnThisThread => DisposeScopeManager.Statistics.ThreadTotalLiveCount;

    [SetUp]
    public void Seed()
    {
        Backend.ClearSession();
        Utils.SetRandomSeed(7);
    }

    [Test]
    public void Run_OutputsAndGradients_MatchTheDoubleStepLoop(
        [Values(1, 3, 5, 30)] int batch,
        [Values(7, 70)] int units,
        [Values(1, 24)] int steps,
        [Values(false, true)] bool everyStep)
    {
        AssertMatchesDoubleStepLoop(new Case(batch, steps, 9, units, EveryStep: everyStep, Seed: batch + (10 * units) + (1000 * steps)));
    }

    [Test]
    public void Run_FromInitialStatesWithGradients_MatchesTheDoubleStepLoop([Values(1, 6)] int batch, [Values(1, 5)] int steps, [Values(false, true)] bool noBias)
    {
        AssertMatchesDoubleStepLoop(new Case(batch, steps, 4, 17, Bias: !noBias, Initial: true, Seed: batch + steps));
    }

    [Test]
    public void Run_EveryVectorWidth_MatchesTheDoubleStepLoop([Values(16, 8, 4, 1)] int lanes, [Values(3, 9)] int batch)
    {
        // Widths this CPU lacks run in .NET's software fallback: slower, but the same arithmetic.
        AssertMatchesDoubleStepLoop(new Case(batch, 6, 5, 21, Initial: true, Seed: lanes), lanes);
    }

    [Test]
    public void Run_SeedSentimentShape_MatchesTheDoubleStepLoop()
    {
        AssertMatchesDoubleStepLoop(new Case(30, 24, 64, 70, EveryStep: false, Seed: 27));
    }

    [Test]
    public void Run_SplitAcrossTwoThreads_MatchesTheDoubleStepLoop()
    {
        // 258 samples: two ranges of whole four-sample blocks, the second ending in a block of two.
        using var threads = TestSetup.Threads(2);
        AssertMatchesDoubleStepLoop(new Case(258, 8, 16, 70, Initial: true, Seed: 12));
    }

    [Test]
    public void Run_GradientsAgreeWithTheReferenceMathsFiniteDifference([Values(false, true)] bool initial)
    {
        // Independent of libtorch: autograd's gradient through the kernel projected on a random direction against a
        // central difference of ReferenceMaths.Lstm in doubles.
        const int Batch = 5, Steps = 7, Input = 6, Units = 11;
        var random = new Random(31);
        using var scope = NewDisposeScope();
        var values = new List<(float[] Values, long[] Shape)>
        {
            (KernelChecks.Uniform(random, Batch * Steps * Input, 1.0), new long[] { Batch, Steps, Input }),
            (KernelChecks.Uniform(random, 4 * Units * Input, 0.5), new long[] { 4 * Units, Input }),
            (KernelChecks.Uniform(random, 4 * Units * Units, 0.5), new long[] { 4 * Units, Units }),
            (KernelChecks.Uniform(random, 4 * Units, 0.5), new long[] { 4 * Units }),
        };
        if (initial)
        {
            values.Add((KernelChecks.Uniform(random, Batch * Units, 1.0), new long[] { Batch, Units }));
            values.Add((KernelChecks.Uniform(random, Batch * Units, 2.0), new long[] { Batch, Units }));
        }

        var leaves = values.Select(v => tensor(v.Values, v.Shape).requires_grad_(true)).ToArray();
        var (sequence, _, _) = LstmTrainingKernel.Run(leaves[0], leaves[1], leaves[2], leaves[3], initial ? new[] { leaves[4], leaves[5] } : null);
        double[] Reference(IReadOnlyList<double[]> a) =>
            ReferenceMaths.Lstm(a[0], a[1], a[2], a[3], Batch, Steps, Input, Units, initial ? a[4] : null, initial ? a[5] : null).Sequence;

        var expected = Reference(values.Select(v => KernelChecks.ToDouble(v.Values)).ToArray());
        Assert.That(KernelChecks.MaxDifference(sequence, expected), Is.LessThan(Tolerance), "every step's h");
        Assert.That(KernelChecks.DirectionalGradientError(random, leaves, sequence, Reference), Is.LessThan(Tolerance), "gradients");
    }

    [Test]
    public void Run_GatesSaturate_GradientsStayFiniteAndMatchTheDoubleStepLoop([Values(16, 1)] int lanes)
    {
        // Pre-activations near ±100: σ gives 0 or 1 and tanh ±1, their derivatives 0, never NaN. Float rounding of
        // such pre-activations is about 1e-5 (not typical values): a looser bound.
        AssertMatchesDoubleStepLoop(new Case(5, 6, 3, 7, Initial: true, Seed: 9, WeightScale: 60), lanes, tolerance: 1e-4);
    }

    [Test]
    public void Run_NaNInput_GivesNaNWhereTheStepLoopDoes([Values(16, 1)] int lanes, [Values(false, true)] bool everyStep)
    {
        // As libtorch's own ops: the NaN reaches that sample's later outputs and, through the sums over samples,
        // the weights' gradients; the other samples' outputs and input gradients keep their values.
        AssertMatchesDoubleStepLoop(new Case(5, 4, 3, 7, EveryStep: everyStep, Seed: 4, NaNAt: (1, 2, 0)), lanes);
    }

    [Test]
    public void Run_LastStepOnly_ReturnsTheLastHAsTheSequence()
    {
        using var scope = NewDisposeScope();
        var x = randn(3, 4, 5).requires_grad_(true);
        var (w, u) = (randn(4 * 6, 5).requires_grad_(true), randn(4 * 6, 6).requires_grad_(true));

        var (sequence, h, c) = LstmTrainingKernel.Run(x, w, u, null, null, everyStep: false);

        Assert.That(sequence, Is.SameAs(h));
        Assert.That(h.shape, Is.EqualTo(new long[] { 3, 6 }));
        Assert.That(c.shape, Is.EqualTo(new long[] { 3, 6 }));
        Assert.That(h.requires_grad && c.requires_grad, Is.True);
    }

    [Test]
    public void Backward_WithCreateGraph_GivesSecondDerivativesAsTheStepLoop([Values(false, true)] bool everyStep)
    {
        // A gradient penalty's pattern: the gradient of W, built as a graph, differentiated again with respect to x,
        // h0 and U. The kernel's backward then runs the same maths as libtorch ops (the C# pass records nothing).
        using var scope = NewDisposeScope();
        var random = new Random(8);
        var floats = new[]
        {
            tensor(KernelChecks.Uniform(random, 3 * 4 * 5, 1.0), new long[] { 3, 4, 5 }), tensor(KernelChecks.Uniform(random, 24 * 5, 0.5), new long[] { 24, 5 }),
            tensor(KernelChecks.Uniform(random, 24 * 6, 0.5), new long[] { 24, 6 }), tensor(KernelChecks.Uniform(random, 24, 0.5), new long[] { 24 }),
            tensor(KernelChecks.Uniform(random, 3 * 6, 1.0), new long[] { 3, 6 }), tensor(KernelChecks.Uniform(random, 3 * 6, 1.0), new long[] { 3, 6 }),
        }.Select(t => t.requires_grad_(true)).ToArray();
        var doubles = floats.Select(f => f.detach().to(ScalarType.Float64).requires_grad_(true)).ToArray();
        Tensor[] Second(Tensor[] leaves, bool kernel)
        {
            var (sequence, h, c) = kernel
                ? LstmTrainingKernel.Run(leaves[0], leaves[1], leaves[2], leaves[3], new[] { leaves[4], leaves[5] }, everyStep)
                : StepLoop(leaves[0], leaves[1], leaves[2], leaves[3], new[] { leaves[4], leaves[5] });
            var loss = (everyStep ? sequence.sum() : h.sum()) + (c * c).sum();
            var gradientOfW = torch.autograd.grad(new[] { loss }, new[] { leaves[1] }, retain_graph: true, create_graph: true)[0];
            return torch.autograd.grad(new[] { (gradientOfW * gradientOfW).sum() }, new[] { leaves[0], leaves[2], leaves[4] }).ToArray();
        }

        var actual = Second(floats, kernel: true);
        var expected = Second(doubles, kernel: false);

        for (var i = 0; i < actual.Length; i++)
        {
            AssertClose(actual[i], expected[i], Tolerance, new[] { "x", "U", "h0" }[i], relative: true);
        }
    }

    [TestCase(false, false, false, false)]
    [TestCase(true, false, false, false)]
    [TestCase(false, true, false, false)]
    [TestCase(false, false, true, false)]
    [TestCase(true, true, true, true)]
    public void LstmLayer_TrainOnBatch_StepsAsTheStepLoop(bool goBackwards, bool returnSequences, bool noBias, bool initialStates)
    {
        // The step loop runs where a mask reaches the layer: a Masking layer whose value never occurs masks nothing.
        var x = TestData.Sequence(5, 6, 4, seed: 3);
        var y = returnSequences ? (Array)TestData.Sequence(5, 6, 9, seed: 4) : TestData.Matrix(5, 9, seed: 4);
        float[] Train(bool throughTheKernel)
        {
            Backend.ClearSession();
            Utils.SetRandomSeed(21);
            var input = new Input(new[] { 6, 4 });
            var sequence = throughTheKernel ? input : new Masking(maskValue: 12345).Call(input);
            var lstm = new LSTM(9, returnSequences: returnSequences, goBackwards: goBackwards, useBias: !noBias);
            KerasTensor output;
            if (initialStates)
            {
                // The states come from the input through a Dense layer, so their gradients reach its weights.
                var state = new Dense(9, activation: "tanh").Call(new Flatten().Call(input));
                output = lstm.Call(sequence, new[] { state, state });
            }
            else
            {
                output = lstm.Call(sequence);
            }

            using var model = new Model(input, output);
            if (!noBias)
            {
                TestData.Randomize(lstm.Weights[2], seed: 5);
            }

            model.Compile(new SGD(learningRate: 0.5), "mse");
            model.TrainOnBatch(x, y);
            model.TrainOnBatch(x, y);
            return TinyModels.Flat(model);
        }

        var kernel = Train(throughTheKernel: true);
        var loop = Train(throughTheKernel: false);

        Assert.That(kernel, Has.Length.EqualTo(loop.Length));
        Assert.That(kernel.Zip(loop, (a, b) => Math.Abs(a - b)).Max(), Is.LessThan(Tolerance));
    }

    [Test]
    public void TrainOnBatch_ThroughTheKernel_LeavesNoTensorsAndNoAutogradNodes([Values(1, 30)] int batch, [Values(false, true)] bool returnState)
    {
        var input = new Input(new[] { 24, 8 });
        var lstm = new LSTM(70, returnState: returnState);
        var outputs = lstm.CallMulti(input);
        using var model = new Model(input, new Dense(1).Call(outputs[0]));
        model.Compile(new Adam(), "mse");
        var x = TestData.Sequence(batch, 24, 8, seed: 2);
        var y = TestData.Matrix(batch, 1, seed: 3);
        model.TrainOnBatch(x, y);
        var live = LiveOnThisThread;
        var nodes = AliveAutogradFunctionNodes();
        for (var i = 0; i < 20; i++)
        {
            model.TrainOnBatch(x, y);
        }

        Assert.That(LiveOnThisThread, Is.EqualTo(live), "tensors");
        Assert.That(AliveAutogradFunctionNodes(), Is.EqualTo(nodes), "TorchSharp's custom-function nodes (and the tensors they saved) freed with their graphs");
    }

    [Test]
    public void EagerLayerCall_BackwardAfterTheCallEnded_RunsAndLeavesNoTensors()
    {
        // The layer's own dispose scopes end before the caller's backward: TorchSharp's per-output tensors of the
        // graph node must outlive them (the process ended here before the kernel left them to the node).
        var lstm = new LSTM(7);
        lstm.Call(new Input(new[] { 5, 4 }));
        using var x = randn(3, 5, 4).requires_grad_(true);
        void Step()
        {
            using var scope = NewDisposeScope();
            lstm.Invoke(x, training: true).sum().backward();
        }

        Step();
        var (live, nodes) = (LiveOnThisThread, AliveAutogradFunctionNodes());
        for (var i = 0; i < 5; i++)
        {
            Step();
        }

        Assert.That(LiveOnThisThread, Is.EqualTo(live), "tensors");
        Assert.That(AliveAutogradFunctionNodes(), Is.EqualTo(nodes), "nodes");
        using var gradient = x.grad;
        Assert.That(gradient, Is.Not.Null);
        Assert.That(gradient!.abs().sum().item<float>(), Is.GreaterThan(0));
    }

    [Test]
    public void Backward_InputChangedInPlaceAfterForward_WarnsAndGivesNaNInsteadOfEndingTheProcess()
    {
        // libtorch refuses a saved input changed in place; inside a custom backward that error would end the process.
        using var scope = NewDisposeScope();
        var warnings = new List<string>();
        var x = BackwardAfterTheInputChangedInPlace((_, message) => warnings.Add(message));
        Assert.That(warnings, Has.Some.Contains("modified by an inplace operation").And.Contains("NaN"));
        Assert.That(x.grad!.isnan().all().item<bool>(), Is.True);
    }

    [Test]
    public void Backward_FailingWithAWarningHandlerThatThrows_StillDoesNotEndTheProcess()
    {
        using var scope = NewDisposeScope();
        var x = BackwardAfterTheInputChangedInPlace((_, message) => throw new InvalidOperationException(message));
        Assert.That(x.grad!.isnan().all().item<bool>(), Is.True);
    }

    /// <summary>An LSTM's forward, its input changed in place, then backward with <paramref name="handler"/> on <see cref="KerasStyle.Warnings.Raised"/>; returns the leaf.</summary>
    private static Tensor BackwardAfterTheInputChangedInPlace(EventHandler<string> handler)
    {
        var lstm = new LSTM(7);
        lstm.Call(new Input(new[] { 5, 4 }));
        var x = randn(3, 5, 4).requires_grad_(true);
        var input = x.mul(1);
        var y = lstm.Invoke(input, training: true);
        input.add_(1);
        KerasStyle.Warnings.Raised += handler;
        try
        {
            y.sum().backward();
        }
        finally
        {
            KerasStyle.Warnings.Raised -= handler;
        }

        return x;
    }

    [Test]
    public void Backward_CreateGraphAfterAWeightStoppedRequiringGrad_GivesTheInputGradient()
    {
        // libtorch's grad throws for an input that does not require a gradient, and TorchSharp's native call does not
        // catch it: the differentiable backward asks only for what requires one when it runs.
        var lstm = new LSTM(6);
        lstm.Call(new Input(new[] { 5, 4 }));
        var kernel = lstm.TrainableWeights[0].Variable;
        using var scope = NewDisposeScope();
        var x = randn(3, 5, 4).requires_grad_(true);
        try
        {
            var expected = torch.autograd.grad(new[] { lstm.Invoke(x, training: true).square().sum() }, new[] { x })[0];
            var y = lstm.Invoke(x, training: true);
            kernel.requires_grad_(false);
            var actual = torch.autograd.grad(new[] { y.square().sum() }, new[] { x }, retain_graph: true, create_graph: true)[0];
            Assert.That(actual.sub(expected).abs().max().item<float>(), Is.LessThan(1e-6f));
        }
        finally
        {
            kernel.requires_grad_(true);
        }
    }

    [Test]
    public void Run_GraphDroppedWithoutBackward_FreesItsNode()
    {
        var nodes = AliveAutogradFunctionNodes();
        for (var i = 0; i < 10; i++)
        {
            using var scope = NewDisposeScope();
            var x = randn(2, 3, 4).requires_grad_(true);
                LstmTrainingKernel.Run(x, randn(20, 4).requires_grad_(true), randn(20, 5).requires_grad_(true), null, null);
        }

        Assert.That(AliveAutogradFunctionNodes(), Is.EqualTo(nodes));
    }

    /// <summary>TorchSharp keeps every custom autograd node in a static list until libtorch deletes it with its graph.</summary>
    private static int AliveAutogradFunctionNodes()
    {
        var nodeType = typeof(torch.autograd.AutogradContext).Assembly.GetTypes().Single(t => t.FullName == "TorchSharp.torch+autograd+Node");
        var field = nodeType.GetField("AliveNodes", BindingFlags.NonPublic | BindingFlags.Static)!;
        var list = (ICollection)field.GetValue(null)!;
        lock (list)
        {
            return list.Count;
        }
    }

    /// <summary>
    /// The kernel in float32 against the step loop of libtorch ops in float64 on the same values, with a loss that
    /// weighs every output (every step's h when returned, the last h and the last c): outputs and the gradients of
    /// every input, relative to each gradient's largest magnitude (at least 1), and NaN exactly where the loop has it.
    /// </summary>
    private static void AssertMatchesDoubleStepLoop(Case c, int lanes = 0, double tolerance = Tolerance)
    {
        using var scope = NewDisposeScope();
        var random = new Random(c.Seed);
        var scale = c.WeightScale / Math.Sqrt(c.Units);
        var x = Values(random, new long[] { c.Batch, c.Steps, c.Features }, 1.0);
        if (c.NaNAt is { } at)
        {
            x[((((at.Sample * c.Steps) + at.Step) * c.Features) + at.Feature)] = float.NaN;
        }

        var arrays = new List<(float[] Values, long[] Shape)>
        {
            (x, new long[] { c.Batch, c.Steps, c.Features }),
            (Values(random, new long[] { 4 * c.Units, c.Features }, scale), new long[] { 4 * c.Units, c.Features }),
            (Values(random, new long[] { 4 * c.Units, c.Units }, scale), new long[] { 4 * c.Units, c.Units }),
        };
        if (c.Bias)
        {
            arrays.Add((Values(random, new long[] { 4 * c.Units }, scale), new long[] { 4 * c.Units }));
        }

        if (c.Initial)
        {
            arrays.Add((Values(random, new long[] { c.Batch, c.Units }, 1.0), new long[] { c.Batch, c.Units }));
            arrays.Add((Values(random, new long[] { c.Batch, c.Units }, 2.0), new long[] { c.Batch, c.Units }));
        }

        var names = new List<string> { "x", "W", "U" };
        names.AddRange(c.Bias ? new[] { "b" } : Array.Empty<string>());
        names.AddRange(c.Initial ? new[] { "h0", "c0" } : Array.Empty<string>());
        var floats = arrays.Select(a => tensor(a.Values, a.Shape).requires_grad_(true)).ToArray();
        var doubles = floats.Select(f => f.detach().to(ScalarType.Float64).requires_grad_(true)).ToArray();
        var weightsOut = new[]
        {
            Values(random, new long[] { c.Batch, c.Steps, c.Units }, 1.0), Values(random, new long[] { c.Batch, c.Units }, 1.0), Values(random, new long[] { c.Batch, c.Units }, 1.0),
        };

        Tensor Bias(Tensor[] t) => c.Bias ? t[3] : null!;
        Tensor[]? Initial(Tensor[] t) => c.Initial ? new[] { t[^2], t[^1] } : null;
        var kernel = LstmTrainingKernel.Run(floats[0], floats[1], floats[2], c.Bias ? floats[3] : null, Initial(floats), c.EveryStep, lanes);
        var loop = StepLoop(doubles[0], doubles[1], doubles[2], c.Bias ? Bias(doubles) : null, Initial(doubles));
        Tensor Loss((Tensor Sequence, Tensor H, Tensor C) o, ScalarType type)
        {
            var loss = (o.H * tensor(weightsOut[1], new long[] { c.Batch, c.Units }).to(type)).sum() + (o.C * tensor(weightsOut[2], new long[] { c.Batch, c.Units }).to(type)).sum();
            return c.EveryStep ? loss + (o.Sequence * tensor(weightsOut[0], new long[] { c.Batch, c.Steps, c.Units }).to(type)).sum() : loss;
        }

        var kernelGradients = torch.autograd.grad(new[] { Loss(kernel, ScalarType.Float32) }, floats);
        var loopGradients = torch.autograd.grad(new[] { Loss(loop, ScalarType.Float64) }, doubles);

        if (c.EveryStep)
        {
            AssertClose(kernel.Sequence, loop.Sequence, tolerance, "every step's h", relative: false);
        }

        AssertClose(kernel.H, loop.H, tolerance, "last h", relative: false);
        AssertClose(kernel.C, loop.C, tolerance, "last c", relative: false);
        for (var i = 0; i < floats.Length; i++)
        {
            AssertClose(kernelGradients[i], loopGradients[i], tolerance, "gradient of " + names[i], relative: true);
        }
    }

    /// <summary>NaN exactly where <paramref name="expected"/> has it; elsewhere within the tolerance, relative to the largest finite magnitude (at least 1) when <paramref name="relative"/>.</summary>
    private static void AssertClose(Tensor actual, Tensor expected, double tolerance, string what, bool relative)
    {
        Assert.That(actual.shape, Is.EqualTo(expected.shape), what);
        var a = actual.detach().to(ScalarType.Float64).contiguous().data<double>().ToArray();
        var e = expected.detach().contiguous().data<double>().ToArray();
        Assert.That(a.Select(double.IsNaN), Is.EqualTo(e.Select(double.IsNaN)), what + ": NaN where the step loop has NaN");
        var finite = e.Where(double.IsFinite).DefaultIfEmpty(0).ToArray();
        var size = relative ? Math.Max(1, finite.Max(Math.Abs)) : 1;
        var worst = a.Zip(e, (x, y) => double.IsNaN(y) ? 0 : Math.Abs(x - y)).DefaultIfEmpty(0).Max();
        Assert.That(worst / size, Is.LessThan(tolerance), $"{what}: largest difference {worst:E2} (scale {size:G3})");
    }

    /// <summary>Keras' LSTM as libtorch ops step by step (the autograd reference), in the inputs' dtype.</summary>
    private static (Tensor Sequence, Tensor H, Tensor C) StepLoop(Tensor x, Tensor w, Tensor u, Tensor? b, Tensor[]? initial)
    {
        var (batch, steps, units) = (x.size(0), x.size(1), u.size(1));
        var h = initial?[0] ?? zeros(new[] { batch, units }, x.dtype);
        var c = initial?[1] ?? zeros(new[] { batch, units }, x.dtype);
        var outputs = new List<Tensor>();
        for (long t = 0; t < steps; t++)
        {
            var z = x.select(1, t).matmul(w.t()) + h.matmul(u.t());
            if (b is not null)
            {
                z = z + b;
            }

            var gates = z.chunk(4, 1);
            var (i, f, g, o) = (sigmoid(gates[0]), sigmoid(gates[1]), tanh(gates[2]), sigmoid(gates[3]));
            c = (f * c) + (i * g);
            h = o * tanh(c);
            outputs.Add(h);
        }

        return (stack(outputs, 1), h, c);
    }

    private static float[] Values(Random random, long[] shape, double scale) => KernelChecks.Uniform(random, (int)shape.Aggregate(1L, (a, b) => a * b), scale);

    /// <summary>One comparison's shapes and options; <paramref name="NaNAt"/> puts a NaN at (sample, step, feature) of the input.</summary>
    private sealed record Case(int Batch, int Steps, int Features, int Units, bool Bias = true, bool Initial = false, bool EveryStep = true, int Seed = 1,
        double WeightScale = 1, (int Sample, int Step, int Feature)? NaNAt = null);
}
