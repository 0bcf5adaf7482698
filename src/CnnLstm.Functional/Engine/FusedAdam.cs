using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using static TorchSharp.torch;

namespace KerasStyle.Engine;

/// <summary>
/// Keras' Adam step as one vectorised pass over each weight's memory (weight, gradient, m, v), split across the
/// cores. Issuing the same update as separate TorchSharp operations walks the 2.6 million sentiment weights about
/// seven times per step; this walks them once, 16 lanes at a time where .NET accelerates AVX-512 (else
/// <see cref="Vector{T}"/>'s width, then scalar). Every operation is element-wise IEEE single precision (no fused
/// multiply-add), so every width, thread split and CPU gives the same bits.
/// </summary>
internal static unsafe class FusedAdam
{
    // Below this many elements a second thread costs more than it saves.
    private const long ParallelThreshold = 1 << 16;

    /// <summary>Whether the fused kernel applies: CPU float32 contiguous tensors of equal size.</summary>
    public static bool Supports(Tensor variable, Tensor grad, Tensor m, Tensor v)
    {
        var n = variable.numel();
        return n * sizeof(float) <= int.MaxValue
            && AllOf(variable, n) && AllOf(grad, n) && AllOf(m, n) && AllOf(v, n);

        static bool AllOf(Tensor t, long n) =>
            TensorData.IsCpuFloat32(t) && t.is_contiguous() && t.numel() == n;
    }

    /// <summary>m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g²; p -= lrT m / (√v + ε), in place.</summary>
    public static void Step(Tensor variable, Tensor grad, Tensor m, Tensor v, double beta1, double beta2, double lrT, double epsilon)
    {
        var n = variable.numel();
        // 1 - beta in double, then rounded: (float)(1 - 0.999) is 0.001, but 1 - 0.999f is 0.000999987.
        var state = new State(TensorData.FloatPointer(variable), TensorData.FloatPointer(grad), TensorData.FloatPointer(m), TensorData.FloatPointer(v), (float)beta1, (float)beta2, (float)(1 - beta1), (float)(1 - beta2), (float)lrT, (float)epsilon);
        // Ranges start on vector boundaries so only the last has a scalar tail.
        ParallelRanges.For(n, n, ParallelThreshold, Vector512<float>.Count, (start, end) => Kernel(state, start, end));
    }

    /// <summary>Whether the by-rows kernel applies: 2-D CPU float32 contiguous weight and slots, int64 ids.</summary>
    public static bool SupportsRows(Tensor variable, Tensor ids, Tensor rowGrad, Tensor m, Tensor v) =>
        variable.dim() == 2 && Supports(variable, variable, m, v)
        && ids.device_type == TorchSharp.DeviceType.CPU && ids.dtype == ScalarType.Int64 && ids.is_contiguous()
        && TensorData.IsCpuFloat32(rowGrad) && rowGrad.is_contiguous()
        && rowGrad.dim() == 2 && rowGrad.shape[0] == ids.shape[0] && rowGrad.shape[1] == variable.shape[1];

    /// <summary>
    /// The dense Adam step where the gradient is zero except for the given rows: every row's m, v and weight are
    /// updated (Keras updates them all), but no dense gradient is read or built. The ids, strictly ascending (as
    /// <c>LayerWeight.RowGradient</c> and the data-parallel exchange give them), are walked alongside the rows, each
    /// thread's range starting at a binary search, with no memory allocated.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">An id outside [0, rows), before anything changes.</exception>
    /// <exception cref="ArgumentException">Ids not strictly ascending, before anything changes.</exception>
    public static void StepRows(Tensor variable, Tensor ids, Tensor rowGrad, Tensor m, Tensor v, double beta1, double beta2, double lrT, double epsilon)
    {
        var rows = variable.shape[0];
        var width = variable.shape[1];
        var idSpan = MemoryMarshal.Cast<byte, long>(ids.bytes);
        CheckAscending(idSpan, rows);
        var state = new State(TensorData.FloatPointer(variable), TensorData.FloatPointer(rowGrad), TensorData.FloatPointer(m), TensorData.FloatPointer(v), (float)beta1, (float)beta2, (float)(1 - beta1), (float)(1 - beta2), (float)lrT, (float)epsilon);
        var idPointer = (long*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(idSpan));
        var count = idSpan.Length;
        ParallelRanges.For(rows, rows * width, ParallelThreshold, 1, (first, last) =>
        {
            // The first id at or after this range's first row, then one id ahead of the rows.
            var k = LowerBound(idPointer, count, first);
            for (var r = first; r < last; r++)
            {
                if (k < count && idPointer[k] == r)
                {
                    Kernel(state.At(r * width, k * width), 0, width);
                    k++;
                }
                else
                {
                    NoGradientKernel(state.At(r * width, 0), width);
                }
            }
        });
    }

    /// <summary>Throws unless the ids are strictly ascending (so distinct) and within [0, rows).</summary>
    private static void CheckAscending(ReadOnlySpan<long> ids, long rows)
    {
        for (var k = 0; k < ids.Length; k++)
        {
            if (ids[k] < 0 || ids[k] >= rows)
            {
                throw new ArgumentOutOfRangeException(nameof(ids), $"id {ids[k]} is outside the {rows} rows.");
            }

            if (k > 0 && ids[k] <= ids[k - 1])
            {
                throw new ArgumentException($"ids {ids[k - 1]} then {ids[k]}: the ids must be strictly ascending.", nameof(ids));
            }
        }
    }

