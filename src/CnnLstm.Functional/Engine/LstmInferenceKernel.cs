using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using static TorchSharp.torch;

namespace KerasStyle.Engine;

/// <summary>
/// The library's own LSTM inference kernel (issue 27), for Keras' LSTM with tanh and sigmoid when autograd is off
/// (Predict, Evaluate, validation), in C#: per step and sample z = b + x_t · Wᵀ + h · Uᵀ as one product of [x_t, h]
/// with the packed [Wᵀ; Uᵀ], then i = σ(z_i), f = σ(z_f), g = tanh(z_c), o = σ(z_o), c' = f c + i g,
/// h' = o tanh(c'), in Keras' gate order (i, f, c, o).
/// </summary>
/// <remarks>
/// Why: libtorch's fused LSTM runs oneDNN, whose inference kernel is wrong on some AVX-512 CPUs (issue 10: AMD Zen 5)
/// and whose training kernel, the fallback there, is slow for inference (about 17 GFLOP/s on the seed's LSTM); MKL's
/// products use AVX2 only on AMD. This kernel is plain C# with <see cref="Vector512"/> (or 256/128-bit, or scalar)
/// fused multiply-adds, the same code on every CPU. [Wᵀ; Uᵀ] is packed as (features + units, 4 units rounded up to
/// the vector width), so each input or state value broadcasts against one contiguous row, and the packing is kept
/// while the weights' bytes are unchanged (<see cref="PackedLstmWeights"/>). The input's product is taken inside the
/// recurrence rather than by one libtorch <c>linear</c> over all steps: on the project's AMD Zen 5 (loaded) that
/// measured 3.8 ms against 6.0 ms for the seed's LSTM (64 → 70, 24 steps) at batch 256 on one thread (libtorch's
/// linear alone took 3.2 ms; see docs/performance.md). Samples are taken four at a time so each loaded row serves
/// four; a sample left alone computes every step's input product first, four steps per pass over Wᵀ; a call of at most
/// <see cref="DirectLimit"/> sample-steps reads W and U in torch's layout instead (no packing, no bytes compared). The batch is
/// split across the library's threads (<see cref="ParallelRanges"/>) when it is large. The gates use
/// σ(x) = 1 / (1 + e^(−x)) and tanh(x) = 2σ(2x) − 1 with a polynomial e^x within about 2 ulp, so results agree with
/// the double-precision reference within 1e-6 on typical values (LstmInferenceKernelTests).
/// </remarks>
internal static unsafe class LstmInferenceKernel
{
    /// <summary>Samples per pass over the packed weights.</summary>
    private const int Block = 4;

    /// <summary>Multiply-adds (batch · steps · (features + units) · 4 units) below which the batch runs on the calling thread.</summary>
    private const long ParallelThreshold = 1 << 21;

    /// <summary>The lanes this CPU runs: 16 with AVX-512, 8 with AVX2, 4 with 128-bit SIMD, otherwise 1 (scalar).</summary>
    public static int NativeLanes { get; } =
        Vector512.IsHardwareAccelerated ? 16 : Vector256.IsHardwareAccelerated ? 8 : Vector128.IsHardwareAccelerated ? 4 : 1;

    /// <summary>
    /// Whether the kernel takes the call: a float32 CPU sequence (batch, steps, features) of at least one sample, one
    /// step and one feature, weights of at most int.MaxValue bytes in all (W, U and the bias: 16 units (features +
    /// units + 1) bytes; about 11,500 units at most), and initial states, if any, float32 CPU (batch, units).
    /// </summary>
    public static bool Supports(Tensor sequence, Tensor[]? initial, int units) =>
        sequence.dim() == 3 && TensorData.IsCpuFloat32(sequence) && sequence.size(0) > 0 && sequence.size(1) > 0 && sequence.size(2) > 0
        // W, U and the bias are read as byte spans and packed into .NET arrays, whose sizes are ints: 16 u (f + u + 1)
        // bytes at most int.MaxValue (then the packed floats fit too).
        && 16L * units * (sequence.size(2) + units + 1) <= int.MaxValue
        && (initial is null || (initial.Length == 2 && initial.All(s => TensorData.IsCpuFloat32(s) && s.dim() == 2 && s.size(0) == sequence.size(0) && s.size(1) == units)));

