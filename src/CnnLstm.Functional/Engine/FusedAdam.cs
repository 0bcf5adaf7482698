using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using static TorchSharp.torch;

namespace KerasStyle.Engine;

/// <summary>
/// Keras' Adam step as one vectorised pass over each weight's memory (weight, gradient, m, v), split across the
/// cores. Issuing the same update as separate TorchSharp operations walks the 2.6 million sentiment weights about
/// seven times per step; this walks them once, 16 lanes at a time where .NET accelerates AVX-512, then 8, 4 and
/// scalar (each loop written once over <see cref="ILanes{TSelf}"/>). Every operation is element-wise IEEE single
/// precision (no fused multiply-add), so every width, thread split and CPU gives the same bits.
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

    private static void Kernel(State s, long start, long end) => AllWidths<Update>(s, start, end);

    /// <summary>Adam with g = 0: m = b1 m; v = b2 v; p -= lrT m / (√v + ε).</summary>
    private static void NoGradientKernel(State s, long width) => AllWidths<Decay>(s, 0, width);

    /// <summary>
    /// <typeparamref name="TPass"/> over [start, end): 16 lanes where .NET accelerates AVX-512 (element-wise IEEE
    /// operations: every width gives the same bits; AVX-512 halves the square roots and divisions issued, which bound
    /// these loops once the weights are in cache, issue 27), then 8, 4, and one at a time for the tail.
    /// </summary>
    private static void AllWidths<TPass>(State s, long start, long end)
        where TPass : IPass
    {
        var i = start;
        if (Vector512.IsHardwareAccelerated)
        {
            i = TPass.Run<Lanes512>(s, i, end);
        }

        if (Vector256.IsHardwareAccelerated)
        {
            i = TPass.Run<Lanes256>(s, i, end);
        }

        if (Vector128.IsHardwareAccelerated)
        {
            i = TPass.Run<Lanes128>(s, i, end);
        }

        TPass.Run<Lanes1>(s, i, end);
    }

    /// <summary>One loop of the step, written once for every width.</summary>
    private interface IPass
    {
        /// <summary>The pass on [i, end) in steps of <typeparamref name="TL"/>'s width; returns where it stopped.</summary>
        static abstract long Run<TL>(State s, long i, long end)
            where TL : unmanaged, ILanes<TL>;
    }

    /// <summary>Keras' Adam: m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g²; p -= lrT m / (√v + ε).</summary>
    private readonly struct Update : IPass
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static long Run<TL>(State s, long i, long end)
            where TL : unmanaged, ILanes<TL>
        {
            var (b1, b2, c1, c2, lr, eps) = (TL.Broadcast(s.Beta1), TL.Broadcast(s.Beta2), TL.Broadcast(s.OneMinusBeta1), TL.Broadcast(s.OneMinusBeta2), TL.Broadcast(s.LrT), TL.Broadcast(s.Epsilon));
            for (; i + TL.Count <= end; i += TL.Count)
            {
                var g = TL.Load(s.G + i);
                var m = TL.Add(TL.Mul(TL.Load(s.M + i), b1), TL.Mul(g, c1));
                var v = TL.Add(TL.Mul(TL.Load(s.V + i), b2), TL.Mul(TL.Mul(g, g), c2));
                TL.Store(m, s.M + i);
                TL.Store(v, s.V + i);
                TL.Store(TL.Subtract(TL.Load(s.P + i), TL.Divide(TL.Mul(lr, m), TL.Add(TL.Sqrt(v), eps))), s.P + i);
            }

            return i;
        }
    }

    /// <summary>Adam with g = 0, for rows without a gradient: no gradient is read.</summary>
    private readonly struct Decay : IPass
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static long Run<TL>(State s, long i, long end)
            where TL : unmanaged, ILanes<TL>
        {
            var (b1, b2, lr, eps) = (TL.Broadcast(s.Beta1), TL.Broadcast(s.Beta2), TL.Broadcast(s.LrT), TL.Broadcast(s.Epsilon));
            for (; i + TL.Count <= end; i += TL.Count)
            {
                var m = TL.Mul(TL.Load(s.M + i), b1);
                var v = TL.Mul(TL.Load(s.V + i), b2);
                TL.Store(m, s.M + i);
                TL.Store(v, s.V + i);
                TL.Store(TL.Subtract(TL.Load(s.P + i), TL.Divide(TL.Mul(lr, m), TL.Add(TL.Sqrt(v), eps))), s.P + i);
            }

            return i;
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
