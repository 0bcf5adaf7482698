using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static TorchSharp.torch;

namespace KerasStyle.Engine;

/// <summary>
/// Conv1D inference for small batches written in C# with AVX-512 (or AVX2) fused multiply-adds, for the shapes where
/// libtorch's own paths spend most of their time outside the arithmetic: for one sample of the sentiment model
/// ((1, 100, 128) input, 64 filters of width 5) libtorch's <c>conv1d</c> takes about 125 µs on this project's Zen 5
/// machine, most of it an MKL GEMM that uses only AVX2 on AMD CPUs.
/// <para>
/// How: the channels-last input (batch, length, channels) is copied once into rows of one channel each (and, for a
/// stride s, split into s phases, row (b, p, c) holding x[b, m·s + p, c] for m = 0, 1, ..., zero past the end), so
/// that for every kernel tap k the inputs of consecutive outputs are consecutive in a row: output o of filter f is
/// bias[f] + Σ over c and k of weight[f, c, k] · row(b, (k·d) mod s, c)[o + (k·d) div s]. A register block of up to
/// 4 filters × 6 vectors of 16 outputs (AVX-512; 2 × 6 vectors of 8 with AVX2) accumulates that sum over the channels
/// and taps, each weight broadcast once from the layer's own (filters, channels, kernel) tensor, so the weights are
/// neither copied nor cached and every update of them is seen. The bias starts each sum; relu, when asked, is applied
/// as the sums are stored (NaN kept, as torch's relu). Blocks of filters are split across the threads of
/// <see cref="ThreadPolicy.KernelThreads"/> when the work is large enough (<see cref="ParallelRanges"/>).
/// </para>
/// <para>
/// The result is written channels-first, (batch, filters, out), and returned as its (batch, out, filters) view, the
/// same layout libtorch's one-sample <c>conv1d</c> path returns. Each output is one float sum in a fixed order
/// (channels outer, taps inner, fused multiply-adds), so it differs from libtorch's only by float rounding: within
/// 1e-5 on typical values (tests <c>SmallConv1DKernelTests</c>). Valid convolution only: the caller pads for
/// <c>same</c> and <c>causal</c>; any stride and dilation; no groups; autograd off (no gradient is recorded).
/// </para>
/// </summary>
internal static unsafe class SmallConv1DKernel
{
    /// <summary>The largest batch the kernel takes: up to it the kernel beat libtorch's batched path on one and two
    /// threads for the sentiment shape; above it oneDNN's batched convolution may be faster on quiet cores
    /// (docs/performance.md, "Small-batch Conv1D kernel").</summary>
    public const int MaxBatch = 16;

    /// <summary>
    /// Below this many multiply-adds (about 30 µs of work on one Zen 5 core) one thread does the work: handing half of
    /// it to a second thread costs 5–20 µs (an empty <see cref="ParallelRanges.For"/> took 18 µs at load 12), and more
    /// when the other core is not quite free. One sample of the sentiment model (3.9 million) stays on one thread:
    /// forced onto two at load 6 its Conv1D took 71–89 µs against 49–55 µs; two samples (7.9 million) gained
    /// (69 µs against 82 µs). docs/performance.md, "Small-batch Conv1D kernel".
    /// </summary>
    private const long ParallelThreshold = 6_000_000;

    /// <summary>The most floats the copied input rows may take (16 MB); a longer input goes to libtorch.</summary>
    private const long RowsLimit = 1 << 22;

    private const int Filters512 = 4;
    private const int Filters256 = 2;
    private const int VectorsPerBlock = 6;

    /// <summary>
    /// The vector width used: 512 (AVX-512F), 256 (AVX2 with FMA) or 0 (neither: the kernel does not apply). Tests
    /// lower it to check the AVX2 code on an AVX-512 CPU.
    /// </summary>
    internal static int Width { get; set; } = NativeWidth;

    /// <summary>The widest width this CPU runs (see <see cref="Width"/>).</summary>
    internal static int NativeWidth =>
        Avx512F.IsSupported && Vector512.IsHardwareAccelerated ? 512 : Avx2.IsSupported && Fma.IsSupported ? 256 : 0;