    /// <summary>
    /// Runs the LSTM over <paramref name="sequence"/> (batch, steps, features) with weights in torch's layout:
    /// <paramref name="kernel"/> (4 units, features), <paramref name="recurrentKernel"/> (4 units, units),
    /// <paramref name="bias"/> (4 units) or null. Returns every step's h (batch, steps, units) and the last h and c
    /// (batch, units), new tensors owned by the caller's dispose scope, as libtorch's fused LSTM returns them.
    /// </summary>
    /// <param name="sequence">The input, float32 on the CPU (see <see cref="Supports"/>).</param>
    /// <param name="kernel">The input weights (4 units, features), gate blocks i, f, c, o.</param>
    /// <param name="recurrentKernel">The recurrent weights (4 units, units).</param>
    /// <param name="bias">The gate bias (4 units), or null for none.</param>
    /// <param name="initial">The initial h and c, each (batch, units), or null for zeros.</param>
    /// <param name="packed">The packing of the two kernels kept from an earlier call, reused while the weights' bytes
    /// are unchanged and replaced otherwise (the caller keeps it per cell).</param>
    /// <param name="lanes">The vector width to run (16, 8, 4 or 1); 0 for <see cref="NativeLanes"/>. Tests run
    /// every width on one CPU.</param>
    /// <param name="everyStep">Whether every step's h is wanted; when false, the returned sequence is the last h itself
    /// (one tensor fewer for a layer returning only its last output).</param>
    public static (Tensor Sequence, Tensor H, Tensor C) Run(Tensor sequence, Tensor kernel, Tensor recurrentKernel, Tensor? bias, Tensor[]? initial,
        ref PackedLstmWeights? packed, int lanes = 0, bool everyStep = true)
    {
        lanes = lanes == 0 ? NativeLanes : lanes is 16 or 8 or 4 or 1 ? lanes
            : throw new ArgumentOutOfRangeException(nameof(lanes), lanes, "LstmInferenceKernel: lanes are 16, 8, 4 or 1.");
        // size(d), not shape: TorchSharp's shape copies every size through a callback (about half a microsecond).
        var (batch, steps) = (sequence.size(0), (int)sequence.size(1));
        var units = (int)recurrentKernel.size(1);
        var features = (int)sequence.size(2);
        // The outputs in the caller's dispose scope; the scope below releases only contiguous copies.
        var all = everyStep ? empty(new[] { batch, steps, units }, ScalarType.Float32) : null;
        var h = empty(new[] { batch, units }, ScalarType.Float32);
        var c = empty(new[] { batch, units }, ScalarType.Float32);
        using var scope = NewDisposeScope();
        var input = Contiguous(sequence);
        if (batch * steps <= DirectLimit)
        {
            Direct(input, features, kernel, recurrentKernel, bias, initial, batch, steps, units, lanes, all, h, c);
            return (all ?? h, h, c);
        }

        var pack = PackedLstmWeights.For(kernel, recurrentKernel, bias, lanes, packed);
        packed = pack;
        var h0 = initial is null ? null : Contiguous(initial[0]);
        var c0 = initial is null ? null : Contiguous(initial[1]);
        fixed (float* weights = pack.Packed, biasRow = pack.Bias)
        {
            var job = new Job(TensorData.FloatPointer(input), features, biasRow, weights, h0 is null ? null : TensorData.FloatPointer(h0), c0 is null ? null : TensorData.FloatPointer(c0), all is null ? null : TensorData.FloatPointer(all), TensorData.FloatPointer(h), TensorData.FloatPointer(c),
                steps, units, pack.Width, skipFirstRecurrent: h0 is null && pack.RecurrentFinite);
            Action<long, long> body = lanes switch
            {
                16 => (start, end) => Samples<Lanes512>(job, start, end),
                8 => (start, end) => Samples<Lanes256>(job, start, end),
                4 => (start, end) => Samples<Lanes128>(job, start, end),
                1 => (start, end) => Samples<Lanes1>(job, start, end),
                _ => throw new ArgumentOutOfRangeException(nameof(lanes), lanes, "LstmInferenceKernel: lanes are 16, 8, 4 or 1."),
            };
            ParallelRanges.For(batch, batch * steps * (features + units) * 4L * units, ParallelThreshold, Block, body);
        }

        return (all ?? h, h, c);
    }

    /// <summary>
    /// A call this small (batch · steps sample-steps, e.g. one sample of one step) reads the weights in torch's layout
    /// directly (<see cref="DirectSamples{TL}"/>) rather than the packing: checking the packing's bytes against the
    /// weights would read more memory than the product itself.
    /// </summary>
    internal const long DirectLimit = 1;