    /// <summary>The first index k in the ascending ids with ids[k] &gt;= row (count when none).</summary>
    private static long LowerBound(long* ids, long count, long row)
    {
        long lo = 0, hi = count;
        while (lo < hi)
        {
            var mid = lo + ((hi - lo) / 2);
            if (ids[mid] < row)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    private static void Kernel(State s, long start, long end)
    {
        float oneMinusB1 = s.OneMinusBeta1, oneMinusB2 = s.OneMinusBeta2;
        var b1 = new Vector<float>(s.Beta1);
        var b2 = new Vector<float>(s.Beta2);
        var c1 = new Vector<float>(oneMinusB1);
        var c2 = new Vector<float>(oneMinusB2);
        var lr = new Vector<float>(s.LrT);
        var eps = new Vector<float>(s.Epsilon);
        var i = start;
        if (Vector512.IsHardwareAccelerated)
        {
            // Element-wise IEEE operations: every width gives the same bits; AVX-512 halves the square roots and
            // divisions issued, which bound this loop once the weights are in cache (issue 27).
            var (b1w, b2w, c1w, c2w, lrw, epsw) = (Vector512.Create(s.Beta1), Vector512.Create(s.Beta2), Vector512.Create(oneMinusB1), Vector512.Create(oneMinusB2), Vector512.Create(s.LrT), Vector512.Create(s.Epsilon));
            for (; i + Vector512<float>.Count <= end; i += Vector512<float>.Count)
            {
                var g = Vector512.Load(s.G + i);
                var m = (Vector512.Load(s.M + i) * b1w) + (g * c1w);
                var v = (Vector512.Load(s.V + i) * b2w) + (g * g * c2w);
                m.Store(s.M + i);
                v.Store(s.V + i);
                (Vector512.Load(s.P + i) - (lrw * m / (Vector512.Sqrt(v) + epsw))).Store(s.P + i);
            }
        }

        for (; i + Vector<float>.Count <= end; i += Vector<float>.Count)
        {
            var g = Vector.Load(s.G + i);
            var m = (Vector.Load(s.M + i) * b1) + (g * c1);
            var v = (Vector.Load(s.V + i) * b2) + (g * g * c2);
            m.Store(s.M + i);
            v.Store(s.V + i);
            (Vector.Load(s.P + i) - (lr * m / (Vector.SquareRoot(v) + eps))).Store(s.P + i);
        }

        for (; i < end; i++)
        {
            var g = s.G[i];
            var m = (s.M[i] * s.Beta1) + (g * oneMinusB1);
            var v = (s.V[i] * s.Beta2) + (g * g * oneMinusB2);
            s.M[i] = m;
            s.V[i] = v;
            s.P[i] -= s.LrT * m / (MathF.Sqrt(v) + s.Epsilon);
        }
    }

    /// <summary>Adam with g = 0: m = b1 m; v = b2 v; p -= lrT m / (√v + ε).</summary>
    private static void NoGradientKernel(State s, long width)
    {
        var b1 = new Vector<float>(s.Beta1);
        var b2 = new Vector<float>(s.Beta2);
        var lr = new Vector<float>(s.LrT);
        var eps = new Vector<float>(s.Epsilon);
        var i = 0L;
        if (Vector512.IsHardwareAccelerated)
        {
            var (b1w, b2w, lrw, epsw) = (Vector512.Create(s.Beta1), Vector512.Create(s.Beta2), Vector512.Create(s.LrT), Vector512.Create(s.Epsilon));
            for (; i + Vector512<float>.Count <= width; i += Vector512<float>.Count)
            {
                var m = Vector512.Load(s.M + i) * b1w;
                var v = Vector512.Load(s.V + i) * b2w;
                m.Store(s.M + i);
                v.Store(s.V + i);
                (Vector512.Load(s.P + i) - (lrw * m / (Vector512.Sqrt(v) + epsw))).Store(s.P + i);
            }
        }

        for (; i + Vector<float>.Count <= width; i += Vector<float>.Count)
        {
            var m = Vector.Load(s.M + i) * b1;
            var v = Vector.Load(s.V + i) * b2;
            m.Store(s.M + i);
            v.Store(s.V + i);
            (Vector.Load(s.P + i) - (lr * m / (Vector.SquareRoot(v) + eps))).Store(s.P + i);
        }

        for (; i < width; i++)
        {
            var m = s.M[i] * s.Beta1;
            var v = s.V[i] * s.Beta2;
            s.M[i] = m;
            s.V[i] = v;
            s.P[i] -= s.LrT * m / (MathF.Sqrt(v) + s.Epsilon);
        }
    }

    private readonly struct State(float* p, float* g, float* m, float* v, float beta1, float beta2, float oneMinusBeta1, float oneMinusBeta2, float lrT, float epsilon)
    {
        public readonly float* P = p;
        public readonly float* G = g;
        public readonly float* M = m;
        public readonly float* V = v;
        public readonly float Beta1 = beta1;
        public readonly float Beta2 = beta2;
        public readonly float OneMinusBeta1 = oneMinusBeta1;
        public readonly float OneMinusBeta2 = oneMinusBeta2;
        public readonly float LrT = lrT;
        public readonly float Epsilon = epsilon;

        /// <summary>The same state with weight and slots moved by <paramref name="offset"/>, gradient by <paramref name="gradOffset"/>.</summary>
        public State At(long offset, long gradOffset) =>
            new(P + offset, G + gradOffset, M + offset, V + offset, Beta1, Beta2, OneMinusBeta1, OneMinusBeta2, LrT, Epsilon);
    }
}