    /// <summary>
    /// Whether the kernel takes this convolution: autograd off, a CPU with AVX2 or AVX-512, CPU float32 tensors, a
    /// batch of 1 to <see cref="MaxBatch"/>, a (filters, channels, kernel) weight over all input channels (no groups),
    /// a bias of (filters) or none, an input at least one window long, and at most <see cref="RowsLimit"/> floats of
    /// copied input rows (batch × stride × channels × padded output length).
    /// </summary>
    /// <param name="x">Padded input (batch, length, channels).</param>
    /// <param name="weight">Kernel (filters, channels, kernel).</param>
    /// <param name="bias">Bias (filters) or null.</param>
    /// <param name="stride">Stride, positive.</param>
    /// <param name="dilation">Dilation, positive.</param>
    public static bool Applies(Tensor x, Tensor weight, Tensor? bias, int stride, int dilation)
    {
        if (Width == 0 || stride < 1 || dilation < 1 || is_grad_enabled() || !TensorData.IsCpuFloat32(x) || !TensorData.IsCpuFloat32(weight)
            || (bias is not null && !TensorData.IsCpuFloat32(bias)))
        {
            return false;
        }

        // dim() and size(d), not shape: TorchSharp's shape copies every size through a callback (about half a microsecond).
        if (x.dim() != 3 || weight.dim() != 3 || (bias is not null && (bias.dim() != 1 || bias.size(0) != weight.size(0))))
        {
            return false;
        }

        var (batch, length, channels) = (x.size(0), x.size(1), x.size(2));
        var (filters, kernel) = (weight.size(0), weight.size(2));
        if (batch < 1 || batch > MaxBatch || weight.size(1) != channels || channels < 1 || filters < 1 || kernel < 1)
        {
            return false;
        }

        var span = ((kernel - 1) * (double)dilation) + 1;
        if (length < span)
        {
            return false;
        }

        // The copied rows stay within RowsLimit floats (so every index fits an int), the output and weights too.
        var outLength = (long)((length - span) / stride) + 1;
        var rowWidth = RowWidth(outLength, kernel, stride, dilation, 16);
        return (double)batch * stride * channels * rowWidth <= RowsLimit
            && (double)batch * filters * outLength < int.MaxValue && (double)filters * channels * kernel < int.MaxValue;
    }