    /// <summary>
    /// The small call's path: per sample and step, z[g] = b[g] + W[g] · x_t + U[g] · h as dot products over the
    /// contiguous rows of W (4 units, features) and U (4 units, units), then the same gates as the packed path.
    /// </summary>
    private static void Direct(Tensor input, int features, Tensor kernel, Tensor recurrentKernel, Tensor? bias, Tensor[]? initial,
        long batch, int steps, int units, int lanes, Tensor? all, Tensor h, Tensor c)
    {
        var w = Contiguous(kernel);
        var u = Contiguous(recurrentKernel);
        var b = bias is null ? null : Contiguous(bias);
        var h0 = initial is null ? null : Contiguous(initial[0]);
        var c0 = initial is null ? null : Contiguous(initial[1]);
        var job = new Job(TensorData.FloatPointer(input), features, b is null ? null : TensorData.FloatPointer(b), TensorData.FloatPointer(w), h0 is null ? null : TensorData.FloatPointer(h0), c0 is null ? null : TensorData.FloatPointer(c0),
            all is null ? null : TensorData.FloatPointer(all), TensorData.FloatPointer(h), TensorData.FloatPointer(c), steps, units, 0, TensorData.FloatPointer(u));
        switch (lanes)
        {
            case 16: DirectSamples<Lanes512>(job, batch); break;
            case 8: DirectSamples<Lanes256>(job, batch); break;
            case 4: DirectSamples<Lanes128>(job, batch); break;
            case 1: DirectSamples<Lanes1>(job, batch); break;
            default: throw new ArgumentOutOfRangeException(nameof(lanes), lanes, "LstmInferenceKernel: lanes are 16, 8, 4 or 1.");
        }
    }

    /// <summary>Every sample of a small call from the weights in torch's layout (<see cref="Job.Packed"/> is W, <see cref="Job.Recurrent"/> U).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DirectSamples<TL>(Job job, long batch)
        where TL : unmanaged, ILanes<TL>
    {
        var (steps, units, features) = (job.Steps, job.Units, job.Features);
        var gates = 4 * units;
        // z plus one vector of slack (read by the last gate block's tail), h and c rounded up to the lanes.
        var stateStride = (units + TL.Count - 1) / TL.Count * TL.Count;
        var scratch = new float[gates + TL.Count + (2 * stateStride)];
        fixed (float* z = scratch)
        {
            var h = z + gates + TL.Count;
            var c = h + stateStride;
            for (long s = 0; s < batch; s++)
            {
                var row = s * units;
                CopyOrZero(job.H0 is null ? null : job.H0 + row, h, units);
                CopyOrZero(job.C0 is null ? null : job.C0 + row, c, units);
                for (var t = 0; t < steps; t++)
                {
                    var x = job.Input + (((s * steps) + t) * features);
                    for (var g = 0; g < gates; g++)
                    {
                        var start = job.Bias is null ? 0f : job.Bias[g];
                        z[g] = start + Dot<TL>(job.Packed + ((long)g * features), x, features) + Dot<TL>(job.Recurrent + ((long)g * units), h, units);
                    }

                    Cell<TL>(z, h, c, units);
                    if (job.Sequence is not null)
                    {
                        Copy(h, job.Sequence + (((s * steps) + t) * units), units);
                    }
                }

                Copy(h, job.H + row, units);
                Copy(c, job.C + row, units);
            }
        }
    }

    /// <summary>a · b over <paramref name="count"/> values: two vector accumulators, then the rest one by one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Dot<TL>(float* a, float* b, int count)
        where TL : unmanaged, ILanes<TL>
    {
        var n = TL.Count;
        var i = 0;
        var sum = 0f;
        if (n > 1 && count >= n)
        {
            TL e0 = TL.Zero, e1 = TL.Zero;
            for (; i + (2 * n) <= count; i += 2 * n)
            {
                e0 = TL.MulAdd(TL.Load(a + i), TL.Load(b + i), e0);
                e1 = TL.MulAdd(TL.Load(a + i + n), TL.Load(b + i + n), e1);
            }

            if (i + n <= count)
            {
                e0 = TL.MulAdd(TL.Load(a + i), TL.Load(b + i), e0);
                i += n;
            }

            sum = TL.Sum(TL.Add(e0, e1));
        }

        // The rest in 8 and 4 lanes where the width is wider (W's rows are often shorter than 16 features).
        if (n > 8 && i + 8 <= count)
        {
            sum += Vector256.Sum(Vector256.Load(a + i) * Vector256.Load(b + i));
            i += 8;
        }

        if (n > 4 && i + 4 <= count)
        {
            sum += Vector128.Sum(Vector128.Load(a + i) * Vector128.Load(b + i));
            i += 4;
        }

        for (; i < count; i++)
        {
            sum += a[i] * b[i];
        }

        return sum;
    }

