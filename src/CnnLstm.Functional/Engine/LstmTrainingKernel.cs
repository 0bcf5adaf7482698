using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using static KerasStyle.Engine.LstmInferenceKernel;
using static TorchSharp.torch;

namespace KerasStyle.Engine;

/// <summary>
/// The library's own LSTM training kernel (issue 27), for Keras' LSTM with tanh and sigmoid when autograd is on (Fit,
/// TrainOnBatch): a TorchSharp custom autograd function whose forward runs the sequence as
/// <see cref="LstmInferenceKernel"/> does (per step and sample z = b + x_t · Wᵀ + h · Uᵀ, i = σ(z_i), f = σ(z_f),
/// g = tanh(z_c), o = σ(z_o), c' = f c + i g, h' = o tanh(c'), Keras' gate order (i, f, c, o), as
/// keras/src/layers/rnn/lstm.py) and keeps the gates, c and tanh(c) of every step, and whose backward runs
/// backpropagation through time.
/// </summary>
/// <remarks>
/// <para>Shapes: the sequence x (batch, steps, features); W (4 units, features), U (4 units, units), the bias (4 units)
/// or none, in torch's layout as <see cref="Layers.LSTMCell"/> keeps them; initial h0 and c0 (batch, units) or zeros.
/// Outputs: every step's h (batch, steps, units) when asked, the last h and the last c (batch, units), as libtorch's
/// fused LSTM returns them; gradients for x, W, U, the bias, h0 and c0 (those that require one).</para>
/// <para>Why: with autograd on, libtorch's fused LSTM runs oneDNN's training kernel, which was slower than this kernel
/// for the seed sentiment LSTM (docs/performance.md, "The library's LSTM training kernel"), and had to be checked per
/// CPU (oneDNN picks its kernels by CPU; its inference kernel is wrong on AMD Zen 5, issue 10). This kernel is the
/// same C# on every CPU.</para>
/// <para>How: the forward is the inference kernel's loop (four samples per pass over the packed [Wᵀ; Uᵀ],
/// <see cref="LstmInferenceKernel.Product4{TL}"/> and its vector σ, tanh and e^x) that also stores per step the four
/// activated gates, c, tanh(c) and the h the step started from. The weights are packed on every call into pooled
/// arrays (<see cref="PackedLstmWeights.Pack"/>): training changes them every step, so the inference kernel's kept
/// packing would only add a comparison and two large allocations. The backward runs per sample from the last step to
/// the first: dh (the output's gradient plus the next step's) and dc give dz = (di, df, dg, do) ⊙ the activations'
/// derivatives, kept for every step, and the previous step's dh = dz · U (four samples per pass over U) and
/// dc = dc ⊙ f. After the loop, products over all batch · steps rows give dX = dZ · W, dW = dZᵀ · X and
/// dU = dZᵀ · H_prev (with 16 lanes <see cref="SmallGemm"/>, dW and dU in one pass over dZ; otherwise libtorch's
/// <c>mm</c>, whose MKL sgemm is an AVX2 CPU's own) and db = Σ dZ. Samples are independent, so the batch is split across the library's
/// threads (<see cref="ParallelRanges"/>) with no synchronisation per step. Results agree with the double-precision
/// reference within 1e-5 (LstmTrainingKernelTests).</para>
/// <para>Memory: the saved tensors (x, W, U, c0, the gates, c, tanh(c) and H_prev) are held by the autograd graph
/// and freed with it (TorchSharp frees its node's context when libtorch deletes the node); every temporary of the
/// forward and backward is in a dispose scope; the outputs and gradients are in the caller's (libtorch takes the
/// gradients when the backward returns).</para>
/// <para>Errors: an exception cannot leave a custom backward (it would end the process), so a backward that fails
/// (libtorch refuses a saved input, weight or initial state changed in place between forward and backward, where PyTorch
/// raises) reports libtorch's message through <see cref="Warnings"/> (standard error if a handler throws) and gives NaN
/// for every gradient it owes. libtorch sees only in-place changes made through its operations: the fused Adam's
/// direct writes (a <c>TrainOnBatch</c> between forward and backward) go unseen, as they do for the step loop.</para>
/// <para>Not taken (the RNN's step loop runs instead): masks, recurrent dropout and other activations.</para>
/// </remarks>
internal static unsafe class LstmTrainingKernel
{
    /// <summary>Samples per pass over the packed weights.</summary>
    private const int Block = 4;

