using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace KerasStyle.Engine;

/// <summary>
/// Keras' Adam step as one vectorised pass over each weight's memory (weight, gradient, m, v), split across the
/// cores. Issuing the same update as separate TorchSharp operations walks the 2.6 million sentiment weights about
/// seven times per step; this walks them once.
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
            t.device_type == TorchSharp.DeviceType.CPU && t.dtype == ScalarType.Float32 && t.is_contiguous() && t.numel() == n;
    }

    /// <summary>m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g²; p -= lrT m / (√v + ε), in place.</summary>
    public static void Step(Tensor variable, Tensor grad, Tensor m, Tensor v, double beta1, double beta2, double lrT, double epsilon)
    {
        var n = variable.numel();
        // 1 - beta in double, then rounded: (float)(1 - 0.999) is 0.001, but 1 - 0.999f is 0.000999987.
        var state = new State(Pointer(variable), Pointer(grad), Pointer(m), Pointer(v), (float)beta1, (float)beta2, (float)(1 - beta1), (float)(1 - beta2), (float)lrT, (float)epsilon);
        if (n < ParallelThreshold || Environment.ProcessorCount == 1)
        {
            Kernel(state, 0, n);
            return;
        }

        var chunks = Environment.ProcessorCount;
        // Chunk edges on vector boundaries so only the last chunk has a scalar tail.
        var chunk = (n / chunks + Vector<float>.Count - 1) / Vector<float>.Count * Vector<float>.Count;
        Parallel.For(0, chunks, i =>
        {
            var start = i * chunk;
            var end = Math.Min(n, start + chunk);
            if (start < end)
            {
                Kernel(state, start, end);
            }
        });
    }

    private static float* Pointer(Tensor t) => (float*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(t.bytes));

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
    }
}