    /// <summary>The tensor itself when contiguous (no new handle: a TorchSharp call costs about a microsecond, which one-sample Predict feels), else a contiguous copy in the current dispose scope.</summary>
    internal static Tensor Contiguous(Tensor t) => t.is_contiguous() ? t : t.contiguous();

    /// <summary>Samples [start, end): blocks of <see cref="Block"/> samples, each run over every step.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Samples<TL>(Job job, long start, long end)
        where TL : unmanaged, ILanes<TL>
    {
        var (steps, units, width, features) = (job.Steps, job.Units, job.Width, job.Features);
        var rows = features + units;
        // Per sample: z (the padded gate row, plus one vector of slack read by the last gate block's tail), [x, h]
        // (the step's input, then h: units rounded up to the lanes, the lanes past the units holding values that are
        // never read back) and c (likewise rounded up).
        var zStride = width + TL.Count;
        var stateStride = (units + TL.Count - 1) / TL.Count * TL.Count;
        var xhStride = features + stateStride;
        // Samples left over from the blocks run alone, with every step's input product computed first (one more gate
        // row per step).
        var lone = (end - start) % Block == 0 ? 0 : steps * zStride;
        var scratch = new float[(Block * (zStride + xhStride + stateStride)) + lone];
        fixed (float* zAll = scratch)
        {
            var xhAll = zAll + (Block * zStride);
            var cAll = xhAll + (Block * xhStride);
            var inputs = cAll + (Block * stateStride);
            for (var s0 = start; s0 < end; s0 += Block)
            {
                var n = (int)Math.Min(Block, end - s0);
                if (n < Block)
                {
                    for (var r = 0; r < n; r++)
                    {
                        Alone<TL>(job, s0 + r, inputs, zStride, xhAll + features, cAll);
                    }

                    continue;
                }

                for (var r = 0; r < n; r++)
                {
                    var row = (s0 + r) * units;
                    CopyOrZero(job.H0 is null ? null : job.H0 + row, xhAll + (r * xhStride) + features, units);
                    CopyOrZero(job.C0 is null ? null : job.C0 + row, cAll + (r * stateStride), units);
                }

                for (var t = 0; t < steps; t++)
                {
                    for (var r = 0; r < n; r++)
                    {
                        var at = ((s0 + r) * steps) + t;
                        Copy(job.Input + (at * features), xhAll + (r * xhStride), features);
                        Copy(job.Bias, zAll + (r * zStride), width);
                    }

                    // From zero states the first step's h · Uᵀ adds exact zeros: only x · Wᵀ (see RecurrentFinite).
                    Product4<TL>(job.Packed, xhAll, xhStride, zAll, zStride, t == 0 && job.SkipFirstRecurrent ? features : rows, width);

                    for (var r = 0; r < n; r++)
                    {
                        var hr = xhAll + (r * xhStride) + features;
                        Cell<TL>(zAll + (r * zStride), hr, cAll + (r * stateStride), units);
                        if (job.Sequence is not null)
                        {
                            Copy(hr, job.Sequence + ((((s0 + r) * steps) + t) * units), units);
                        }
                    }
                }

                for (var r = 0; r < n; r++)
                {
                    var row = (s0 + r) * units;
                    Copy(xhAll + (r * xhStride) + features, job.H + row, units);
                    Copy(cAll + (r * stateStride), job.C + row, units);
                }
            }
        }
    }

    /// <summary>
    /// One sample on its own (a batch of fewer than four, or the last samples of a range): every step's input product
    /// first, four steps per pass over Wᵀ (into <paramref name="inputs"/>, one padded gate row per step), then per step
    /// only h · Uᵀ and the gates. A lone sample would otherwise stream the whole packed [Wᵀ; Uᵀ], larger than the L1
    /// cache for the seed's LSTM, once per step.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Alone<TL>(Job job, long sample, float* inputs, int zStride, float* h, float* c)
        where TL : unmanaged, ILanes<TL>
    {
        var (steps, units, width, features) = (job.Steps, job.Units, job.Width, job.Features);
        var row = sample * units;
        CopyOrZero(job.H0 is null ? null : job.H0 + row, h, units);
        CopyOrZero(job.C0 is null ? null : job.C0 + row, c, units);
        var x = job.Input + (sample * steps * features);
        for (var t = 0; t < steps; t++)
        {
            Copy(job.Bias, inputs + (t * zStride), width);
        }

        var step = 0;
        for (; step + Block <= steps; step += Block)
        {
            Product4<TL>(job.Packed, x + (step * features), features, inputs + (step * zStride), zStride, features, width);
        }

        for (; step < steps; step++)
        {
            Product1<TL>(job.Packed, x + (step * features), inputs + (step * zStride), features, width);
        }

        var recurrent = job.Packed + ((long)features * width);
        for (var t = 0; t < steps; t++)
        {
            var z = inputs + (t * zStride);
            if (t > 0 || !job.SkipFirstRecurrent)
            {
                Product1<TL>(recurrent, h, z, units, width);
            }

            Cell<TL>(z, h, c, units);
            if (job.Sequence is not null)
            {
                Copy(h, job.Sequence + (((sample * steps) + t) * units), units);
            }
        }

        Copy(h, job.H + row, units);
        Copy(c, job.C + row, units);
    }