    /// <summary>
    /// Multiply-adds (batch · steps · (features + units) · 4 units) below which the batch runs on the calling thread.
    /// </summary>
    private const long ParallelThreshold = 1 << 21;

    /// <summary>
    /// Whether the kernel takes the call: a float32 CPU sequence (batch, steps, features) of at least one sample, one
    /// step and one feature, float32 CPU weights, and initial states, if any, float32 CPU (batch, units).
    /// </summary>
    public static bool Supports(Tensor sequence, Tensor kernel, Tensor recurrentKernel, Tensor? bias, Tensor[]? initial, int units) =>
        LstmInferenceKernel.Supports(sequence, initial, units) && TensorData.IsCpuFloat32(kernel) && TensorData.IsCpuFloat32(recurrentKernel)
        && (bias is null || TensorData.IsCpuFloat32(bias));

    /// <summary>
    /// Runs the LSTM over <paramref name="sequence"/> with autograd: the outputs are in the graph of the inputs that
    /// require a gradient. Returns every step's h (batch, steps, units), or with <paramref name="everyStep"/> false the
    /// last h itself, and the last h and c (batch, units).
    /// </summary>
    /// <param name="sequence">The input (batch, steps, features), float32 on the CPU (see <see cref="Supports"/>).</param>
    /// <param name="kernel">W (4 units, features), gate blocks i, f, c, o.</param>
    /// <param name="recurrentKernel">U (4 units, units).</param>
    /// <param name="bias">The gate bias (4 units), or null for none.</param>
    /// <param name="initial">The initial h and c, each (batch, units), or null for zeros.</param>
    /// <param name="everyStep">Whether every step's h is an output.</param>
    /// <param name="lanes">The vector width (16, 8, 4 or 1); 0 for <see cref="LstmInferenceKernel.NativeLanes"/>.</param>
    public static (Tensor Sequence, Tensor H, Tensor C) Run(Tensor sequence, Tensor kernel, Tensor recurrentKernel, Tensor? bias, Tensor[]? initial,
        bool everyStep = true, int lanes = 0)
    {
        lanes = lanes == 0 ? NativeLanes : lanes is 16 or 8 or 4 or 1 ? lanes
            : throw new ArgumentOutOfRangeException(nameof(lanes), lanes, "LstmTrainingKernel: lanes are 16, 8, 4 or 1.");
        var options = new Options(everyStep, lanes);
        List<Tensor> outputs;
        using (var scope = NewDisposeScope())
        {
            outputs = Function.apply(sequence, kernel, recurrentKernel, bias, initial?[0], initial?[1], options);

            // TorchSharp's graph node also makes, in the current scope, one empty tensor per output, kept to give
            // zeros to an output that gets no gradient and freed with the node. Left in a scope, they would be freed
            // by a caller's scope that ends before its backward (an eager layer call, then backward), and that
            // backward would end the process. So the outputs go to the caller's scope, the forward's own tensors
            // are freed here (the graph holds what it saved; the outputs are new handles), and the rest is left to
            // the node.
            scope.MoveToOuter(outputs);
            scope.Detach(scope.DisposablesView.Where(d => !options.Made.Contains(d)).ToArray());
        }

        return everyStep ? (outputs[0], outputs[1], outputs[2]) : (outputs[0], outputs[0], outputs[1]);
    }

    /// <summary>The custom autograd function; its instance is TorchSharp's singleton, so all state lives in the context.</summary>
    private sealed class Function : TorchSharp.torch.autograd.MultiTensorFunction<Function>
    {
        public override string Name => nameof(LstmTrainingKernel);

