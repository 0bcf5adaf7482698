using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using KerasStyle.Graph;
using static TorchSharp.torch;

namespace KerasStyle.Engine;

/// <summary>Moves C# arrays in and out of TorchSharp tensors, checking them against a model input.</summary>
internal static unsafe class TensorData
{
    /// <summary>Whether <paramref name="t"/> is a float32 tensor on the CPU, the kind the library's own kernels read through <see cref="FloatPointer"/>.</summary>
    public static bool IsCpuFloat32(Tensor t) => t.device_type == TorchSharp.DeviceType.CPU && t.dtype == ScalarType.Float32;

    /// <summary>
    /// The first float of a contiguous float32 CPU tensor (its storage offset included), for the library's own kernels;
    /// valid while the tensor lives.
    /// </summary>
    public static float* FloatPointer(Tensor t) => (float*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(t.bytes));

    /// <summary>Converts a float, double, int or long array of any rank to a tensor for <paramref name="input"/>.</summary>
    /// <param name="array">The data, samples along the first dimension.</param>
    /// <param name="input">The model input it feeds.</param>
    /// <param name="argument">The argument name, for messages.</param>
    public static Tensor FromArray(Array array, KerasTensor input, string argument)
    {
        ArgumentNullException.ThrowIfNull(array, argument);
        var dims = Enumerable.Range(0, array.Rank).Select(d => (long)array.GetLength(d)).ToArray();
        var element = array.GetType().GetElementType()!;
        if (input.DType == DType.String && element == typeof(string))
        {
            // Keras' Functional._adjust_input_rank: texts (batch,) feed an input of shape (None, 1) as (batch, 1), and
            // (batch, 1) feed an input of shape (None,) as (batch,) (a dataset's string[] for either declaration).
            var rank = input.Shape.Rank;
            var adjusted = dims.Length == rank - 1 && input.Shape[rank - 1] == 1 ? dims.Append(1L).ToArray()
                : dims.Length == rank + 1 && dims[^1] == 1 ? dims[..^1]
                : dims;
            CheckShape(adjusted, input, argument, TypeName(array));
            return StringTensors.Register(array, adjusted);
        }

        if (input.DType == DType.String || element == typeof(string))
        {
            // Text travels as handles into the managed strings (StringTensors); the kinds disagree (checked before
            // the shape, as the dtype is what to fix).
            throw new ArgumentException(input.DType == DType.String
                    ? $"{argument}: input '{input.Layer.Name}' takes strings (dtype string) with shape {input.Shape}, but a {TypeName(array)} was given; pass string[] (one text per sample) or string[,]."
                    : $"{argument}: input '{input.Layer.Name}' takes {input.DType.ToKerasName()} data with shape {input.Shape}, but a {TypeName(array)} was given; declare the input with dtype: DType.String for text.", argument);
        }

        CheckShape(dims, input, argument, TypeName(array));
        if (input.DType.IsInteger())
        {
            if (element == typeof(long))
            {
                return FromElements<long>(array, dims, ScalarType.Int64);
            }

            if (element == typeof(int))
            {
                using var ints = FromElements<int>(array, dims, ScalarType.Int32);
                return ints.to_type(ScalarType.Int64);
            }

            throw new ArgumentException(
                $"{argument}: input '{input.Layer.Name}' takes integer token ids with shape {input.Shape}, but a {TypeName(array)} was given; pass int[,] or long[,].", argument);
        }

        if (element == typeof(float))
        {
            return FromElements<float>(array, dims, ScalarType.Float32);
        }

        if (element == typeof(double) || element == typeof(int) || element == typeof(long))
        {
            using var converted = element == typeof(double) ? FromElements<double>(array, dims, ScalarType.Float64)
                : element == typeof(int) ? FromElements<int>(array, dims, ScalarType.Int32) : FromElements<long>(array, dims, ScalarType.Int64);
            return converted.to_type(ScalarType.Float32);
        }

        throw new ArgumentException(
            $"{argument}: input '{input.Layer.Name}' takes float32 data with shape {input.Shape}, but a {TypeName(array)} was given; pass float[...] (or double[...]).", argument);
    }

    /// <summary>
    /// Converts an array for an eager layer call, which has no model input to follow: float and double arrays become
    /// float32, int and long arrays int64 token ids.
    /// </summary>
    /// <param name="array">The data, samples along the first dimension.</param>
    /// <param name="argument">The argument name, for messages.</param>
    /// <exception cref="ArgumentException">Another element type.</exception>
    public static Tensor FromArray(Array array, string argument)
    {
        ArgumentNullException.ThrowIfNull(array, argument);
        var dims = Enumerable.Range(0, array.Rank).Select(d => (long)array.GetLength(d)).ToArray();
        var element = array.GetType().GetElementType()!;
        if (element == typeof(float))
        {
            return FromElements<float>(array, dims, ScalarType.Float32);
        }

        if (element == typeof(long))
        {
            return FromElements<long>(array, dims, ScalarType.Int64);
        }

        using var converted = element == typeof(double) ? FromElements<double>(array, dims, ScalarType.Float64)
            : element == typeof(int) ? FromElements<int>(array, dims, ScalarType.Int32)
            : throw new ArgumentException($"{argument}: a {TypeName(array)} was given; pass float or double data, or int or long token ids.", argument);
        return converted.to_type(element == typeof(int) ? ScalarType.Int64 : ScalarType.Float32);
    }