    /// <summary>z[r] += xh[r] · [Wᵀ; Uᵀ] for four samples (xh[r] = [x_t, h], <paramref name="rows"/> values each): tiles of four samples × three vectors of columns, each packed row loaded once for the four.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Product4<TL>(float* packed, float* xh, int xhStride, float* z, int zStride, int rows, int width)
        where TL : unmanaged, ILanes<TL>
    {
        var n = TL.Count;
        float* h0 = xh, h1 = xh + xhStride, h2 = xh + (2 * xhStride), h3 = xh + (3 * xhStride);
        float* z0 = z, z1 = z + zStride, z2 = z + (2 * zStride), z3 = z + (3 * zStride);
        var col = 0;
        for (; col + (3 * n) <= width; col += 3 * n)
        {
            TL a00 = TL.Load(z0 + col), a01 = TL.Load(z0 + col + n), a02 = TL.Load(z0 + col + (2 * n));
            TL a10 = TL.Load(z1 + col), a11 = TL.Load(z1 + col + n), a12 = TL.Load(z1 + col + (2 * n));
            TL a20 = TL.Load(z2 + col), a21 = TL.Load(z2 + col + n), a22 = TL.Load(z2 + col + (2 * n));
            TL a30 = TL.Load(z3 + col), a31 = TL.Load(z3 + col + n), a32 = TL.Load(z3 + col + (2 * n));
            var row = packed + col;
            for (var j = 0; j < rows; j++, row += width)
            {
                TL w0 = TL.Load(row), w1 = TL.Load(row + n), w2 = TL.Load(row + (2 * n));
                var b = TL.Broadcast(h0[j]);
                (a00, a01, a02) = (TL.MulAdd(b, w0, a00), TL.MulAdd(b, w1, a01), TL.MulAdd(b, w2, a02));
                b = TL.Broadcast(h1[j]);
                (a10, a11, a12) = (TL.MulAdd(b, w0, a10), TL.MulAdd(b, w1, a11), TL.MulAdd(b, w2, a12));
                b = TL.Broadcast(h2[j]);
                (a20, a21, a22) = (TL.MulAdd(b, w0, a20), TL.MulAdd(b, w1, a21), TL.MulAdd(b, w2, a22));
                b = TL.Broadcast(h3[j]);
                (a30, a31, a32) = (TL.MulAdd(b, w0, a30), TL.MulAdd(b, w1, a31), TL.MulAdd(b, w2, a32));
            }

            TL.Store(a00, z0 + col); TL.Store(a01, z0 + col + n); TL.Store(a02, z0 + col + (2 * n));
            TL.Store(a10, z1 + col); TL.Store(a11, z1 + col + n); TL.Store(a12, z1 + col + (2 * n));
            TL.Store(a20, z2 + col); TL.Store(a21, z2 + col + n); TL.Store(a22, z2 + col + (2 * n));
            TL.Store(a30, z3 + col); TL.Store(a31, z3 + col + n); TL.Store(a32, z3 + col + (2 * n));
        }

        for (; col < width; col += n)
        {
            TL a0 = TL.Load(z0 + col), a1 = TL.Load(z1 + col), a2 = TL.Load(z2 + col), a3 = TL.Load(z3 + col);
            var row = packed + col;
            for (var j = 0; j < rows; j++, row += width)
            {
                var w = TL.Load(row);
                (a0, a1, a2, a3) = (TL.MulAdd(TL.Broadcast(h0[j]), w, a0), TL.MulAdd(TL.Broadcast(h1[j]), w, a1), TL.MulAdd(TL.Broadcast(h2[j]), w, a2), TL.MulAdd(TL.Broadcast(h3[j]), w, a3));
            }

            TL.Store(a0, z0 + col); TL.Store(a1, z1 + col); TL.Store(a2, z2 + col); TL.Store(a3, z3 + col);
        }
    }

