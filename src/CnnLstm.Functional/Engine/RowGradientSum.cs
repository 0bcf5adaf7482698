using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using static TorchSharp.torch;

namespace KerasStyle.Engine;

/// <summary>
/// An Embedding's gradient by rows in C#: the distinct looked-up ids in ascending order, and for each the sum of the
/// gradients of the rows looked up at it, added in order of appearance (lookup after lookup, row after row) onto zero.
/// That is libtorch's <c>unique(sorted, return_inverse)</c> + <c>zeros().index_add_(0, inverse, grads)</c> bit for
/// bit (its CPU kernel sorts the inverse with a stable radix sort and adds each id's rows in that order onto the zero
/// row; Engine/RowGradientSumTests.cs checks the bits on many duplicates), without the
/// sorts and the scatter kernel, which cost about 0.3-0.45 ms of each 9-10 ms step of the seed sentiment model
/// (issue 27). The ids are marked in a <see cref="Marker"/> over the embedding's rows (an int and a bit per row, made
/// once, kept by the weight between steps and cleared only where it was touched), so a step costs O(ids x width) plus
/// a scan of one bit per row; measured faster than sorting the ids at the seed shape.
/// </summary>
internal static unsafe class RowGradientSum
{
    /// <summary>
    /// Whether <see cref="Sum"/> applies: at least one piece, every piece's ids CPU int64 contiguous 1-D and its
    /// gradient CPU float32 contiguous (ids, width) with one width, an embedding of at most <see cref="int.MaxValue"/> rows.
    /// </summary>
    public static bool Supports(IReadOnlyList<(Tensor Ids, Tensor Grad)> pieces, long rows)
    {
        if (pieces.Count == 0 || rows <= 0 || rows > int.MaxValue || pieces[0].Grad.dim() != 2)
        {
            return false;
        }

        var width = pieces[0].Grad.shape[1];
        long total = 0;
        foreach (var (ids, grad) in pieces)
        {
            if (ids.device_type != TorchSharp.DeviceType.CPU || ids.dtype != ScalarType.Int64 || ids.dim() != 1 || !ids.is_contiguous()
                || !TensorData.IsCpuFloat32(grad) || grad.dim() != 2 || !grad.is_contiguous()
                || grad.shape[0] != ids.shape[0] || grad.shape[1] != width)
            {
                return false;
            }

            total += ids.shape[0];
        }

        return total <= int.MaxValue;
    }

    /// <summary>
    /// The distinct ids of the <paramref name="pieces"/> (ascending, int64) and each one's summed gradient
    /// (float32 (distinct, width)), new tensors in the caller's dispose scope; null when an id is outside
    /// [0, <paramref name="rows"/>), which the caller leaves to libtorch. The pieces must pass <see cref="Supports"/>.
    /// </summary>
    /// <param name="pieces">Each lookup's ids and its rows' gradient, in the order the lookups were made.</param>
    /// <param name="rows">The embedding's rows.</param>
    /// <param name="kept">The caller's marker, all clear, or null (one is made); set back, all clear, on return
    /// (null if the call failed half-way, so a marker with marks left is never used again).</param>
    public static (Tensor Ids, Tensor Grad)? Sum(IReadOnlyList<(Tensor Ids, Tensor Grad)> pieces, long rows, ref Marker? kept)
    {
        var width = pieces[0].Grad.shape[1];
        foreach (var (ids, _) in pieces)
        {
            foreach (var id in Ids(ids))
            {
                if ((ulong)id >= (ulong)rows)
                {
                    return null;
                }
            }
        }

        var marker = kept is { } held && held.Slot.Length >= rows ? held : new Marker((int)rows);
        kept = null;

        var (slot, seen) = (marker.Slot, marker.Seen);

        // Mark every id in the bitset and count the distinct ones.
        var distinct = 0;
        foreach (var (ids, _) in pieces)
        {
            foreach (var id in Ids(ids))
            {
                ref var word = ref seen[id >> 6];
                var bit = 1UL << (int)(id & 63);
                if ((word & bit) == 0)
                {
                    word |= bit;
                    distinct++;
                }
            }
        }

        var distinctIds = empty(distinct, dtype: ScalarType.Int64);
        var summed = empty(distinct, width, dtype: ScalarType.Float32);
        var idOut = (long*)TensorData.FloatPointer(distinctIds);

        // Ascending ids from the bitset; slot[id] = its row in the result + 1 (positive: not written yet).
        var next = 0;
        for (var w = 0; next < distinct; w++)
        {
            for (var bits = seen[w]; bits != 0; bits &= bits - 1)
            {
                var id = ((long)w << 6) + BitOperations.TrailingZeroCount(bits);
                idOut[next] = id;
                slot[id] = ++next;
            }
        }

        // Each id's rows in order of appearance onto zero: the first stored as 0 + g (slot turns negative), then added.
        var sum = TensorData.FloatPointer(summed);
        foreach (var (ids, grad) in pieces)
        {
            var g = TensorData.FloatPointer(grad);
            var span = Ids(ids);
            for (var k = 0; k < span.Length; k++)
            {
                ref var s = ref slot[span[k]];
                if (s > 0)
                {
                    AddRow(sum + ((s - 1) * width), null, g + (k * width), width);
                    s = -s;
                }
                else
                {
                    var row = sum + ((-s - 1) * width);
                    AddRow(row, row, g + (k * width), width);
                }
            }
        }

        // Clear only what was touched, then keep the table for the next call.
        for (var i = 0; i < distinct; i++)
        {
            var id = idOut[i];
            slot[id] = 0;
            seen[id >> 6] = 0;
        }

        kept = marker;
        return (distinctIds, summed);
    }

    private static ReadOnlySpan<long> Ids(Tensor ids) => MemoryMarshal.Cast<byte, long>(ids.bytes);

    /// <summary>
    /// dst = a + g element by element, or dst = 0 + g when <paramref name="a"/> is null (as libtorch's zero row: -0
    /// becomes +0). Plain IEEE additions, so every vector width gives the same bits.
    /// </summary>
    private static void AddRow(float* dst, float* a, float* g, long width)
    {
        var i = 0L;
        if (a is null)
        {
            if (Vector512.IsHardwareAccelerated)
            {
                for (; i + Vector512<float>.Count <= width; i += Vector512<float>.Count)
                {
                    (Vector512<float>.Zero + Vector512.Load(g + i)).Store(dst + i);
                }
            }

            for (; i + Vector<float>.Count <= width; i += Vector<float>.Count)
            {
                (Vector<float>.Zero + Vector.Load(g + i)).Store(dst + i);
            }

            for (; i < width; i++)
            {
                dst[i] = 0f + g[i];
            }

            return;
        }

        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + Vector512<float>.Count <= width; i += Vector512<float>.Count)
            {
                (Vector512.Load(a + i) + Vector512.Load(g + i)).Store(dst + i);
            }
        }

        for (; i + Vector<float>.Count <= width; i += Vector<float>.Count)
        {
            (Vector.Load(a + i) + Vector.Load(g + i)).Store(dst + i);
        }

        for (; i < width; i++)
        {
            dst[i] = a[i] + g[i];
        }
    }

    /// <summary>
    /// Per embedding row, all clear between calls: its result row + 1 during a call (0: not looked up), and one bit
    /// (looked up). 4.1 bytes per row, made on the first step.
    /// </summary>
    internal sealed class Marker(int rows)
    {
        public readonly int[] Slot = new int[rows];
        public readonly ulong[] Seen = new ulong[(rows + 63) / 64];
    }
}
