using System.Globalization;

namespace KerasStyle.Layers;

/// <summary>
/// A weight value in Keras layout, as <c>get_weights()</c> returns it: a row-major float array and its shape.
/// </summary>
public sealed class WeightArray
{
    /// <summary>Creates a weight value; <paramref name="data"/> must hold the product of <paramref name="shape"/> values.</summary>
    /// <param name="shape">The Keras shape, e.g. (in, 4 * units) for an LSTM kernel.</param>
    /// <param name="data">The values in row-major order.</param>
    public WeightArray(int[] shape, float[] data)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(data);
        var count = shape.Aggregate(1L, (a, d) => a * d);
        if (shape.Any(d => d < 0) || count != data.Length)
        {
            throw new ArgumentException($"WeightArray: shape {ShapeText(shape)} holds {count} values, but {data.Length} were given.", nameof(data));
        }

        Shape = (int[])shape.Clone();
        Data = data;
    }

    /// <summary>The Keras shape.</summary>
    public IReadOnlyList<int> Shape { get; }

    /// <summary>The values, row-major.</summary>
    public float[] Data { get; }

    /// <summary>Whether the value is of an integer Keras variable (written to files as int32).</summary>
    internal bool Integer { get; init; }

    /// <summary>Wraps a float array of any rank (e.g. float[,] for a Dense kernel), copying its values.</summary>
    /// <param name="values">The values; the array's sizes become the shape.</param>
    public static WeightArray FromArray(Array values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.GetType().GetElementType() != typeof(float))
        {
            throw new ArgumentException($"WeightArray: expected a float array, got {values.GetType().Name}.", nameof(values));
        }

        var data = new float[values.Length];
        Buffer.BlockCopy(values, 0, data, 0, data.Length * sizeof(float));
        return new WeightArray(Enumerable.Range(0, values.Rank).Select(values.GetLength).ToArray(), data);
    }

    /// <summary>The values as a float array of the weight's rank (float[,] for a kernel, float[] for a bias).</summary>
    public Array ToArray()
    {
        var result = Array.CreateInstance(typeof(float), Shape.ToArray());
        Buffer.BlockCopy(Data, 0, result, 0, Data.Length * sizeof(float));
        return result;
    }

    /// <summary>The shape as Keras prints it, e.g. <c>(3, 280)</c>.</summary>
    public string ShapeText() => ShapeText(Shape);

    /// <summary>Formats a shape as a Python tuple.</summary>
    internal static string ShapeText(IReadOnlyList<int> shape) =>
        shape.Count == 1 ? $"({shape[0]},)" : $"({string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture)))})";
}
