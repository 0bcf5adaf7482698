using System.Buffers;
using System.Runtime.CompilerServices;
using static KerasStyle.Engine.LstmInferenceKernel;
using static TorchSharp.torch;

namespace KerasStyle.Engine;

/// <summary>
/// Float32 matrix products for the LSTM training kernel's weight and input gradients (issue 27): C_i = A · B_i for
/// one A and one or more B_i, A read in place as a contiguous matrix or its transpose (so dZᵀ costs no copy), each
/// B_i (k, n_i) packed side by side into one row-major buffer, so the dW and dU of an LSTM are one pass over dZ.
/// </summary>
/// <remarks>
/// <para>Why: libtorch's <c>mm</c> calls MKL's sgemm, which on AMD Zen 5 runs its AVX2 code; at the seed sentiment
/// LSTM's shapes (720 × 280 by 280 × 64, 280 × 720 by 720 × 64 and by 720 × 70) it gave 112-147 GFLOP/s on two
/// threads, and the three products took 0.81 ms of a 7.8 ms training step (docs/performance.md, "The LSTM's gradient
/// products in C#").</para>
/// <para>How: tiles of four rows of C by four vectors of columns (sixteen accumulators, each B row loaded once for the
/// four rows), then four rows by one vector, then one row by one vector for the rows left over; B's columns padded
/// with zeros to a whole number of vectors. Every element of C is one chain of multiply-adds from zero over p = 0, 1,
/// ..., k - 1 (<see cref="ILanes{TSelf}.MulAdd"/>: fused where the CPU has FMA, except at width 1), so neither the
/// tile nor the split across threads changes a result; the widths agree to rounding. The rows of C are split across
/// the library's threads (<see cref="ParallelRanges"/>).</para>
/// <para>Only the 16-lane (AVX-512) width is used by the LSTM kernel: at 8 lanes a tile's 21 live vectors exceed
/// AVX2's 16 registers, and MKL's sgemm is AVX2's own; the other widths exist for the tests and for a caller that
/// asks.</para>
/// </remarks>
internal static unsafe class SmallGemm
{
    /// <summary>Rows of C per tile.</summary>
    private const int Block = 4;

    /// <summary>Vectors of columns per tile.</summary>
    private const int Vectors = 4;

    /// <summary>Multiply-adds below which the product runs on the calling thread.</summary>
    private const long ParallelThreshold = 1 << 20;

    /// <summary>
    /// Whether a product of A (m, k) by B of <paramref name="n"/> columns in all fits the kernel's buffers (.NET arrays
    /// of at most <see cref="Array.MaxLength"/> floats: k · n and m · n, n rounded up to the lanes); callers use
    /// libtorch's <c>mm</c> otherwise.
    /// </summary>
    public static bool Fits(long m, long k, long n, int lanes)
    {
        var padded = (n + lanes - 1) / lanes * lanes;
        return m >= 0 && k >= 0 && n >= 0 && padded <= Array.MaxLength && k * padded <= Array.MaxLength && m * padded <= Array.MaxLength;
    }