        public override List<Tensor> forward(TorchSharp.torch.autograd.AutogradContext ctx, params object[] vars)
        {
            var (x, w, u, b, h0, c0, options) = ((Tensor)vars[0], (Tensor)vars[1], (Tensor)vars[2], vars[3] as Tensor, vars[4] as Tensor, vars[5] as Tensor, (Options)vars[6]);
            var (batch, steps, features) = (x.size(0), (int)x.size(1), (int)x.size(2));
            var units = (int)u.size(1);
            var lanes = options.Lanes;
            var padded = Pad(units, lanes);
            // The outputs and the saved tensors in the caller's dispose scope (the graph holds what it saves).
            var all = options.EveryStep ? empty(new[] { batch, steps, units }, ScalarType.Float32) : null;
            var h = empty(new[] { batch, units }, ScalarType.Float32);
            var c = empty(new[] { batch, units }, ScalarType.Float32);
            var gates = empty(new[] { batch, steps, 4L * padded }, ScalarType.Float32);
            var cells = empty(new[] { batch, steps, (long)padded }, ScalarType.Float32);
            var tanhCells = empty(new[] { batch, steps, (long)padded }, ScalarType.Float32);
            var previous = empty(new[] { batch, steps, (long)units }, ScalarType.Float32);
            options.Made.UnionWith(new[] { all, h, c, gates, cells, tanhCells, previous }.OfType<Tensor>());
            using (var scope = NewDisposeScope())
            {
                var input = Contiguous(x);
                var cStart = c0 is null ? null : Contiguous(c0);
                // Packed on every call into pooled arrays: training changes the weights every step, so a kept packing
                // (as the inference kernel's) would cost a comparison and two large allocations per step.
                var width = Pad(4 * units, lanes);
                var packedWeights = ArrayPool<float>.Shared.Rent((features + units) * width);
                var biasRow = ArrayPool<float>.Shared.Rent(width + lanes);
                try
                {
                    var recurrentFinite = PackedLstmWeights.Pack(Floats(Contiguous(w)), Floats(Contiguous(u)), b is null ? default : Floats(Contiguous(b)), features, units, width, packedWeights, biasRow);
                    var hStart = h0 is null ? null : Contiguous(h0);
                    fixed (float* weights = packedWeights, biasValues = biasRow)
                    {
                        var job = new ForwardJob
                        {
                            Input = TensorData.FloatPointer(input), Features = features, Steps = steps, Units = units, Padded = padded, Width = width,
                            Packed = weights, Bias = biasValues, H0 = hStart is null ? null : TensorData.FloatPointer(hStart), C0 = cStart is null ? null : TensorData.FloatPointer(cStart),
                            Sequence = all is null ? null : TensorData.FloatPointer(all), H = TensorData.FloatPointer(h), C = TensorData.FloatPointer(c),
                            Gates = TensorData.FloatPointer(gates), Cells = TensorData.FloatPointer(cells), TanhCells = TensorData.FloatPointer(tanhCells), Previous = TensorData.FloatPointer(previous),
                            SkipFirstRecurrent = hStart is null && recurrentFinite,
                        };
                        Action<long, long> body = lanes switch
                        {
                            16 => (start, end) => Forward<Lanes512>(job, start, end),
                            8 => (start, end) => Forward<Lanes256>(job, start, end),
                            4 => (start, end) => Forward<Lanes128>(job, start, end),
                            _ => (start, end) => Forward<Lanes1>(job, start, end),
                        };
                        ParallelRanges.For(batch, batch * steps * (features + units) * 4L * units, ParallelThreshold, Block, body);
                    }
                }
                finally
                {
                    ArrayPool<float>.Shared.Return(packedWeights);
                    ArrayPool<float>.Shared.Return(biasRow);
                }
            }

            // x and c0 as given (the graph's own references); their contiguous copies would be new tensors.
            ctx.save_for_backward(new List<Tensor> { x, w, u, c0!, gates, cells, tanhCells, previous, b!, h0! });
            ctx.save_data("lanes", lanes);
            ctx.save_data("everyStep", options.EveryStep);
            ctx.save_data("shapes", new[] { x, w, u, b, h0, c0 }.Select(t => t?.shape).ToArray());
            ctx.save_data("needs", new[] { x.requires_grad, w.requires_grad, u.requires_grad, b?.requires_grad == true, h0?.requires_grad == true, c0?.requires_grad == true });
            return all is null ? new List<Tensor> { h, c } : new List<Tensor> { all, h, c };
        }

