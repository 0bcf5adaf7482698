using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using static TorchSharp.torch;

namespace KerasStyle.Engine;

/// <summary>
/// Inverted dropout with a counter-based generator: each element's keep/drop draw is a SplitMix64 hash of its index
/// and a seed taken from TorchSharp's seeded generator, so runs repeat under <c>Utils.SetRandomSeed</c> and the
/// threads can split the work freely. libtorch's own CPU dropout draws element by element on one thread, which took
/// about a quarter of a sentiment training step.
/// </summary>
internal static unsafe class DropoutMask
{
    private const long ParallelThreshold = 1 << 15;

    /// <summary>Whether the fast path applies: a CPU float32 tensor.</summary>
    public static bool Supports(Tensor x) => TensorData.IsCpuFloat32(x);

    /// <summary>x * mask, where mask is 1 / (1 - rate) with probability 1 - rate and 0 otherwise.</summary>
    public static Tensor Apply(Tensor x, double rate, ulong seed)
    {
        using var mask = empty(x.shape, dtype: ScalarType.Float32);
        var n = mask.numel();
        var data = TensorData.FloatPointer(mask);
        // Keep when the 32-bit draw is at or above rate * 2^32, i.e. with probability 1 - rate.
        var threshold = (uint)Math.Min(Math.Round(rate * 4294967296.0), uint.MaxValue);
        var scale = (float)(1 / (1 - rate));
        // Ranges start on even indices: elements 2k and 2k + 1 share one hash.
        ParallelRanges.For(n, n, ParallelThreshold, 2, (start, end) => Fill(data, start, end, seed, threshold, scale));

        return x * mask;
    }

    private static void Fill(float* data, long start, long end, ulong seed, uint threshold, float scale)
    {
        // One hash gives two 32-bit draws: elements 2k and 2k + 1 take the low and high half of hash k (chunks
        // start on even indices). Sixteen or eight elements per vector step; the scalar tail draws the same values.
        var i = start;
        if (Vector512.IsHardwareAccelerated)
        {
            // Sixteen elements (eight hashes) per step where .NET accelerates AVX-512: the same draws as below.
            var lanes = Vector512.Create(0UL, 1UL, 2UL, 3UL, 4UL, 5UL, 6UL, 7UL);
            var seeds = Vector512.Create(seed);
            var thresholds = Vector512.Create(threshold);
            var scales = Vector512.Create(scale);
            for (; i + 16 <= end; i += 16)
            {
                var z = seeds + ((Vector512.Create(((ulong)i >> 1) + 1) + lanes) * Vector512.Create(Golden));
                z = (z ^ Vector512.ShiftRightLogical(z, 30)) * Vector512.Create(Mix1);
                z = (z ^ Vector512.ShiftRightLogical(z, 27)) * Vector512.Create(Mix2);
                z ^= Vector512.ShiftRightLogical(z, 31);
                var keep = Vector512.GreaterThanOrEqual(z.AsUInt32(), thresholds).AsSingle();
                Vector512.ConditionalSelect(keep, scales, Vector512<float>.Zero).Store(data + i);
            }
        }

        if (Vector256.IsHardwareAccelerated)
        {
            var lanes = Vector256.Create(0UL, 1UL, 2UL, 3UL);
            var seeds = Vector256.Create(seed);
            var thresholds = Vector256.Create(threshold);
            var scales = Vector256.Create(scale);
            for (; i + 8 <= end; i += 8)
            {
                var z = seeds + ((Vector256.Create(((ulong)i >> 1) + 1) + lanes) * Vector256.Create(Golden));
                z = (z ^ Vector256.ShiftRightLogical(z, 30)) * Vector256.Create(Mix1);
                z = (z ^ Vector256.ShiftRightLogical(z, 27)) * Vector256.Create(Mix2);
                z ^= Vector256.ShiftRightLogical(z, 31);
                var keep = Vector256.GreaterThanOrEqual(z.AsUInt32(), thresholds).AsSingle();
                Vector256.ConditionalSelect(keep, scales, Vector256<float>.Zero).Store(data + i);
            }
        }

        for (; i < end; i++)
        {
            var bits = Hash(seed, (ulong)i >> 1);
            var draw = (i & 1) == 0 ? (uint)bits : (uint)(bits >> 32);
            data[i] = draw >= threshold ? scale : 0f;
        }
    }

    private const ulong Golden = 0x9E3779B97F4A7C15UL;
    private const ulong Mix1 = 0xBF58476D1CE4E5B9UL;
    private const ulong Mix2 = 0x94D049BB133111EBUL;

    /// <summary>SplitMix64 at position <paramref name="counter"/> of the stream <paramref name="seed"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Hash(ulong seed, ulong counter)
    {
        var z = seed + ((counter + 1) * Golden);
        z = (z ^ (z >> 30)) * Mix1;
        z = (z ^ (z >> 27)) * Mix2;
        return z ^ (z >> 31);
    }
}