    /// <summary>z += xh · [Wᵀ; Uᵀ] for one sample: four vectors of columns at a time, even and odd rows summed apart (eight independent chains).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Product1<TL>(float* packed, float* xh, float* z, int rows, int width)
        where TL : unmanaged, ILanes<TL>
    {
        var n = TL.Count;
        var col = 0;
        for (; col + (4 * n) <= width; col += 4 * n)
        {
            TL a0 = TL.Load(z + col), a1 = TL.Load(z + col + n), a2 = TL.Load(z + col + (2 * n)), a3 = TL.Load(z + col + (3 * n));
            TL e0 = TL.Zero, e1 = TL.Zero, e2 = TL.Zero, e3 = TL.Zero;
            var row = packed + col;
            var j = 0;
            for (; j + 1 < rows; j += 2, row += 2 * width)
            {
                var b = TL.Broadcast(xh[j]);
                (a0, a1, a2, a3) = (TL.MulAdd(b, TL.Load(row), a0), TL.MulAdd(b, TL.Load(row + n), a1), TL.MulAdd(b, TL.Load(row + (2 * n)), a2), TL.MulAdd(b, TL.Load(row + (3 * n)), a3));
                var next = row + width;
                b = TL.Broadcast(xh[j + 1]);
                (e0, e1, e2, e3) = (TL.MulAdd(b, TL.Load(next), e0), TL.MulAdd(b, TL.Load(next + n), e1), TL.MulAdd(b, TL.Load(next + (2 * n)), e2), TL.MulAdd(b, TL.Load(next + (3 * n)), e3));
            }

            if (j < rows)
            {
                var b = TL.Broadcast(xh[j]);
                (a0, a1, a2, a3) = (TL.MulAdd(b, TL.Load(row), a0), TL.MulAdd(b, TL.Load(row + n), a1), TL.MulAdd(b, TL.Load(row + (2 * n)), a2), TL.MulAdd(b, TL.Load(row + (3 * n)), a3));
            }

            TL.Store(TL.Add(a0, e0), z + col); TL.Store(TL.Add(a1, e1), z + col + n); TL.Store(TL.Add(a2, e2), z + col + (2 * n)); TL.Store(TL.Add(a3, e3), z + col + (3 * n));
        }

        for (; col < width; col += n)
        {
            var a = TL.Load(z + col);
            var e = TL.Zero;
            var row = packed + col;
            var j = 0;
            for (; j + 1 < rows; j += 2, row += 2 * width)
            {
                a = TL.MulAdd(TL.Broadcast(xh[j]), TL.Load(row), a);
                e = TL.MulAdd(TL.Broadcast(xh[j + 1]), TL.Load(row + width), e);
            }

            if (j < rows)
            {
                a = TL.MulAdd(TL.Broadcast(xh[j]), TL.Load(row), a);
            }

            TL.Store(TL.Add(a, e), z + col);
        }
    }

    /// <summary>The gates of one sample from z (i, f, c, o blocks of <paramref name="units"/>): c = σ(z_f) c + σ(z_i) tanh(z_c), h = σ(z_o) tanh(c), in place.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Cell<TL>(float* z, float* h, float* c, int units)
        where TL : unmanaged, ILanes<TL>
    {
        for (var k = 0; k < units; k += TL.Count)
        {
            var input = Sigmoid(TL.Load(z + k));
            var forget = Sigmoid(TL.Load(z + units + k));
            var candidate = Tanh(TL.Load(z + (2 * units) + k));
            var output = Sigmoid(TL.Load(z + (3 * units) + k));
            var cell = TL.MulAdd(forget, TL.Load(c + k), TL.Mul(input, candidate));
            TL.Store(cell, c + k);
            TL.Store(TL.Mul(output, Tanh(cell)), h + k);
        }
    }

    /// <summary>σ(x) = 1 / (1 + e^(−x)), 0 or 1 (not NaN) where e^(−x) overflows or vanishes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static TL Sigmoid<TL>(TL x)
        where TL : unmanaged, ILanes<TL> => TL.Divide(TL.One, TL.Add(TL.One, TL.Exp(TL.Negate(x))));

    /// <summary>tanh(x) = 2σ(2x) − 1: ±1 (not NaN) where e^(−2x) overflows or vanishes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static TL Tanh<TL>(TL x)
        where TL : unmanaged, ILanes<TL> => TL.Subtract(TL.Divide(TL.Two, TL.Add(TL.One, TL.Exp(TL.Mul(TL.MinusTwo, x)))), TL.One);