        public override List<Tensor> backward(TorchSharp.torch.autograd.AutogradContext ctx, List<Tensor> grad_outputs)
        {
            try
            {
                return Backward(ctx, grad_outputs);
            }
            catch (Exception e)
            {
                // An exception leaving a custom backward ends the process (TorchSharp calls it from libtorch's engine),
                // so libtorch's error (e.g. "one of the variables needed for gradient computation has been modified
                // by an inplace operation": a saved input changed between forward and backward) becomes a warning,
                // and every gradient the call owes is NaN: the failure shows in the weights, never as plausible numbers.
                var message = $"LSTM backward could not run ({e.Message.Split('\n')[0].Trim()}); its gradients are NaN.";
                try
                {
                    Warnings.Warn(message);
                }
                catch (Exception)
                {
                    // A handler that throws (warnings as errors) cannot do so here either.
                    Console.Error.WriteLine($"Warning: {message}");
                }

                var needs = (bool[])ctx.get_data("needs");
                var shapes = (long[]?[])ctx.get_data("shapes");
                var results = new List<Tensor> { null!, null!, null!, null!, null!, null!, null! };
                for (var i = 0; i < needs.Length; i++)
                {
                    if (needs[i] && shapes[i] is { } shape)
                    {
                        results[i] = Scalars.With(double.NaN, nan => full(shape, nan, ScalarType.Float32));
                    }
                }

                return results;
            }
        }

        private static List<Tensor> Backward(TorchSharp.torch.autograd.AutogradContext ctx, List<Tensor> grad_outputs)
        {
            var lanes = (int)ctx.get_data("lanes");
            var everyStep = (bool)ctx.get_data("everyStep");
            var needs = (bool[])ctx.get_data("needs");
            var saved = ctx.get_saved_variables();
            var (x, w, u, c0, gates, cells, tanhCells, previous) = (saved[0], saved[1], saved[2], saved[3], saved[4], saved[5], saved[6], saved[7]);
            if (is_grad_enabled())
            {
                // A backward that builds a graph (create_graph, for a second derivative): the C# pass would record
                // nothing, so the gradients come from the same maths in libtorch ops, differentiable again.
                return Differentiable(needs, everyStep, x, w, u, saved[8], saved[9], c0, grad_outputs);
            }

            var (batch, steps, features) = (x.size(0), (int)x.size(1), (int)x.size(2));
            var units = (int)u.size(1);
            var padded = Pad(units, lanes);
            var gradAll = everyStep ? grad_outputs[0] : null;
            var (gradH, gradC) = everyStep ? (grad_outputs[1], grad_outputs[2]) : (grad_outputs[0], grad_outputs[1]);
            var results = new List<Tensor> { null!, null!, null!, null!, null!, null!, null! };
            // The gradients in the caller's scope (libtorch takes them when this returns); the rest in this one.
            var dh0 = empty(new[] { batch, (long)units }, ScalarType.Float32);
            var dc0 = empty(new[] { batch, (long)units }, ScalarType.Float32);
            var dz = empty(new[] { batch, steps, 4L * units }, ScalarType.Float32);
            using (var scope = NewDisposeScope())
            {
                var gAll = gradAll is null || gradAll.IsInvalid ? null : Contiguous(gradAll);
                var gH = gradH.IsInvalid ? null : Contiguous(gradH);
                var gC = gradC.IsInvalid ? null : Contiguous(gradC);
                var cStart = c0 is null ? null : Contiguous(c0);
                var recurrent = ArrayPool<float>.Shared.Rent(4 * units * padded);
                try
                {
                    PackRecurrent(Contiguous(u), units, padded, recurrent);
                    fixed (float* packedU = recurrent)
                    {
                        var job = new BackwardJob
                        {
                            Steps = steps, Units = units, Padded = padded, Recurrent = packedU,
                            GradSequence = gAll is null ? null : TensorData.FloatPointer(gAll), GradH = gH is null ? null : TensorData.FloatPointer(gH), GradC = gC is null ? null : TensorData.FloatPointer(gC),
                            C0 = cStart is null ? null : TensorData.FloatPointer(cStart),
                            Gates = TensorData.FloatPointer(gates), Cells = TensorData.FloatPointer(cells), TanhCells = TensorData.FloatPointer(tanhCells),
                            Dz = TensorData.FloatPointer(dz), Dh0 = TensorData.FloatPointer(dh0), Dc0 = TensorData.FloatPointer(dc0),
                        };
                        Action<long, long> body = lanes switch
                        {
                            16 => (start, end) => Backward<Lanes512>(job, start, end),
                            8 => (start, end) => Backward<Lanes256>(job, start, end),
                            4 => (start, end) => Backward<Lanes128>(job, start, end),
                            _ => (start, end) => Backward<Lanes1>(job, start, end),
                        };
                        ParallelRanges.For(batch, batch * steps * 4L * units * (units + 8), ParallelThreshold, Block, body);
                    }
                }
                finally
                {
                    ArrayPool<float>.Shared.Return(recurrent);
                }
            }

            var rows = dz.view(batch * steps, 4L * units);
            var rowCount = batch * steps;
            if (lanes == 16 && SmallGemm.Fits(rowCount, 4L * units, features, lanes) && SmallGemm.Fits(4L * units, rowCount, features + units, lanes))
            {
                // AVX-512: the library's own products (SmallGemm), dW and dU in one pass over dZ.
                if (needs[0])
                {
                    results[0] = SmallGemm.Multiply(rows, false, lanes, w)[0].view(batch, steps, features);
                }

                // dW and/or dU: results[1] and results[2] take the products in the order their B were given.
                using var flat = x.reshape(rowCount, features);
                using var hPrevious = previous.view(rowCount, units);
                var given = new[] { 1, 2 }.Where(i => needs[i]).ToArray();
                if (given.Length > 0)
                {
                    var products = SmallGemm.Multiply(rows, true, lanes, given.Select(i => i == 1 ? flat : hPrevious).ToArray());
                    for (var j = 0; j < given.Length; j++)
                    {
                        results[given[j]] = products[j];
                    }
                }
            }
            else
            {
                if (needs[0])
                {
                    results[0] = mm(rows, w).view(batch, steps, features);
                }

                if (needs[1])
                {
                    using var flat = x.reshape(batch * steps, features);
                    results[1] = mm(rows.t(), flat);
                }

                if (needs[2])
                {
                    results[2] = mm(rows.t(), previous.view(batch * steps, units));
                }
            }

            if (needs[3])
            {
                results[3] = rows.sum(dim: 0L);
            }

            results[4] = needs[4] ? dh0 : null!;
            results[5] = needs[5] ? dc0 : null!;
            return results;
        }
    }

