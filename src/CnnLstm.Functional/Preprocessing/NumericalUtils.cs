using System.Globalization;

namespace KerasStyle.Preprocessing;

/// <summary>Keras' <c>keras.utils</c> numerical helpers (Keras 3.16 <c>keras/src/utils/numerical_utils.py</c>).</summary>
public static class NumericalUtils
{
    /// <summary>
    /// Keras' <c>to_categorical</c>: class ids to one-hot rows, the class axis last. An input of shape (..., 1) of rank
    /// 2 or more loses its trailing 1 first, as Keras does: ids of shape (batch, 1) give (batch, numClasses), ids of
    /// shape (batch, steps) give (batch, steps, numClasses).
    /// </summary>
    /// <param name="x">The class ids: an array of any rank of <c>int</c>, <c>long</c>, <c>short</c>, <c>byte</c>,
    /// <c>sbyte</c>, <c>ushort</c> or <c>uint</c>, or of <c>float</c>/<c>double</c> holding whole numbers.</param>
    /// <param name="numClasses">The number of classes; null (or 0, as Keras treats a falsy value) infers it as the
    /// largest id + 1.</param>
    /// <returns>A <c>float</c> array (Keras returns float64; the values 0 and 1 are the same) of the input's shape
    /// (trailing 1 dropped) plus a last axis of <paramref name="numClasses"/>.</returns>
    /// <exception cref="ArgumentException">An id is negative (NumPy would count it from the end; refused here), not
    /// a whole number (NumPy would truncate it; refused here), or the element type is not a number; or the array is
    /// empty and <paramref name="numClasses"/> is not given (Keras: "zero-size array to reduction operation").</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numClasses"/> is negative, or an id is
    /// <paramref name="numClasses"/> or more (Keras' IndexError).</exception>
    public static Array ToCategorical(Array x, int? numClasses = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        var ids = ReadIds(x);
        var shape = new List<int>(Enumerable.Range(0, x.Rank).Select(x.GetLength));
        if (shape.Count > 1 && shape[^1] == 1)
        {
            shape.RemoveAt(shape.Count - 1);
        }

        var classes = Classes(ids, numClasses);
        shape.Add(classes);
        var flat = new float[checked(ids.Length * classes)];
        for (var i = 0; i < ids.Length; i++)
        {
            flat[(i * classes) + (int)ids[i]] = 1f;
        }

        var result = Array.CreateInstance(typeof(float), shape.ToArray());
        Buffer.BlockCopy(flat, 0, result, 0, flat.Length * sizeof(float));
        return result;
    }

    /// <summary><see cref="ToCategorical(Array, int?)"/> of a vector of ids: shape (n, numClasses).</summary>
    /// <param name="x">The class ids.</param>
    /// <param name="numClasses">The number of classes; null or 0 infers the largest id + 1.</param>
    /// <returns>The one-hot rows, (n, numClasses).</returns>
    public static float[,] ToCategorical(int[] x, int? numClasses = null) => (float[,])ToCategorical((Array)x, numClasses);

    /// <summary><see cref="ToCategorical(Array, int?)"/> of one id (a NumPy scalar in Keras): shape (numClasses,).</summary>
    /// <param name="x">The class id.</param>
    /// <param name="numClasses">The number of classes; null or 0 infers x + 1.</param>
    /// <returns>The one-hot vector.</returns>
    public static float[] ToCategorical(int x, int? numClasses = null)
    {
        var row = (float[,])ToCategorical((Array)new[] { x }, numClasses);
        var result = new float[row.GetLength(1)];
        Buffer.BlockCopy(row, 0, result, 0, result.Length * sizeof(float));
        return result;
    }

    private static int Classes(long[] ids, int? numClasses)
    {
        if (numClasses is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, "ToCategorical: numClasses must be 0 or more (null or 0 infers it from the ids).");
        }

        if (numClasses is null or 0)
        {
            if (ids.Length == 0)
            {
                throw new ArgumentException("ToCategorical: cannot infer numClasses from an empty array (Keras: zero-size array to reduction operation maximum); pass numClasses.", nameof(numClasses));
            }

            var max = ids.Max();
            if (max >= int.MaxValue)
            {
                throw new ArgumentOutOfRangeException(nameof(numClasses), max, "ToCategorical: the largest id is too large for a class axis.");
            }

            return (int)max + 1;
        }

        for (var i = 0; i < ids.Length; i++)
        {
            if (ids[i] >= numClasses)
            {
                throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, $"ToCategorical: id {ids[i]} at flat position {i} is out of range for numClasses {numClasses}; ids must be 0 to {numClasses - 1}.");
            }
        }

        return numClasses.Value;
    }

    private static readonly Type[] IdTypes = [typeof(int), typeof(long), typeof(short), typeof(byte), typeof(sbyte), typeof(ushort), typeof(uint), typeof(float), typeof(double)];

    private static long[] ReadIds(Array x)
    {
        var type = x.GetType().GetElementType()!;
        if (!IdTypes.Contains(type))
        {
            throw new ArgumentException($"ToCategorical: ids must be integers (or whole float/double values); got an array of {type.Name}.", nameof(x));
        }

        var ids = new long[x.Length];
        var i = 0;
        foreach (var value in x)
        {
            long id;
            switch (value)
            {
                case int v: id = v; break;
                case long v: id = v; break;
                case short v: id = v; break;
                case byte v: id = v; break;
                case sbyte v: id = v; break;
                case ushort v: id = v; break;
                case uint v: id = v; break;
                case float v when v == Math.Floor(v) && float.IsFinite(v): id = (long)v; break;
                case double v when v == Math.Floor(v) && double.IsFinite(v): id = (long)v; break;
                default:
                    throw new ArgumentException($"ToCategorical: id {Convert.ToString(value, CultureInfo.InvariantCulture)} at flat position {i} is not a whole number (NumPy's int64 cast would truncate it; refused here).", nameof(x));
            }

            if (id < 0)
            {
                throw new ArgumentException($"ToCategorical: id {id} at flat position {i} is negative; ids must be 0 to numClasses - 1 (Keras' NumPy indexing would count it from the last class; refused here).", nameof(x));
            }

            ids[i++] = id;
        }

        return ids;
    }
}