    /// <summary>
    /// e^x in float within about 2 ulp (Cephes' <c>expf</c>): x = n ln 2 + r with |r| ≤ ln 2 / 2, e^r by a degree-7
    /// polynomial, times 2^n. x is first clamped to [−87.3, 88.7] (NaN stays NaN), so the result is at least the smallest
    /// normal float and at most +∞. Written here, inlined into the kernel, rather than calling .NET's Vector512.Exp,
    /// which is a call into code the JIT compiles in tiers (slow until it is recompiled).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static TL ExpPolynomial<TL>(TL x)
        where TL : unmanaged, ILanes<TL>
    {
        x = TL.Max(TL.Min(x, TL.Broadcast(88.7f)), TL.Broadcast(-87.3f));
        var n = TL.Round(TL.Mul(x, TL.Broadcast(1.44269504088896341f)));
        var r = TL.MulAdd(n, TL.Broadcast(-0.693359375f), x);
        r = TL.MulAdd(n, TL.Broadcast(2.12194440e-4f), r);
        var p = TL.Broadcast(1.9875691500e-4f);
        p = TL.MulAdd(p, r, TL.Broadcast(1.3981999507e-3f));
        p = TL.MulAdd(p, r, TL.Broadcast(8.3334519073e-3f));
        p = TL.MulAdd(p, r, TL.Broadcast(4.1665795894e-2f));
        p = TL.MulAdd(p, r, TL.Broadcast(1.6666665459e-1f));
        p = TL.MulAdd(p, r, TL.Broadcast(5.0000001201e-1f));
        p = TL.MulAdd(p, TL.Mul(r, r), TL.Add(r, TL.One));
        return TL.Mul(p, TL.PowerOfTwo(n));
    }

    internal static void Copy(float* from, float* to, int count) => new ReadOnlySpan<float>(from, count).CopyTo(new Span<float>(to, count));

    internal static void CopyOrZero(float* from, float* to, int count)
    {
        if (from is null)
        {
            new Span<float>(to, count).Clear();
        }
        else
        {
            Copy(from, to, count);
        }
    }

    /// <summary>One call's memory: the input (batch, steps, features), the bias row (zero-padded to the width), the packed [Wᵀ; Uᵀ], initial states (batch, units) or null, and the outputs.</summary>
    private readonly struct Job(float* input, int features, float* bias, float* packed, float* h0, float* c0, float* sequence, float* h, float* c, int steps, int units, int width,
        float* recurrent = null, bool skipFirstRecurrent = false)
    {
        /// <summary>Whether the first step skips h · Uᵀ: zero initial states and a finite U (<see cref="PackedLstmWeights.RecurrentFinite"/>).</summary>
        public bool SkipFirstRecurrent { get; } = skipFirstRecurrent;

        /// <summary>The direct path's U (4 units, units); there <see cref="Packed"/> is W (4 units, features).</summary>
        public float* Recurrent { get; } = recurrent;

        public float* Input { get; } = input;

        public int Features { get; } = features;

        public float* Bias { get; } = bias;

        public float* Packed { get; } = packed;

        public float* H0 { get; } = h0;

        public float* C0 { get; } = c0;

        public float* Sequence { get; } = sequence;

        public float* H { get; } = h;

        public float* C { get; } = c;

        public int Steps { get; } = steps;

        public int Units { get; } = units;

        /// <summary>The packed row length: 4 units rounded up to the lanes.</summary>
        public int Width { get; } = width;
    }
}

/// <summary>
/// An LSTM's two kernels packed for <see cref="LstmInferenceKernel"/>: [Wᵀ; Uᵀ] as (features + units, 4 units
/// rounded up to the lanes, zero-padded), row f holding W's column f and row features + j U's column j, so the
/// product broadcasts x[f] and h[j] against contiguous rows. Kept with a copy of the weights' bytes it was made from
/// and reused only while they are unchanged: training (the fused Adam writes memory directly, with no version count
/// libtorch could see), SetWeights and loading all change the bytes in place.
/// </summary>
internal sealed class PackedLstmWeights
{
    private PackedLstmWeights(byte[] source, float[] packed, float[] bias, int lanes, int width, bool recurrentFinite)
    {
        RecurrentFinite = recurrentFinite;
        Source = source;
        Packed = packed;
        Bias = bias;
        Lanes = lanes;
        Width = width;
    }