    /// <summary>
    /// The backward of a call whose backward builds a graph: the LSTM run again as libtorch ops (Keras' step, as
    /// <see cref="Layers.LSTMCell"/>'s step loop) from the saved inputs, and autograd's gradients of its outputs with
    /// the given output gradients, themselves differentiable.
    /// </summary>
    private static List<Tensor> Differentiable(bool[] needs, bool everyStep, Tensor x, Tensor w, Tensor u, Tensor? b, Tensor? h0, Tensor? c0, List<Tensor> gradOutputs)
    {
        var (batch, steps, units) = (x.size(0), x.size(1), u.size(1));
        var h = h0 ?? zeros(new[] { batch, units }, x.dtype);
        var c = c0 ?? zeros(new[] { batch, units }, x.dtype);
        var sequence = new List<Tensor>();
        for (long t = 0; t < steps; t++)
        {
            var z = x.select(1, t).matmul(w.t()).add(h.matmul(u.t()), Scalars.IntOne);
            z = b is null ? z : z.add(b, Scalars.IntOne);
            var blocks = z.chunk(4, 1);
            c = addcmul(sigmoid(blocks[1]) * c, sigmoid(blocks[0]), tanh(blocks[2]), Scalars.IntOne);
            h = sigmoid(blocks[3]) * tanh(c);
            sequence.Add(h);
        }

        var outputs = everyStep ? new List<Tensor> { stack(sequence, 1), h, c } : new List<Tensor> { h, c };
        // Only what requires a gradient now: libtorch's grad throws for anything else, and TorchSharp's native call
        // does not catch that (the process would end), e.g. a weight whose requires_grad was turned off after forward.
        var used = Enumerable.Range(0, outputs.Count).Where(i => !gradOutputs[i].IsInvalid && outputs[i].requires_grad).ToArray();
        var inputs = new[] { x, w, u, b, h0, c0 };
        var wanted = Enumerable.Range(0, inputs.Length).Where(i => needs[i] && inputs[i] is { requires_grad: true }).ToArray();
        var results = new List<Tensor> { null!, null!, null!, null!, null!, null!, null! };
        if (used.Length == 0 || wanted.Length == 0)
        {
            return results;
        }

        var gradients = TorchSharp.torch.autograd.grad(used.Select(i => outputs[i]).ToArray(), wanted.Select(i => inputs[i]!).ToArray(), used.Select(i => gradOutputs[i]).ToArray(),
            retain_graph: true, create_graph: true, allow_unused: true);
        for (var k = 0; k < wanted.Length; k++)
        {
            results[wanted[k]] = gradients[k].IsInvalid ? null! : gradients[k];
        }

        return results;
    }

