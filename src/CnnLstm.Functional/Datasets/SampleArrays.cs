using TorchSharp;
using static TorchSharp.torch;

namespace KerasStyle.Datasets;

/// <summary>Sample-axis (axis 0) helpers over C# arrays of any rank and element type.</summary>
internal static class SampleArrays
{
    /// <summary>
    /// Copies <paramref name="count"/> elements between arrays by row-major position, whatever their ranks (Array.Copy
    /// needs equal ranks): a byte copy for primitive element types, element by element otherwise.
    /// </summary>
    public static void Copy(Array source, long sourceIndex, Array destination, long destinationIndex, long count)
    {
        var type = source.GetType().GetElementType()!;
        if (source.Rank == destination.Rank)
        {
            Array.Copy(source, sourceIndex, destination, destinationIndex, count);
        }
        else if (type.IsPrimitive && type == destination.GetType().GetElementType())
        {
            var size = Buffer.ByteLength(source) / Math.Max(1, source.Length);
            Buffer.BlockCopy(source, checked((int)(sourceIndex * size)), destination, checked((int)(destinationIndex * size)), checked((int)(count * size)));
        }
        else
        {
            for (long i = 0; i < count; i++)
            {
                destination.SetValue(source.GetValue(Indices(source, sourceIndex + i)), Indices(destination, destinationIndex + i));
            }
        }
    }

    private static long[] Indices(Array a, long flat)
    {
        var indices = new long[a.Rank];
        for (var d = a.Rank - 1; d >= 0; d--)
        {
            var length = a.GetLength(d);
            indices[d] = flat % length;
            flat /= length;
        }

        return indices;
    }

    /// <summary>The array's shape.</summary>
    public static int[] Shape(Array a) => Enumerable.Range(0, a.Rank).Select(a.GetLength).ToArray();

    /// <summary>The elements in one sample (the product of all but the first dimension).</summary>
    public static int RowLength(Array a)
    {
        var length = 1;
        for (var d = 1; d < a.Rank; d++)
        {
            length = checked(length * a.GetLength(d));
        }

        return length;
    }

    /// <summary>A new array of the samples at <paramref name="rows"/>, in that order (same element type and sample shape).</summary>
    public static Array Take(Array a, IReadOnlyList<int> rows)
    {
        var shape = Shape(a);
        shape[0] = rows.Count;
        var result = Array.CreateInstance(a.GetType().GetElementType()!, shape);
        var rowLength = RowLength(a);
        for (var i = 0; i < rows.Count; i++)
        {
            Array.Copy(a, (long)rows[i] * rowLength, result, (long)i * rowLength, rowLength);
        }

        return result;
    }

    /// <summary>A new array of samples <paramref name="start"/> to start + count - 1.</summary>
    public static Array Range(Array a, int start, int count) => Take(a, Enumerable.Range(start, count).ToArray());

    /// <summary>Joins arrays of the same element type and sample shape along axis 0.</summary>
    public static Array Concatenate(IReadOnlyList<Array> parts)
    {
        var shape = Shape(parts[0]);
        shape[0] = parts.Sum(p => p.GetLength(0));
        var result = Array.CreateInstance(parts[0].GetType().GetElementType()!, shape);
        long offset = 0;
        foreach (var part in parts)
        {
            Array.Copy(part, 0, result, offset, part.Length);
            offset += part.Length;
        }

        return result;
    }

    /// <summary>A tensor's values as a C# array of its shape (float32, float64, int32, int64 or bool).</summary>
    /// <exception cref="ArgumentException">Another element type.</exception>
    public static Array FromTensor(Tensor tensor, string who)
    {
        var shape = tensor.shape.Select(d => checked((int)d)).ToArray();
        if (shape.Length == 0)
        {
            throw new ArgumentException($"{who}: a tensor of a batch is a scalar; expected the batch's samples first.");
        }

        using var cpu = tensor.cpu().contiguous();
        Array flat = tensor.dtype switch
        {
            ScalarType.Float32 => cpu.data<float>().ToArray(),
            ScalarType.Float64 => cpu.data<double>().ToArray(),
            ScalarType.Int32 => cpu.data<int>().ToArray(),
            ScalarType.Int64 => cpu.data<long>().ToArray(),
            ScalarType.Bool => cpu.data<bool>().ToArray(),
            _ => throw new ArgumentException($"{who}: a tensor of dtype {tensor.dtype} cannot be read into an array; expected float32, float64, int32, int64 or bool."),
        };
        var result = Array.CreateInstance(flat.GetType().GetElementType()!, shape);
        Copy(flat, 0, result, 0, flat.Length);
        return result;
    }
}
