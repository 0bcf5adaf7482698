using static TorchSharp.torch;

namespace KerasStyle.Training.Metrics;

/// <summary>
/// A metric's state variable (Keras' metric variables, <c>add_variable</c> with <c>aggregation="sum"</c>), made by
/// <see cref="Metric"/>'s <c>AddVariable</c>: zeros of a fixed shape, kept in double on the CPU, so it holds no
/// native memory between calls.
/// </summary>
public sealed class MetricVariable
{
    /// <exception cref="ArgumentException">An empty name or a negative size.</exception>
    internal MetricVariable(string name, long[] shape)
    {
        Name = !string.IsNullOrWhiteSpace(name) ? name : throw new ArgumentException("AddVariable: the name must not be empty.", nameof(name));
        Shape = shape.All(d => d >= 0) ? shape.ToArray()
            : throw new ArgumentException($"AddVariable: variable '{name}' has shape ({string.Join(", ", shape)}); sizes must not be negative.", nameof(shape));
        Values = new double[Shape.Aggregate(1L, (a, d) => a * d)];
    }

    /// <summary>The variable's name.</summary>
    public string Name { get; }

    /// <summary>Its shape; empty for a scalar.</summary>
    public IReadOnlyList<long> Shape { get; }

    /// <summary>A new float64 tensor with its value (in the caller's dispose scope); changing it does not change the variable.</summary>
    public Tensor Value => tensor(Values, Shape.ToArray(), ScalarType.Float64);

    /// <summary>Its value as a number (a scalar variable).</summary>
    /// <exception cref="InvalidOperationException">The variable is not a scalar.</exception>
    public double Scalar => Values.Length == 1 && Shape.Count == 0 ? Values[0]
        : throw new InvalidOperationException($"metric variable '{Name}' has shape ({string.Join(", ", Shape)}); read Value instead.");

    /// <summary>The values, in row-major order.</summary>
    internal double[] Values { get; }

    /// <summary>Sets it to <paramref name="value"/> (Keras' <c>assign</c>), broadcast to its shape.</summary>
    /// <exception cref="ArgumentException">A value that does not broadcast to the shape.</exception>
    public void Assign(Tensor value) => Read(value).CopyTo(Values, 0);

    /// <summary>Adds <paramref name="value"/> (Keras' <c>assign_add</c>), broadcast to its shape.</summary>
    /// <exception cref="ArgumentException">A value that does not broadcast to the shape.</exception>
    public void AssignAdd(Tensor value)
    {
        var added = Read(value);
        for (var i = 0; i < Values.Length; i++)
        {
            Values[i] += added[i];
        }
    }

    /// <summary>Adds <paramref name="value"/> to every element.</summary>
    public void AssignAdd(double value)
    {
        for (var i = 0; i < Values.Length; i++)
        {
            Values[i] += value;
        }
    }

    internal void Zero() => Array.Clear(Values);

    private double[] Read(Tensor value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var shape = Shape.ToArray();
        EagerArguments.RequireBroadcast(value.shape, shape, $"metric variable '{Name}': the value", nameof(value));
        using var scope = NewDisposeScope();
        return value.detach().to_type(ScalarType.Float64).cpu().expand(shape).contiguous().data<double>().ToArray();
    }
}