    /// <summary>The call's options, and the tensors its forward made (<see cref="Run"/> frees them after TorchSharp wrapped the outputs).</summary>
    private sealed record Options(bool EveryStep, int Lanes)
    {
        public HashSet<IDisposable> Made { get; } = new(ReferenceEqualityComparer.Instance);
    }

    /// <summary>Units rounded up to the lanes: the row length of the saved c and tanh(c), and of each saved gate block.</summary>
    private static int Pad(int units, int lanes) => (units + lanes - 1) / lanes * lanes;

    /// <summary>Writes U (4 units, units) into <paramref name="packed"/> with each row zero-padded to <paramref name="padded"/>: dh_prev = dz · U broadcasts dz[g] against row g.</summary>
    private static void PackRecurrent(Tensor u, int units, int padded, float[] packed)
    {
        var gates = 4 * units;
        Array.Clear(packed, 0, gates * padded);
        var source = TensorData.FloatPointer(u);
        fixed (float* to = packed)
        {
            for (var g = 0; g < gates; g++)
            {
                Copy(source + ((long)g * units), to + ((long)g * padded), units);
            }
        }
    }

    /// <summary>The floats of a contiguous float32 CPU tensor.</summary>
    private static ReadOnlySpan<float> Floats(Tensor t) => MemoryMarshal.Cast<byte, float>(t.bytes);

    /// <summary>
    /// Samples [start, end) forward in blocks of <see cref="Block"/> (a last partial block runs with zero rows), as
    /// <see cref="LstmInferenceKernel"/>'s loop, also storing per step the gates, c, tanh(c) and the h the step
    /// started from.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Forward<TL>(ForwardJob job, long start, long end)
        where TL : unmanaged, ILanes<TL>
    {
        var (steps, units, padded, width, features) = (job.Steps, job.Units, job.Padded, job.Width, job.Features);
        var rows = features + units;
        var zStride = width + TL.Count;
        var xhStride = features + padded;
        var scratch = new float[Block * (zStride + xhStride + padded)];
        fixed (float* zAll = scratch)
        {
            var xhAll = zAll + (Block * zStride);
            var cAll = xhAll + (Block * xhStride);
            for (var s0 = start; s0 < end; s0 += Block)
            {
                var n = (int)Math.Min(Block, end - s0);
                for (var r = 0; r < n; r++)
                {
                    var row = (s0 + r) * units;
                    CopyOrZero(job.H0 is null ? null : job.H0 + row, xhAll + (r * xhStride) + features, units);
                    CopyOrZero(job.C0 is null ? null : job.C0 + row, cAll + (r * padded), units);
                }

                for (var t = 0; t < steps; t++)
                {
                    for (var r = 0; r < n; r++)
                    {
                        var at = ((s0 + r) * steps) + t;
                        Copy(job.Input + (at * features), xhAll + (r * xhStride), features);
                        Copy(job.Bias, zAll + (r * zStride), width);
                        Copy(xhAll + (r * xhStride) + features, job.Previous + (at * units), units);
                    }

                    // Rows past n hold zeros or an earlier block's values: their results are never read.
                    Product4<TL>(job.Packed, xhAll, xhStride, zAll, zStride, t == 0 && job.SkipFirstRecurrent ? features : rows, width);

                    for (var r = 0; r < n; r++)
                    {
                        var at = ((s0 + r) * steps) + t;
                        var hr = xhAll + (r * xhStride) + features;
                        Cell<TL>(zAll + (r * zStride), hr, cAll + (r * padded), units, padded, job.Gates + (at * 4 * padded), job.Cells + (at * padded), job.TanhCells + (at * padded));
                        if (job.Sequence is not null)
                        {
                            Copy(hr, job.Sequence + (at * units), units);
                        }
                    }
                }

                for (var r = 0; r < n; r++)
                {
                    var row = (s0 + r) * units;
                    Copy(xhAll + (r * xhStride) + features, job.H + row, units);
                    Copy(cAll + (r * padded), job.C + row, units);
                }
            }
        }
    }

