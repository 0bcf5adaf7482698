using System.Collections;

namespace KerasStyle.Graph;

/// <summary>
/// A static tensor shape in which some dimensions (always the batch dimension) may be unknown,
/// printed as Keras prints it: <c>(None, 100, 128)</c>.
/// </summary>
public sealed class Shape : IReadOnlyList<int?>, IEquatable<Shape>
{
    private readonly int?[] dims;

    /// <summary>Creates a shape from its dimensions; <c>null</c> stands for an unknown size.</summary>
    /// <param name="dims">The dimensions, batch first.</param>
    public Shape(params int?[] dims)
    {
        ArgumentNullException.ThrowIfNull(dims);
        this.dims = (int?[])dims.Clone();
    }

    /// <summary>A shape with an unknown batch dimension followed by <paramref name="dims"/>.</summary>
    /// <param name="dims">The per-sample dimensions.</param>
    public static Shape WithBatch(IEnumerable<int?> dims) => new(new int?[] { null }.Concat(dims).ToArray());

    /// <summary>The number of dimensions, batch included.</summary>
    public int Rank => dims.Length;

    /// <inheritdoc/>
    public int Count => dims.Length;

    /// <inheritdoc/>
    public int? this[int index] => dims[index];

    /// <summary>The last dimension, or null if unknown.</summary>
    public int? Last => dims[^1];

    /// <summary>The per-sample dimensions (everything after the batch dimension).</summary>
    public IReadOnlyList<int?> SampleDims => dims.Skip(1).ToArray();

    /// <summary>
    /// The number of values one sample holds, counting only the known dimensions after the batch one; a double, so
    /// that sizes from a config (up to <see cref="int.MaxValue"/> each) multiply without wrapping.
    /// </summary>
    public double SampleElements => dims.Skip(1).Aggregate(1.0, (a, d) => a * (d ?? 1));

    /// <summary>
    /// A dimension derived from others and from a layer's sizes (a product, sum or difference the caller computed in
    /// 64 bits), or null when it is unknown or no tensor dimension can be that size (negative or more than
    /// <see cref="int.MaxValue"/>); <paramref name="fits"/> says which.
    /// </summary>
    /// <param name="size">The computed size; null when unknown.</param>
    /// <param name="fits">False when <paramref name="size"/> is known but out of range.</param>
    public static int? Dimension(long? size, out bool fits)
    {
        fits = size is null or (>= 0 and <= int.MaxValue);
        return fits ? (int?)size : null;
    }

    /// <summary>Returns a copy with the dimension at <paramref name="index"/> replaced.</summary>
    /// <param name="index">The dimension to replace.</param>
    /// <param name="value">The new size.</param>
    public Shape With(int index, int? value)
    {
        var copy = (int?[])dims.Clone();
        copy[index] = value;
        return new Shape(copy);
    }

    /// <summary>The shape as Keras prints it, a Python tuple such as <c>(None, 70)</c> or <c>(None,)</c>.</summary>
    public override string ToString()
    {
        var parts = dims.Select(d => d?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "None").ToArray();
        return parts.Length == 1 ? $"({parts[0]},)" : $"({string.Join(", ", parts)})";
    }

    /// <inheritdoc/>
    public bool Equals(Shape? other) => other is not null && dims.SequenceEqual(other.dims);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as Shape);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var d in dims)
        {
            hash.Add(d);
        }

        return hash.ToHashCode();
    }

    /// <inheritdoc/>
    public IEnumerator<int?> GetEnumerator() => ((IEnumerable<int?>)dims).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => dims.GetEnumerator();
}
