using System.Globalization;

namespace KerasStyle.Datasets;

/// <summary>
/// A split size of <see cref="DatasetUtils.SplitDataset(Array[], SplitSize?, SplitSize?, bool, int?)"/>, as Keras tells
/// them apart by Python type: an <c>int</c> is a number of samples, a <c>double</c> a fraction of them (so <c>1</c> is
/// one sample and <c>1.0</c> all of them, which Keras refuses). Converts implicitly from both.
/// </summary>
public readonly struct SplitSize : IEquatable<SplitSize>
{
    private SplitSize(double value, bool isFraction)
    {
        Value = value;
        IsFraction = isFraction;
    }

    /// <summary>The count or the fraction.</summary>
    public double Value { get; }

    /// <summary>Whether <see cref="Value"/> is a fraction (Keras' float) rather than a count (Keras' int).</summary>
    public bool IsFraction { get; }

    /// <summary>A number of samples.</summary>
    /// <param name="count">The count.</param>
    public static implicit operator SplitSize(int count) => new(count, false);

    /// <summary>A fraction of the samples.</summary>
    /// <param name="fraction">The fraction.</param>
    public static implicit operator SplitSize(double fraction) => new(fraction, true);

    /// <summary>Whether two sizes are the same kind and value.</summary>
    public static bool operator ==(SplitSize left, SplitSize right) => left.Equals(right);

    /// <summary>Whether two sizes differ in kind or value.</summary>
    public static bool operator !=(SplitSize left, SplitSize right) => !left.Equals(right);

    /// <summary>A number of samples.</summary>
    /// <param name="count">The count.</param>
    public static SplitSize FromCount(int count) => count;

    /// <summary>A fraction of the samples.</summary>
    /// <param name="fraction">The fraction.</param>
    public static SplitSize FromFraction(double fraction) => fraction;

    /// <inheritdoc/>
    public bool Equals(SplitSize other) => Value.Equals(other.Value) && IsFraction == other.IsFraction;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is SplitSize other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Value, IsFraction);

    /// <summary>As Python prints it: <c>3</c> for a count, <c>0.5</c> or <c>1.0</c> for a fraction.</summary>
    public override string ToString() => IsFraction ? PythonFloat(Value) : ((long)Value).ToString(CultureInfo.InvariantCulture);

    internal static string PythonFloat(double value)
    {
        var text = value.ToString("R", CultureInfo.InvariantCulture);
        return double.IsFinite(value) && !text.Contains('.', StringComparison.Ordinal) && !text.Contains('E', StringComparison.Ordinal) ? text + ".0" : text;
    }
}