    /// <summary>
    /// One sample's step from z (i, f, c, o blocks of <paramref name="units"/>): c and h in place, and the activated
    /// gates (blocks of <paramref name="padded"/>), c and tanh(c) stored for the backward.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Cell<TL>(float* z, float* h, float* c, int units, int padded, float* gates, float* cells, float* tanhCells)
        where TL : unmanaged, ILanes<TL>
    {
        for (var k = 0; k < units; k += TL.Count)
        {
            var input = Sigmoid(TL.Load(z + k));
            var forget = Sigmoid(TL.Load(z + units + k));
            var candidate = Tanh(TL.Load(z + (2 * units) + k));
            var output = Sigmoid(TL.Load(z + (3 * units) + k));
            var cell = TL.MulAdd(forget, TL.Load(c + k), TL.Mul(input, candidate));
            var tanhCell = Tanh(cell);
            TL.Store(cell, c + k);
            TL.Store(TL.Mul(output, tanhCell), h + k);
            TL.Store(input, gates + k);
            TL.Store(forget, gates + padded + k);
            TL.Store(candidate, gates + (2 * padded) + k);
            TL.Store(output, gates + (3 * padded) + k);
            TL.Store(cell, cells + k);
            TL.Store(tanhCell, tanhCells + k);
        }
    }

    /// <summary>
    /// Samples [start, end) backward through time in blocks of <see cref="Block"/>: per step (last first) each
    /// sample's dz from its dh and dc and the saved gates, stored for the products after the loop, then the previous
    /// step's dh = (the output's gradient) + dz · U for the block at once, and dc = dc ⊙ f.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Backward<TL>(BackwardJob job, long start, long end)
        where TL : unmanaged, ILanes<TL>
    {
        var (steps, units, padded) = (job.Steps, job.Units, job.Padded);
        var gates = 4 * units;
        // Per sample: dh, dc and c0 (padded), the padded dz, and dz unpadded (the product's rows; zeros past n).
        var scratch = new float[Block * ((3 * padded) + (4 * padded) + gates)];
        fixed (float* dhAll = scratch)
        {
            var dcAll = dhAll + (Block * padded);
            var c0All = dcAll + (Block * padded);
            var dzPadded = c0All + (Block * padded);
            var dzRows = dzPadded + (Block * 4 * padded);
            for (var s0 = start; s0 < end; s0 += Block)
            {
                var n = (int)Math.Min(Block, end - s0);
                for (var r = 0; r < n; r++)
                {
                    var s = s0 + r;
                    var row = s * units;
                    var dh = dhAll + (r * padded);
                    CopyOrZero(job.GradH is null ? null : job.GradH + row, dh, units);
                    if (job.GradSequence is not null)
                    {
                        Accumulate(job.GradSequence + (((s * steps) + steps - 1) * units), dh, units);
                    }

                    CopyOrZero(job.GradC is null ? null : job.GradC + row, dcAll + (r * padded), units);
                    CopyOrZero(job.C0 is null ? null : job.C0 + row, c0All + (r * padded), units);
                }

                for (var t = steps - 1; t >= 0; t--)
                {
                    for (var r = 0; r < n; r++)
                    {
                        var at = ((s0 + r) * steps) + t;
                        var previousCell = t > 0 ? job.Cells + ((at - 1) * padded) : c0All + (r * padded);
                        var dzp = dzPadded + (r * 4 * padded);
                        Gradients<TL>(job.Gates + (at * 4 * padded), previousCell, job.TanhCells + (at * padded), dhAll + (r * padded), dcAll + (r * padded), dzp, padded);
                        for (var g = 0; g < 4; g++)
                        {
                            Copy(dzp + (g * padded), dzRows + (r * gates) + (g * units), units);
                        }

                        Copy(dzRows + (r * gates), job.Dz + (at * gates), gates);
                        var dh = dhAll + (r * padded);
                        if (t > 0 && job.GradSequence is not null)
                        {
                            Copy(job.GradSequence + ((at - 1) * units), dh, units);
                        }
                        else
                        {
                            new Span<float>(dh, units).Clear();
                        }
                    }

                    Product4<TL>(job.Recurrent, dzRows, gates, dhAll, padded, gates, padded);
                }

                for (var r = 0; r < n; r++)
                {
                    var row = (s0 + r) * units;
                    Copy(dhAll + (r * padded), job.Dh0 + row, units);
                    Copy(dcAll + (r * padded), job.Dc0 + row, units);
                }
            }
        }
    }

