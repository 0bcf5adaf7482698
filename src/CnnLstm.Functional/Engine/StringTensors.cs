using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using static TorchSharp.torch;

namespace KerasStyle.Engine;

/// <summary>
/// How string values (<see cref="Graph.DType.String"/>) travel through a graph whose runs and batches are TorchSharp
/// tensors: the strings stay in a managed <c>string[]</c> (a table) and the graph carries an int64 tensor of the same
/// shape whose elements are handles, <c>table id &lt;&lt; 32 | index</c>, into it. Slicing a batch, narrowing and
/// stacking act on the handles, so every batching path of Predict, Fit and a <c>DataSource</c> carries strings
/// unchanged; a layer that reads text (<see cref="Layers.Layer.TakesStrings"/>) turns its input's handles back into
/// strings with <see cref="Read"/> and returns int64 or float32 tensors (or new handles from <see cref="Register(string[], long[])"/>).
/// A table lives as long as the handle tensor <see cref="Register(string[], long[])"/> returned (a weak table keyed on it), so nothing
/// needs releasing, and the last 256 tables are also held strongly; a handle whose table is gone is refused by
/// <see cref="Read"/>.
/// </summary>
internal static class StringTensors
{
    private static readonly ConcurrentDictionary<long, WeakReference<string[]>> Tables = new();
    private static readonly ConditionalWeakTable<Tensor, string[]> Owners = new();
    private static readonly string[]?[] Recent = new string[]?[256];
    private static long nextId;

    /// <summary>Registers <paramref name="values"/> (in row-major order) and returns their handles, an int64 tensor of <paramref name="dims"/>.</summary>
    public static Tensor Register(string[] values, long[] dims)
    {
        if (values.Length > int.MaxValue / 2)
        {
            throw new ArgumentOutOfRangeException(nameof(values), values.Length, "too many strings in one array (at most 2^30).");
        }

        var id = Interlocked.Increment(ref nextId);
        if (id % 64 == 0)
        {
            foreach (var entry in Tables)
            {
                if (!entry.Value.TryGetTarget(out _))
                {
                    Tables.TryRemove(entry.Key, out _);
                }
            }
        }

        var handles = new long[values.Length];
        for (var i = 0; i < handles.Length; i++)
        {
            handles[i] = (id << 32) | (long)i;
        }

        var result = tensor(handles, dims);
        Tables[id] = new WeakReference<string[]>(values);
        Owners.Add(result, values);
        // The last tables registered stay alive too: a layer's string output (StringLookup's invert) is read by the
        // next layer or by Predict after its tensor was aliased into another handle.
        Recent[id % Recent.Length] = values;
        return result;
    }

    /// <summary>Registers a C# string array of any rank (samples along the first axis).</summary>
    public static Tensor Register(Array array) => Register(array, Enumerable.Range(0, array.Rank).Select(d => (long)array.GetLength(d)).ToArray());

    /// <summary>Registers a C# string array of any rank as handles of <paramref name="dims"/> (the same number of
    /// elements, row-major: a (batch,) array as (batch, 1), for Keras' input rank adjustment).</summary>
    public static Tensor Register(Array array, long[] dims)
    {
        var values = new string[array.Length];
        var i = 0;
        foreach (var value in array)
        {
            values[i++] = value as string ?? throw new ArgumentException($"the string array holds a null at element {i - 1}; every element must be a string.", nameof(array));
        }

        return Register(values, dims);
    }

    /// <summary>The strings behind a handle tensor, in row-major order.</summary>
    /// <exception cref="ArgumentException">A value is not a live handle (an integer tensor passed where strings are taken).</exception>
    public static string[] Read(Tensor handles)
    {
        if (handles.numel() == 0)
        {
            // An empty batch (Predict on no samples gives empty outputs of any dtype).
            return Array.Empty<string>();
        }

        if (handles.dtype != ScalarType.Int64)
        {
            throw new ArgumentException($"expected string values (a handle tensor), but got a {handles.dtype} tensor.");
        }

        using var scope = NewDisposeScope();
        var flat = handles.cpu().contiguous().reshape(-1).data<long>().ToArray();
        var result = new string[flat.Length];
        string[]? table = null;
        long tableId = -1;
        for (var i = 0; i < flat.Length; i++)
        {
            var id = flat[i] >> 32;
            if (id != tableId)
            {
                table = Tables.TryGetValue(id, out var weak) && weak.TryGetTarget(out var found) ? found : null;
                tableId = id;
            }

            var index = flat[i] & 0xFFFFFFFFL;
            if (table is null || index >= table.Length)
            {
                throw new ArgumentException("expected string values, but the tensor holds numbers that are no live string handles (pass text as a string array).");
            }

            result[i] = table[index];
        }

        return result;
    }

    /// <summary>A string array of <paramref name="dims"/> (rank 1 to 3) holding <paramref name="values"/> in row-major order.</summary>
    public static Array ToArray(string[] values, long[] dims)
    {
        var result = Array.CreateInstance(typeof(string), dims.Select(d => (int)d).ToArray());
        var index = new int[dims.Length];
        for (var i = 0; i < values.Length; i++)
        {
            var rest = i;
            for (var d = dims.Length - 1; d >= 0; d--)
            {
                index[d] = (int)(rest % dims[d]);
                rest /= (int)dims[d];
            }

            result.SetValue(values[i], index);
        }

        return result;
    }
}