    /// <summary>
    /// A · B_i for each of <paramref name="bs"/>: A is <paramref name="a"/> (rows, cols), or its transpose when
    /// <paramref name="transposeA"/>; so A is (m, k). Each B_i is (k, n_i). Returns new contiguous float32 (m, n_i)
    /// tensors in the caller's dispose scope.
    /// </summary>
    /// <param name="a">Contiguous float32 CPU matrix.</param>
    /// <param name="transposeA">Whether A is the transpose of <paramref name="a"/>.</param>
    /// <param name="lanes">The vector width (16, 8, 4 or 1).</param>
    /// <param name="bs">Float32 CPU matrices of k rows (made contiguous if they are not).</param>
    /// <exception cref="ArgumentException">A matrix that is not float32 on the CPU, not 2-D, or of the wrong rows.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lanes"/> is not 16, 8, 4 or 1, or the product
    /// does not fit (<see cref="Fits"/>).</exception>
    public static Tensor[] Multiply(Tensor a, bool transposeA, int lanes, params Tensor[] bs)
    {
        if (a.dim() != 2 || !TensorData.IsCpuFloat32(a) || !a.is_contiguous())
        {
            throw new ArgumentException($"SmallGemm: A must be a contiguous float32 CPU matrix; got {a.dtype} ({string.Join(", ", a.shape)}).", nameof(a));
        }

        var (m, k) = transposeA ? (a.size(1), a.size(0)) : (a.size(0), a.size(1));
        foreach (var b in bs)
        {
            if (b.dim() != 2 || !TensorData.IsCpuFloat32(b) || b.size(0) != k)
            {
                throw new ArgumentException($"SmallGemm: each B must be a float32 CPU matrix of {k} rows; got {b.dtype} ({string.Join(", ", b.shape)}).", nameof(bs));
            }
        }

        if (lanes is not (16 or 8 or 4 or 1))
        {
            throw new ArgumentOutOfRangeException(nameof(lanes), lanes, "SmallGemm: lanes are 16, 8, 4 or 1.");
        }

        var columns = bs.Sum(b => b.size(1));
        if (!Fits(m, k, columns, lanes))
        {
            throw new ArgumentOutOfRangeException(nameof(bs), $"SmallGemm: a product of ({m}, {k}) by {columns} columns does not fit .NET arrays; use libtorch's mm.");
        }

        var widths = bs.Select(b => (int)b.size(1)).ToArray();
        var n = (int)columns;
        var padded = (n + lanes - 1) / lanes * lanes;
        var results = bs.Select((_, i) => empty(new[] { m, (long)widths[i] }, ScalarType.Float32)).ToArray();
        if (m == 0 || n == 0)
        {
            return results;
        }

        var packedB = ArrayPool<float>.Shared.Rent((int)(k * padded));
        var product = ArrayPool<float>.Shared.Rent((int)(m * padded));
        try
        {
            fixed (float* pb = packedB, pc = product)
            {
                using (var scope = NewDisposeScope())
                {
                    var column = 0;
                    foreach (var b in bs)
                    {
                        var source = TensorData.FloatPointer(b.is_contiguous() ? b : b.contiguous());
                        var width = (int)b.size(1);
                        for (long p = 0; p < k; p++)
                        {
                            Copy(source + (p * width), pb + (p * padded) + column, width);
                        }

                        column += width;
                    }
                }

                for (long p = 0; p < k; p++)
                {
                    new Span<float>(pb + (p * padded) + n, padded - n).Clear();
                }

                var job = new Job
                {
                    A = TensorData.FloatPointer(a), RowStride = transposeA ? 1 : k, DepthStride = transposeA ? m : 1,
                    B = pb, C = pc, Width = padded, Depth = (int)k, Rows = m,
                };
                Action<long, long> body = lanes switch
                {
                    16 => (first, last) => Rows<Lanes512>(job, first, last),
                    8 => (first, last) => Rows<Lanes256>(job, first, last),
                    4 => (first, last) => Rows<Lanes128>(job, first, last),
                    _ => (first, last) => Rows<Lanes1>(job, first, last),
                };
                var blocks = (m + Block - 1) / Block;
                ParallelRanges.For(blocks, m * k * n, ParallelThreshold, 1, body);

                var offset = 0;
                for (var i = 0; i < results.Length; i++)
                {
                    var target = TensorData.FloatPointer(results[i]);
                    for (long r = 0; r < m; r++)
                    {
                        Copy(pc + (r * padded) + offset, target + (r * widths[i]), widths[i]);
                    }

                    offset += widths[i];
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(packedB);
            ArrayPool<float>.Shared.Return(product);
        }

        return results;
    }

    /// <summary>Pointers and sizes of one product: C (Rows, Width) = A (Rows, Depth) · B (Depth, Width).</summary>
    private readonly struct Job
    {
        public float* A { get; init; }

        /// <summary>Floats from A[i][p] to A[i + 1][p].</summary>
        public long RowStride { get; init; }

        /// <summary>Floats from A[i][p] to A[i][p + 1].</summary>
        public long DepthStride { get; init; }

        public float* B { get; init; }

        public float* C { get; init; }

        /// <summary>Columns of B and C, a whole number of vectors.</summary>
        public int Width { get; init; }

        public int Depth { get; init; }

        public long Rows { get; init; }
    }

    /// <summary>The row blocks [first, last) of C.</summary>
    private static void Rows<TL>(Job job, long first, long last)
        where TL : unmanaged, ILanes<TL>
    {
        var n = TL.Count;
        for (var blockIndex = first; blockIndex < last; blockIndex++)
        {
            var row = blockIndex * Block;
            var rows = (int)Math.Min(Block, job.Rows - row);
            var a = job.A + (row * job.RowStride);
            var c = job.C + (row * job.Width);
            var col = 0;
            if (rows == Block)
            {
                for (; col + (Vectors * n) <= job.Width; col += Vectors * n)
                {
                    Tile4x4<TL>(job, a, job.B + col, c + col);
                }

                for (; col < job.Width; col += n)
                {
                    Tile4x1<TL>(job, a, job.B + col, c + col);
                }
            }
            else
            {
                for (var r = 0; r < rows; r++)
                {
                    for (col = 0; col < job.Width; col += n)
                    {
                        Tile1x1<TL>(job, a + (r * job.RowStride), job.B + col, c + (r * job.Width) + col);
                    }
                }
            }
        }
    }

    /// <summary>Four rows of C by four vectors of columns.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile4x4<TL>(Job job, float* a, float* b, float* c)
        where TL : unmanaged, ILanes<TL>
    {
        var n = TL.Count;
        var (rowStride, depthStride, width) = (job.RowStride, job.DepthStride, job.Width);
        float* a0 = a, a1 = a + rowStride, a2 = a + (2 * rowStride), a3 = a + (3 * rowStride);
        TL c00 = TL.Zero, c01 = TL.Zero, c02 = TL.Zero, c03 = TL.Zero;
        TL c10 = TL.Zero, c11 = TL.Zero, c12 = TL.Zero, c13 = TL.Zero;
        TL c20 = TL.Zero, c21 = TL.Zero, c22 = TL.Zero, c23 = TL.Zero;
        TL c30 = TL.Zero, c31 = TL.Zero, c32 = TL.Zero, c33 = TL.Zero;
        long at = 0;
        for (var p = 0; p < job.Depth; p++, b += width, at += depthStride)
        {
            TL b0 = TL.Load(b), b1 = TL.Load(b + n), b2 = TL.Load(b + (2 * n)), b3 = TL.Load(b + (3 * n));
            var x = TL.Broadcast(a0[at]);
            (c00, c01, c02, c03) = (TL.MulAdd(x, b0, c00), TL.MulAdd(x, b1, c01), TL.MulAdd(x, b2, c02), TL.MulAdd(x, b3, c03));
            x = TL.Broadcast(a1[at]);
            (c10, c11, c12, c13) = (TL.MulAdd(x, b0, c10), TL.MulAdd(x, b1, c11), TL.MulAdd(x, b2, c12), TL.MulAdd(x, b3, c13));
            x = TL.Broadcast(a2[at]);
            (c20, c21, c22, c23) = (TL.MulAdd(x, b0, c20), TL.MulAdd(x, b1, c21), TL.MulAdd(x, b2, c22), TL.MulAdd(x, b3, c23));
            x = TL.Broadcast(a3[at]);
            (c30, c31, c32, c33) = (TL.MulAdd(x, b0, c30), TL.MulAdd(x, b1, c31), TL.MulAdd(x, b2, c32), TL.MulAdd(x, b3, c33));
        }

        float* r0 = c, r1 = c + width, r2 = c + (2 * width), r3 = c + (3 * width);
        TL.Store(c00, r0); TL.Store(c01, r0 + n); TL.Store(c02, r0 + (2 * n)); TL.Store(c03, r0 + (3 * n));
        TL.Store(c10, r1); TL.Store(c11, r1 + n); TL.Store(c12, r1 + (2 * n)); TL.Store(c13, r1 + (3 * n));
        TL.Store(c20, r2); TL.Store(c21, r2 + n); TL.Store(c22, r2 + (2 * n)); TL.Store(c23, r2 + (3 * n));
        TL.Store(c30, r3); TL.Store(c31, r3 + n); TL.Store(c32, r3 + (2 * n)); TL.Store(c33, r3 + (3 * n));
    }

    /// <summary>Four rows of C by one vector of columns.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile4x1<TL>(Job job, float* a, float* b, float* c)
        where TL : unmanaged, ILanes<TL>
    {
        var (rowStride, depthStride, width) = (job.RowStride, job.DepthStride, job.Width);
        float* a0 = a, a1 = a + rowStride, a2 = a + (2 * rowStride), a3 = a + (3 * rowStride);
        TL c0 = TL.Zero, c1 = TL.Zero, c2 = TL.Zero, c3 = TL.Zero;
        long at = 0;
        for (var p = 0; p < job.Depth; p++, b += width, at += depthStride)
        {
            var v = TL.Load(b);
            (c0, c1, c2, c3) = (TL.MulAdd(TL.Broadcast(a0[at]), v, c0), TL.MulAdd(TL.Broadcast(a1[at]), v, c1), TL.MulAdd(TL.Broadcast(a2[at]), v, c2), TL.MulAdd(TL.Broadcast(a3[at]), v, c3));
        }

        TL.Store(c0, c); TL.Store(c1, c + width); TL.Store(c2, c + (2 * width)); TL.Store(c3, c + (3 * width));
    }

    /// <summary>One row of C by one vector of columns.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile1x1<TL>(Job job, float* a, float* b, float* c)
        where TL : unmanaged, ILanes<TL>
    {
        var acc = TL.Zero;
        long at = 0;
        for (var p = 0; p < job.Depth; p++, b += job.Width, at += job.DepthStride)
        {
            acc = TL.MulAdd(TL.Broadcast(a[at]), TL.Load(b), acc);
        }

        TL.Store(acc, c);
    }
}