    /// <summary>The valid convolution; call only where <see cref="Applies"/> is true.</summary>
    /// <param name="x">Padded input (batch, length, channels).</param>
    /// <param name="weight">Kernel (filters, channels, kernel).</param>
    /// <param name="bias">Bias (filters) or null.</param>
    /// <param name="stride">Stride.</param>
    /// <param name="dilation">Dilation.</param>
    /// <param name="relu">Whether to apply relu (max(0, y), NaN kept) to the result.</param>
    /// <returns>(batch, out, filters), a view of a new channels-first tensor.</returns>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static Tensor Run(Tensor x, Tensor weight, Tensor? bias, int stride, int dilation, bool relu)
    {
        var width = Width;
        var lanes = width / 32;
        var (batch, length, channels) = ((int)x.size(0), (int)x.size(1), (int)x.size(2));
        var (filters, kernel) = ((int)weight.size(0), (int)weight.size(2));
        var outLength = ((length - (((kernel - 1) * dilation) + 1)) / stride) + 1;
        var rowWidth = (int)RowWidth(outLength, kernel, stride, dilation, lanes);

        // Copies only where a tensor is not contiguous (the layer's are); no dispose scope of its own.
        using var inputCopy = x.is_contiguous() ? null : x.contiguous();
        using var weightCopy = weight.is_contiguous() ? null : weight.contiguous();
        using var biasCopy = bias is null || bias.is_contiguous() ? null : bias.contiguous();
        var input = inputCopy ?? x;
        var w = weightCopy ?? weight;
        var b = biasCopy ?? bias;
        using var output = empty(new long[] { batch, filters, outLength }, ScalarType.Float32);

        var rowCount = batch * stride * channels;
        // The rows are a copy of the input's size (plus padding to whole vectors), from the shared pool.
        var buffer = ArrayPool<float>.Shared.Rent(rowCount * rowWidth);
        try
        {
            fixed (float* rowData = buffer)
            {
                var state = new State
                {
                    Rows = rowData,
                    Weights = TensorData.FloatPointer(w),
                    Bias = b is null ? null : TensorData.FloatPointer(b),
                    Output = TensorData.FloatPointer(output),
                    Channels = channels,
                    Filters = filters,
                    Kernel = kernel,
                    OutLength = outLength,
                    RowWidth = rowWidth,
                    SampleRows = stride * channels * rowWidth,
                    Relu = relu,
                };

                Transpose(TensorData.FloatPointer(input), rowData, batch, length, channels, stride, rowWidth);

                // Tap k reads phase (k·d) mod s, shifted by (k·d) div s.
                Span<int> tapOffsets = kernel <= 256 ? stackalloc int[kernel] : new int[kernel];
                for (var k = 0; k < kernel; k++)
                {
                    tapOffsets[k] = ((k * dilation % stride) * channels * rowWidth) + (k * dilation / stride);
                }

                fixed (int* offsets = tapOffsets)
                {
                    state.Offsets = offsets;
                    var perBlock = width == 512 ? Filters512 : Filters256;
                    var filterBlocks = (filters + perBlock - 1) / perBlock;
                    var items = batch * filterBlocks;
                    var work = (long)batch * filters * outLength * channels * kernel;
                    if (work < ParallelThreshold || items == 1 || ThreadPolicy.KernelThreads() == 1)
                    {
                        Compute(state, width, filterBlocks, 0, items);
                    }
                    else
                    {
                        ParallelRanges.For(items, work, ParallelThreshold, 1, (start, end) => Compute(state, width, filterBlocks, (int)start, (int)end));
                    }
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
        }

        // The view keeps the storage alive and joins the caller's dispose scope, if any.
        return output.transpose(1, 2);
    }

    /// <summary>Row length: the output padded to whole vectors plus the largest tap shift.</summary>
    private static long RowWidth(long outLength, long kernel, long stride, long dilation, long lanes) =>
        ((outLength + lanes - 1) / lanes * lanes) + ((kernel - 1) * dilation / stride);

    /// <summary>Input (batch, length, channels) to rows (batch, phase, channel) of <paramref name="rowWidth"/>, zero
    /// past each row's last input.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Transpose(float* x, float* rowData, int batch, int length, int channels, int stride, int rowWidth)
    {
        for (var b = 0; b < batch; b++)
        {
            for (var p = 0; p < stride; p++)
            {
                var count = p < length ? Math.Min(rowWidth, ((length - p) + stride - 1) / stride) : 0;
                var rowBase = rowData + (((b * stride) + p) * channels * (long)rowWidth);
                var sampleBase = x + ((((long)b * length) + p) * channels);
                var m = 0;
                // 8 × 8 tiles in registers, then the rest one by one.
                for (; m + 8 <= count; m += 8)
                {
                    var source = sampleBase + ((long)m * stride * channels);
                    var c = 0;
                    for (; c + 8 <= channels; c += 8)
                    {
                        Transpose8(source + c, (long)stride * channels, rowBase + ((long)c * rowWidth) + m, rowWidth);
                    }

                    for (; c < channels; c++)
                    {
                        for (var i = 0; i < 8; i++)
                        {
                            rowBase[((long)c * rowWidth) + m + i] = source[((long)i * stride * channels) + c];
                        }
                    }
                }

                for (; m < count; m++)
                {
                    var source = sampleBase + ((long)m * stride * channels);
                    var target = rowBase + m;
                    for (var c = 0; c < channels; c++)
                    {
                        target[(long)c * rowWidth] = source[c];
                    }
                }

                if (count < rowWidth)
                {
                    for (var c = 0; c < channels; c++)
                    {
                        new Span<float>(rowBase + ((long)c * rowWidth) + count, rowWidth - count).Clear();
                    }
                }
            }
        }
    }

    /// <summary>Transposes the 8 × 8 tile of 8 rows <paramref name="sourceStride"/> apart into 8 rows
    /// <paramref name="targetStride"/> apart (AVX: unpack, shuffle, exchange lanes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8(float* source, long sourceStride, float* target, long targetStride)
    {
        var r0 = Vector256.Load(source);
        var r1 = Vector256.Load(source + sourceStride);
        var r2 = Vector256.Load(source + (2 * sourceStride));
        var r3 = Vector256.Load(source + (3 * sourceStride));
        var r4 = Vector256.Load(source + (4 * sourceStride));
        var r5 = Vector256.Load(source + (5 * sourceStride));
        var r6 = Vector256.Load(source + (6 * sourceStride));
        var r7 = Vector256.Load(source + (7 * sourceStride));
        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5);
        var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7);
        var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44);
        var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44);
        var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44);
        var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44);
        var u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Permute2x128(u0, u4, 0x20).Store(target);
        Avx.Permute2x128(u1, u5, 0x20).Store(target + targetStride);
        Avx.Permute2x128(u2, u6, 0x20).Store(target + (2 * targetStride));
        Avx.Permute2x128(u3, u7, 0x20).Store(target + (3 * targetStride));
        Avx.Permute2x128(u0, u4, 0x31).Store(target + (4 * targetStride));
        Avx.Permute2x128(u1, u5, 0x31).Store(target + (5 * targetStride));
        Avx.Permute2x128(u2, u6, 0x31).Store(target + (6 * targetStride));
        Avx.Permute2x128(u3, u7, 0x31).Store(target + (7 * targetStride));
    }

    /// <summary>Work items [start, end): item i is sample i / filterBlocks, filter block i mod filterBlocks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Compute(State s, int width, int filterBlocks, int start, int end)
    {
        var lanes = width / 32;
        var perBlock = width == 512 ? Filters512 : Filters256;
        var vectors = (s.OutLength + lanes - 1) / lanes;
        var scratch = stackalloc float[Filters512 * VectorsPerBlock * 16];
        for (var item = start; item < end; item++)
        {
            var b = item / filterBlocks;
            var f0 = item % filterBlocks * perBlock;
            var nf = Math.Min(perBlock, s.Filters - f0);
            for (var v0 = 0; v0 < vectors; v0 += VectorsPerBlock)
            {
                var nv = Math.Min(VectorsPerBlock, vectors - v0);
                var block = new Block
                {
                    Rows = s.Rows + ((long)b * s.SampleRows) + (v0 * lanes),
                    Weights = s.Weights + ((long)f0 * s.Channels * s.Kernel),
                    Bias = s.Bias is null ? null : s.Bias + f0,
                    Output = s.Output + ((((long)b * s.Filters) + f0) * s.OutLength) + (v0 * lanes),
                    Scratch = scratch,
                    Valid = s.OutLength - (v0 * lanes),
                };
                if (width == 512)
                {
                    Dispatch512(s, block, nf, nv);
                }
                else
                {
                    Dispatch256(s, block, nf, nv);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Dispatch512(in State s, in Block k, int nf, int nv)
    {
        switch (nf)
        {
            case 4: Vectors512<C4>(s, k, nv); break;
            case 3: Vectors512<C3>(s, k, nv); break;
            case 2: Vectors512<C2>(s, k, nv); break;
            default: Vectors512<C1>(s, k, nv); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Vectors512<TF>(in State s, in Block k, int nv)
        where TF : struct, ICount
    {
        switch (nv)
        {
            case 6: Kernel512<TF, C6>(s, k); break;
            case 5: Kernel512<TF, C5>(s, k); break;
            case 4: Kernel512<TF, C4>(s, k); break;
            case 3: Kernel512<TF, C3>(s, k); break;
            case 2: Kernel512<TF, C2>(s, k); break;
            default: Kernel512<TF, C1>(s, k); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Dispatch256(in State s, in Block k, int nf, int nv)
    {
        if (nf == 2)
        {
            Vectors256<C2>(s, k, nv);
        }
        else
        {
            Vectors256<C1>(s, k, nv);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Vectors256<TF>(in State s, in Block k, int nv)
        where TF : struct, ICount
    {
        switch (nv)
        {
            case 6: Kernel256<TF, C6>(s, k); break;
            case 5: Kernel256<TF, C5>(s, k); break;
            case 4: Kernel256<TF, C4>(s, k); break;
            case 3: Kernel256<TF, C3>(s, k); break;
            case 2: Kernel256<TF, C2>(s, k); break;
            default: Kernel256<TF, C1>(s, k); break;
        }
    }

    /// <summary>
    /// TF filters × TV vectors of 16 outputs: the sum over channels and taps in 4 × 6 zmm accumulators at most (the
    /// unused ones are removed when the JIT specialises the method for the counts).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel512<TF, TV>(in State s, in Block blk)
        where TF : struct, ICount
        where TV : struct, ICount
    {
        var nf = TF.Count;
        var nv = TV.Count;
        var ck = s.Channels * s.Kernel;
        Vector512<float> b0 = default, b1 = default, b2 = default, b3 = default;
        if (blk.Bias is not null)
        {
            b0 = Vector512.Create(blk.Bias[0]);
            if (nf > 1) { b1 = Vector512.Create(blk.Bias[1]); }
            if (nf > 2) { b2 = Vector512.Create(blk.Bias[2]); }
            if (nf > 3) { b3 = Vector512.Create(blk.Bias[3]); }
        }

        Vector512<float> a00 = b0, a01 = b0, a02 = b0, a03 = b0, a04 = b0, a05 = b0;
        Vector512<float> a10 = b1, a11 = b1, a12 = b1, a13 = b1, a14 = b1, a15 = b1;
        Vector512<float> a20 = b2, a21 = b2, a22 = b2, a23 = b2, a24 = b2, a25 = b2;
        Vector512<float> a30 = b3, a31 = b3, a32 = b3, a33 = b3, a34 = b3, a35 = b3;
        var offsets = s.Offsets;
        var kernel = s.Kernel;
        var rowWidth = s.RowWidth;
        for (var c = 0; c < s.Channels; c++)
        {
            var row = blk.Rows + ((long)c * rowWidth);
            var wr = blk.Weights + (c * kernel);
            for (var k = 0; k < kernel; k++)
            {
                var xp = row + offsets[k];
                var w0 = Vector512.Create(wr[k]);
                var w1 = nf > 1 ? Vector512.Create(wr[k + ck]) : default;
                var w2 = nf > 2 ? Vector512.Create(wr[k + (2 * ck)]) : default;
                var w3 = nf > 3 ? Vector512.Create(wr[k + (3 * ck)]) : default;
                var v = Vector512.Load(xp);
                a00 = Avx512F.FusedMultiplyAdd(v, w0, a00);
                if (nf > 1) { a10 = Avx512F.FusedMultiplyAdd(v, w1, a10); }
                if (nf > 2) { a20 = Avx512F.FusedMultiplyAdd(v, w2, a20); }
                if (nf > 3) { a30 = Avx512F.FusedMultiplyAdd(v, w3, a30); }
                if (nv > 1)
                {
                    v = Vector512.Load(xp + 16);
                    a01 = Avx512F.FusedMultiplyAdd(v, w0, a01);
                    if (nf > 1) { a11 = Avx512F.FusedMultiplyAdd(v, w1, a11); }
                    if (nf > 2) { a21 = Avx512F.FusedMultiplyAdd(v, w2, a21); }
                    if (nf > 3) { a31 = Avx512F.FusedMultiplyAdd(v, w3, a31); }
                }

                if (nv > 2)
                {
                    v = Vector512.Load(xp + 32);
                    a02 = Avx512F.FusedMultiplyAdd(v, w0, a02);
                    if (nf > 1) { a12 = Avx512F.FusedMultiplyAdd(v, w1, a12); }
                    if (nf > 2) { a22 = Avx512F.FusedMultiplyAdd(v, w2, a22); }
                    if (nf > 3) { a32 = Avx512F.FusedMultiplyAdd(v, w3, a32); }
                }

                if (nv > 3)
                {
                    v = Vector512.Load(xp + 48);
                    a03 = Avx512F.FusedMultiplyAdd(v, w0, a03);
                    if (nf > 1) { a13 = Avx512F.FusedMultiplyAdd(v, w1, a13); }
                    if (nf > 2) { a23 = Avx512F.FusedMultiplyAdd(v, w2, a23); }
                    if (nf > 3) { a33 = Avx512F.FusedMultiplyAdd(v, w3, a33); }
                }

                if (nv > 4)
                {
                    v = Vector512.Load(xp + 64);
                    a04 = Avx512F.FusedMultiplyAdd(v, w0, a04);
                    if (nf > 1) { a14 = Avx512F.FusedMultiplyAdd(v, w1, a14); }
                    if (nf > 2) { a24 = Avx512F.FusedMultiplyAdd(v, w2, a24); }
                    if (nf > 3) { a34 = Avx512F.FusedMultiplyAdd(v, w3, a34); }
                }

                if (nv > 5)
                {
                    v = Vector512.Load(xp + 80);
                    a05 = Avx512F.FusedMultiplyAdd(v, w0, a05);
                    if (nf > 1) { a15 = Avx512F.FusedMultiplyAdd(v, w1, a15); }
                    if (nf > 2) { a25 = Avx512F.FusedMultiplyAdd(v, w2, a25); }
                    if (nf > 3) { a35 = Avx512F.FusedMultiplyAdd(v, w3, a35); }
                }
            }
        }

        // Straight stores to the block's scratch, then the bias-free finish (relu, partial vectors) out of line: a
        // call while the accumulators are live would make the JIT keep them in memory inside the loop.
        var acc = blk.Scratch;
        a00.Store(acc); a01.Store(acc + 16); a02.Store(acc + 32); a03.Store(acc + 48); a04.Store(acc + 64); a05.Store(acc + 80);
        if (nf > 1) { a10.Store(acc + 96); a11.Store(acc + 112); a12.Store(acc + 128); a13.Store(acc + 144); a14.Store(acc + 160); a15.Store(acc + 176); }
        if (nf > 2) { a20.Store(acc + 192); a21.Store(acc + 208); a22.Store(acc + 224); a23.Store(acc + 240); a24.Store(acc + 256); a25.Store(acc + 272); }
        if (nf > 3) { a30.Store(acc + 288); a31.Store(acc + 304); a32.Store(acc + 320); a33.Store(acc + 336); a34.Store(acc + 352); a35.Store(acc + 368); }
        Finish(blk, nf, VectorsPerBlock * 16, nv * 16, s.OutLength, s.Relu);
    }

    /// <summary>TF (≤ 2) filters × TV vectors of 8 outputs in ymm accumulators: the AVX2 form of <see cref="Kernel512{TF, TV}"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel256<TF, TV>(in State s, in Block blk)
        where TF : struct, ICount
        where TV : struct, ICount
    {
        var nf = TF.Count;
        var nv = TV.Count;
        var ck = s.Channels * s.Kernel;
        Vector256<float> b0 = default, b1 = default;
        if (blk.Bias is not null)
        {
            b0 = Vector256.Create(blk.Bias[0]);
            if (nf > 1) { b1 = Vector256.Create(blk.Bias[1]); }
        }

        Vector256<float> a00 = b0, a01 = b0, a02 = b0, a03 = b0, a04 = b0, a05 = b0;
        Vector256<float> a10 = b1, a11 = b1, a12 = b1, a13 = b1, a14 = b1, a15 = b1;
        var offsets = s.Offsets;
        var kernel = s.Kernel;
        var rowWidth = s.RowWidth;
        for (var c = 0; c < s.Channels; c++)
        {
            var row = blk.Rows + ((long)c * rowWidth);
            var wr = blk.Weights + (c * kernel);
            for (var k = 0; k < kernel; k++)
            {
                var xp = row + offsets[k];
                var w0 = Vector256.Create(wr[k]);
                var w1 = nf > 1 ? Vector256.Create(wr[k + ck]) : default;
                var v = Vector256.Load(xp);
                a00 = Fma.MultiplyAdd(v, w0, a00);
                if (nf > 1) { a10 = Fma.MultiplyAdd(v, w1, a10); }
                if (nv > 1)
                {
                    v = Vector256.Load(xp + 8);
                    a01 = Fma.MultiplyAdd(v, w0, a01);
                    if (nf > 1) { a11 = Fma.MultiplyAdd(v, w1, a11); }
                }

                if (nv > 2)
                {
                    v = Vector256.Load(xp + 16);
                    a02 = Fma.MultiplyAdd(v, w0, a02);
                    if (nf > 1) { a12 = Fma.MultiplyAdd(v, w1, a12); }
                }

                if (nv > 3)
                {
                    v = Vector256.Load(xp + 24);
                    a03 = Fma.MultiplyAdd(v, w0, a03);
                    if (nf > 1) { a13 = Fma.MultiplyAdd(v, w1, a13); }
                }

                if (nv > 4)
                {
                    v = Vector256.Load(xp + 32);
                    a04 = Fma.MultiplyAdd(v, w0, a04);
                    if (nf > 1) { a14 = Fma.MultiplyAdd(v, w1, a14); }
                }

                if (nv > 5)
                {
                    v = Vector256.Load(xp + 40);
                    a05 = Fma.MultiplyAdd(v, w0, a05);
                    if (nf > 1) { a15 = Fma.MultiplyAdd(v, w1, a15); }
                }
            }
        }

        var acc = blk.Scratch;
        a00.Store(acc); a01.Store(acc + 8); a02.Store(acc + 16); a03.Store(acc + 24); a04.Store(acc + 32); a05.Store(acc + 40);
        if (nf > 1) { a10.Store(acc + 48); a11.Store(acc + 56); a12.Store(acc + 64); a13.Store(acc + 72); a14.Store(acc + 80); a15.Store(acc + 88); }
        Finish(blk, nf, VectorsPerBlock * 8, nv * 8, s.OutLength, s.Relu);
    }

    /// <summary>
    /// Copies a block's sums from its scratch (filter i's <paramref name="span"/> outputs at i · <paramref name="pitch"/>)
    /// to the output, applying relu when asked (max(0, y); NaN stays NaN, as torch's relu), only the outputs that exist.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Finish(in Block blk, int nf, int pitch, int span, int outLength, bool relu)
    {
        var count = Math.Min(span, blk.Valid);
        for (var i = 0; i < nf; i++)
        {
            var source = new ReadOnlySpan<float>(blk.Scratch + (i * pitch), count);
            var target = new Span<float>(blk.Output + ((long)i * outLength), count);
            if (relu)
            {
                var t = 0;
                for (; t + 8 <= count; t += 8)
                {
                    var y = Vector256.Create(source.Slice(t, 8));
                    Vector256.ConditionalSelect(Vector256.LessThan(y, Vector256<float>.Zero), Vector256<float>.Zero, y).CopyTo(target.Slice(t, 8));
                }

                for (; t < count; t++)
                {
                    var y = source[t];
                    target[t] = y < 0 ? 0 : y;
                }
            }
            else
            {
                source.CopyTo(target);
            }
        }
    }

    /// <summary>What every block of one call shares.</summary>
    private struct State
    {
        public float* Rows;
        public float* Weights;
        public float* Bias;
        public float* Output;
        public int* Offsets;
        public int Channels;
        public int Filters;
        public int Kernel;
        public int OutLength;
        public int RowWidth;
        public int SampleRows;
        public bool Relu;
    }

    /// <summary>One register block: its first row element, first filter's weights and bias, first output, and how
    /// many outputs exist from its first one on.</summary>
    private struct Block
    {
        public float* Rows;
        public float* Weights;
        public float* Bias;
        public float* Output;
        public float* Scratch;
        public int Valid;
    }

    /// <summary>A count fixed at JIT time (the filters and vectors of a register block).</summary>
    private interface ICount
    {
        static abstract int Count { get; }
    }

    private struct C1 : ICount { public static int Count => 1; }

    private struct C2 : ICount { public static int Count => 2; }

    private struct C3 : ICount { public static int Count => 3; }

    private struct C4 : ICount { public static int Count => 4; }

    private struct C5 : ICount { public static int Count => 5; }

    private struct C6 : ICount { public static int Count => 6; }
}