    /// <summary>Throws unless the sizes fit the input's rank and known per-sample dimensions.</summary>
    public static void CheckShape(long[] dims, KerasTensor input, string argument, string what)
    {
        var expected = input.Shape;
        var fits = dims.Length == expected.Rank
            && Enumerable.Range(1, dims.Length - 1).All(d => expected[d] is null || expected[d] == dims[d]);
        if (!fits)
        {
            throw new ArgumentException(
                $"{argument}: input '{input.Layer.Name}' expects shape {expected}, but the {what} given has shape ({string.Join(", ", dims)}).", argument);
        }
    }

    /// <summary>Copies an integer tensor into a C# <c>long</c> array of the same rank and sizes.</summary>
    public static Array ToLongArray(Tensor value)
    {
        using var scope = NewDisposeScope();
        var cpu = value.to_type(ScalarType.Int64).cpu().contiguous();
        var result = Array.CreateInstance(typeof(long), cpu.shape.Select(d => (int)d).ToArray());
        if (result.Length == 0)
        {
            return result;
        }

        var data = cpu.data<long>().ToArray();
        Buffer.BlockCopy(data, 0, result, 0, data.Length * sizeof(long));
        return result;
    }

    /// <summary>Copies a float tensor into a C# array of the same rank and sizes.</summary>
    public static Array ToArray(Tensor value)
    {
        // Each step returns a new tensor handle; the scope releases them all, so nothing waits for the finalizer.
        using var scope = NewDisposeScope();
        // Predict's outputs are already float32, on the CPU and contiguous: read them as they are, in one copy.
        var cpu = value.dtype == ScalarType.Float32 && value.device_type == TorchSharp.DeviceType.CPU && value.is_contiguous() ? value : value.to_type(ScalarType.Float32).cpu().contiguous();
        var shape = cpu.shape;
        var lengths = new int[shape.Length];
        for (var d = 0; d < lengths.Length; d++)
        {
            lengths[d] = checked((int)shape[d]);
        }

        var result = Array.CreateInstance(typeof(float), lengths);
        if (result.Length == 0)
        {
            return result;
        }

        // One memory copy (TorchSharp's data<T>() accessor copies element by element: 42 µs for 1,024 floats against 0.3 µs).
        System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(cpu.bytes).CopyTo(WritableElements<float>(result));
        return result;
    }

    /// <summary>An array's type as C# spells it, e.g. <c>float[,,]</c> (not <c>Single[,,]</c>).</summary>
    public static string TypeName(Array array) => TypeName(array.GetType());

    /// <summary>A type as C# spells it, e.g. <c>float[,]</c> for an array type.</summary>
    public static string TypeName(Type type)
    {
        if (!type.IsArray)
        {
            return type.Name;
        }

        var element = type.GetElementType()!;
        var name = element == typeof(float) ? "float" : element == typeof(double) ? "double" : element == typeof(string) ? "string"
            : element == typeof(int) ? "int" : element == typeof(long) ? "long" : element.Name;
        return $"{name}[{new string(',', type.GetArrayRank() - 1)}]";
    }

    /// <summary>Whether every value of a float array (any rank) is finite.</summary>
    public static bool AllFinite(Array array)
    {
        foreach (var value in Elements<float>(array))
        {
            if (!float.IsFinite(value))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The smallest and largest id in an int or long array of token ids; null for other arrays or no elements.</summary>
    public static (long Min, long Max)? IdRange(Array array)
    {
        if (array.Length == 0)
        {
            return null;
        }

        var element = array.GetType().GetElementType();
        if (element == typeof(long))
        {
            return MinMax<long>(array);
        }

        return element == typeof(int) ? MinMax<int>(array) : null;
    }

    private static (long Min, long Max) MinMax<T>(Array array)
        where T : unmanaged, System.Numerics.INumber<T>
    {
        var ids = Elements<T>(array);
        T min = ids[0], max = ids[0];
        foreach (var id in ids)
        {
            min = T.Min(min, id);
            max = T.Max(max, id);
        }

        return (long.CreateTruncating(min), long.CreateTruncating(max));
    }

    /// <summary>The elements of an array of any rank, in row-major order, without a copy; T must be its element type.</summary>
    private static ReadOnlySpan<T> Elements<T>(Array array)
        where T : unmanaged =>
        System.Runtime.InteropServices.MemoryMarshal.CreateReadOnlySpan(
            ref System.Runtime.CompilerServices.Unsafe.As<byte, T>(ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(array)), array.Length);

    /// <summary>The elements of an array of any rank, in row-major order, to write in place; T must be its element type.</summary>
    private static Span<T> WritableElements<T>(Array array)
        where T : unmanaged =>
        System.Runtime.InteropServices.MemoryMarshal.CreateSpan(
            ref System.Runtime.CompilerServices.Unsafe.As<byte, T>(ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(array)), array.Length);

    /// <summary>A new tensor of <paramref name="dims"/> holding the array's elements, in one memory copy; T must be its element type.</summary>
    private static Tensor FromElements<T>(Array array, long[] dims, ScalarType type)
        where T : unmanaged
    {
        var result = empty(dims, type);
        if (array.Length > 0)
        {
            System.Runtime.InteropServices.MemoryMarshal.AsBytes(Elements<T>(array)).CopyTo(result.bytes);
        }

        return result;
    }
}