    /// <summary>The weights' bytes when packed: W (4 units, features), U (4 units, units), then the bias (4 units) if any, float32.</summary>
    public byte[] Source { get; }

    /// <summary>The bias (zeros without one), zero-padded to <see cref="Width"/>: the row every step's z starts from.</summary>
    public float[] Bias { get; }

    /// <summary>[Wᵀ; Uᵀ] (features + units, <see cref="Width"/>).</summary>
    public float[] Packed { get; }

    /// <summary>The vector width the padding follows.</summary>
    public int Lanes { get; }

    /// <summary>
    /// Whether U holds no infinity or NaN: only then does a zero h contribute exactly nothing (0 · ∞ is NaN, which
    /// Keras' product would carry into the first step), so the first step from zero states may skip h · Uᵀ.
    /// </summary>
    public bool RecurrentFinite { get; }

    /// <summary>The row length: 4 units rounded up to <see cref="Lanes"/>.</summary>
    public int Width { get; }

    /// <summary>
    /// <paramref name="previous"/> if it was packed from the same bytes for the same lanes, else a new packing of
    /// <paramref name="kernel"/> (4 units, features), <paramref name="recurrentKernel"/> (4 units, units) and
    /// <paramref name="bias"/> (4 units, or null).
    /// </summary>
    public static PackedLstmWeights For(Tensor kernel, Tensor recurrentKernel, Tensor? bias, int lanes, PackedLstmWeights? previous)
    {
        // The weights themselves, or copies released with the caller's dispose scope.
        var w = LstmInferenceKernel.Contiguous(kernel);
        var u = LstmInferenceKernel.Contiguous(recurrentKernel);
        var wBytes = w.bytes;
        var uBytes = u.bytes;
        var bBytes = bias is null ? Span<byte>.Empty : LstmInferenceKernel.Contiguous(bias).bytes;
        if (previous is not null && previous.Lanes == lanes && previous.Source.Length == wBytes.Length + uBytes.Length + bBytes.Length
            && wBytes.SequenceEqual(previous.Source.AsSpan(0, wBytes.Length))
            && uBytes.SequenceEqual(previous.Source.AsSpan(wBytes.Length, uBytes.Length))
            && bBytes.SequenceEqual(previous.Source.AsSpan(wBytes.Length + uBytes.Length)))
        {
            return previous;
        }

        var gates = (int)u.shape[0];
        var units = (int)u.shape[1];
        var features = (int)w.shape[1];
        var width = (gates + lanes - 1) / lanes * lanes;
        var packed = new float[(features + units) * width];
        var row = new float[width];
        var recurrentFinite = Pack(MemoryMarshal.Cast<byte, float>(wBytes), MemoryMarshal.Cast<byte, float>(uBytes), MemoryMarshal.Cast<byte, float>(bBytes), features, units, width, packed, row);
        var source = new byte[wBytes.Length + uBytes.Length + bBytes.Length];
        wBytes.CopyTo(source);
        uBytes.CopyTo(source.AsSpan(wBytes.Length));
        bBytes.CopyTo(source.AsSpan(wBytes.Length + uBytes.Length));
        return new PackedLstmWeights(source, packed, row, lanes, width, recurrentFinite);
    }

    /// <summary>
    /// Writes [Wᵀ; Uᵀ] into <paramref name="packed"/> ((features + units) rows of <paramref name="width"/>, padding
    /// zeroed) and the bias (zeros without one) into <paramref name="biasRow"/> (<paramref name="width"/>, padding
    /// zeroed). Returns whether U holds no infinity or NaN (<see cref="RecurrentFinite"/>).
    /// </summary>
    internal static bool Pack(ReadOnlySpan<float> w, ReadOnlySpan<float> u, ReadOnlySpan<float> b, int features, int units, int width, Span<float> packed, Span<float> biasRow)
    {
        var gates = 4 * units;
        packed.Slice(0, (features + units) * width).Clear();
        biasRow.Slice(0, width).Clear();
        b.CopyTo(biasRow);
        Transpose(w, features, 0, packed);
        Transpose(u, units, features, packed);
        var recurrentFinite = true;
        foreach (var value in u)
        {
            recurrentFinite &= float.IsFinite(value);
        }

        return recurrentFinite;

        void Transpose(ReadOnlySpan<float> weights, int columns, int firstRow, Span<float> to)
        {
            for (var g = 0; g < gates; g++)
            {
                var row = weights.Slice(g * columns, columns);
                for (var j = 0; j < columns; j++)
                {
                    to[((firstRow + j) * width) + g] = row[j];
                }
            }
        }
    }
}