    /// <summary>
    /// One sample's step backward: with the step's gates i, f, g, o, the previous c and tanh(c),
    /// dc += dh ⊙ o ⊙ (1 − tanh²c); dz = (dc ⊙ g ⊙ i(1 − i), dc ⊙ c_prev ⊙ f(1 − f), dc ⊙ i ⊙ (1 − g²),
    /// dh ⊙ tanh c ⊙ o(1 − o)); then dc = dc ⊙ f, the previous step's.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Gradients<TL>(float* gates, float* previousCell, float* tanhCells, float* dh, float* dc, float* dz, int padded)
        where TL : unmanaged, ILanes<TL>
    {
        for (var k = 0; k < padded; k += TL.Count)
        {
            var input = TL.Load(gates + k);
            var forget = TL.Load(gates + padded + k);
            var candidate = TL.Load(gates + (2 * padded) + k);
            var output = TL.Load(gates + (3 * padded) + k);
            var tanhCell = TL.Load(tanhCells + k);
            var gradH = TL.Load(dh + k);
            var gradC = TL.MulAdd(TL.Mul(gradH, output), TL.Subtract(TL.One, TL.Mul(tanhCell, tanhCell)), TL.Load(dc + k));
            TL.Store(TL.Mul(TL.Mul(gradC, candidate), TL.Mul(input, TL.Subtract(TL.One, input))), dz + k);
            TL.Store(TL.Mul(TL.Mul(gradC, TL.Load(previousCell + k)), TL.Mul(forget, TL.Subtract(TL.One, forget))), dz + padded + k);
            TL.Store(TL.Mul(TL.Mul(gradC, input), TL.Subtract(TL.One, TL.Mul(candidate, candidate))), dz + (2 * padded) + k);
            TL.Store(TL.Mul(TL.Mul(gradH, tanhCell), TL.Mul(output, TL.Subtract(TL.One, output))), dz + (3 * padded) + k);
            TL.Store(TL.Mul(gradC, forget), dc + k);
        }
    }

    /// <summary>to += from over <paramref name="count"/> values.</summary>
    private static void Accumulate(float* from, float* to, int count)
    {
        for (var k = 0; k < count; k++)
        {
            to[k] += from[k];
        }
    }

    /// <summary>One forward call's memory (see <see cref="Function.forward"/>).</summary>
    private struct ForwardJob
    {
        public float* Input;
        public int Features;
        public int Steps;
        public int Units;
        public int Padded;
        public int Width;
        public float* Packed;
        public float* Bias;
        public float* H0;
        public float* C0;
        public float* Sequence;
        public float* H;
        public float* C;
        public float* Gates;
        public float* Cells;
        public float* TanhCells;
        public float* Previous;
        public bool SkipFirstRecurrent;
    }

    /// <summary>One backward call's memory (see <see cref="Function.backward"/>).</summary>
    private struct BackwardJob
    {
        public int Steps;
        public int Units;
        public int Padded;
        public float* Recurrent;
        public float* GradSequence;
        public float* GradH;
        public float* GradC;
        public float* C0;
        public float* Gates;
        public float* Cells;
        public float* TanhCells;
        public float* Dz;
        public float* Dh0;
        public float* Dc0;
    }
}
