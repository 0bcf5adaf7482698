using System.Globalization;
using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Constraints;

/// <summary>
/// A projection of a weight applied after every optimizer update, as Keras' <c>keras.constraints.Constraint</c>
/// (keras/src/constraints/constraints.py): the optimizer assigns <c>constraint(variable)</c> to each trainable
/// variable it has just updated (keras/src/optimizers/base_optimizer.py, <c>apply</c>). The library's layers take one
/// per Keras argument (<c>kernel_constraint</c>, <c>bias_constraint</c>, <c>recurrent_constraint</c>,
/// <c>embeddings_constraint</c> on Dense, Conv1D/2D/3D and their transposes, SimpleRNN/GRU/LSTM and their cells,
/// Embedding). Built in: <see cref="MaxNorm"/>, <see cref="MinMaxNorm"/>, <see cref="NonNeg"/>, <see cref="UnitNorm"/>.
/// Axes count in Keras' weight layout (a Dense kernel is (input, units), a Conv1D kernel (kernel_size, input, filters)).
/// </summary>
public abstract class Constraint
{
    /// <summary>Keras' <c>backend.epsilon()</c>, added to the norms before dividing.</summary>
    private protected const double Epsilon = 1e-7;

    /// <summary>The Keras class name written in configs (<c>MaxNorm</c>, <c>MinMaxNorm</c>, <c>NonNeg</c>, <c>UnitNorm</c>).</summary>
    public abstract string ClassName { get; }

    /// <summary>The projected weight: a new float32 tensor of <paramref name="w"/>'s shape that the caller owns.</summary>
    /// <param name="w">The weight, any shape, in Keras layout.</param>
    /// <returns>The projection (Keras' <c>constraint(w)</c>).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="w"/> is null.</exception>
    /// <exception cref="ArgumentException">An axis outside the weight's rank.</exception>
    public Tensor Invoke(Tensor w)
    {
        ArgumentNullException.ThrowIfNull(w);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return Project(w.dtype == ScalarType.Float32 ? w.detach() : w.detach().to_type(ScalarType.Float32)).MoveToOuterDisposeScope();
    }

    /// <summary>The projection of a C# float array of any rank, computed as on a tensor; an array of the same shape.</summary>
    /// <param name="w">The values.</param>
    /// <returns>The projected values, a float array of <paramref name="w"/>'s shape.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="w"/> is null.</exception>
    /// <exception cref="ArgumentException">An axis outside the array's rank.</exception>
    public Array Invoke(Array w)
    {
        ArgumentNullException.ThrowIfNull(w);
        var shape = Enumerable.Range(0, w.Rank).Select(w.GetLength).ToArray();
        var values = w.Cast<object>().Select(v => Convert.ToSingle(v, CultureInfo.InvariantCulture)).ToArray();
        using var scope = NewDisposeScope();
        var projected = Invoke(tensor(values, shape.Select(d => (long)d).ToArray())).data<float>().ToArray();
        var result = Array.CreateInstance(typeof(float), shape);
        Buffer.BlockCopy(projected, 0, result, 0, projected.Length * sizeof(float));
        return result;
    }

    /// <summary>The projection of a float32 tensor (no gradient is recorded).</summary>
    private protected abstract Tensor Project(Tensor w);

    /// <summary>The arguments as Keras 3.16's <c>get_config</c> writes them.</summary>
    public abstract JsonObject GetConfig();

    /// <summary>
    /// The constraint as Keras 3.16 serializes it in a layer config:
    /// <c>{"module": "keras.constraints", "class_name": ..., "config": ..., "registered_name": null}</c>.
    /// </summary>
    public JsonObject Serialize() => KerasObjectConfig.Serialize("keras.constraints", ClassName, GetConfig());

    /// <summary>
    /// Keras' <c>keras.constraints.get</c>: null gives null; a name gives that class with its defaults (the class names
    /// and their snake_case forms <c>max_norm</c>, <c>min_max_norm</c>, <c>non_neg</c>, <c>unit_norm</c>; Keras 3.16
    /// refuses tf.keras 2's old aliases <c>maxnorm</c>, <c>nonneg</c>, <c>unitnorm</c>, and so does this library); an
    /// object is a serialized constraint, in Keras 3's form (with <c>module</c>) or tf.keras 2's
    /// (<c>{"class_name": "MaxNorm", "config": {"max_value": 2, "axis": 0}}</c>).
    /// </summary>
    /// <param name="identifier">The config value.</param>
    /// <returns>The constraint, or null.</returns>
    /// <exception cref="FormatException">An unknown name, unknown argument or malformed object.</exception>
    public static Constraint? Get(JsonNode? identifier) => KerasObjectConfig.Get(identifier, "Constraint", Create);

    private static Constraint Create(string name, JsonObject config)
    {
        double Number(string key, double fallback) => KerasObjectConfig.Number(config, "Constraint", name, key, fallback);

        AxisArgument Axis() => config["axis"] switch
        {
            null => new AxisArgument(new[] { 0 }, false),
            JsonValue v when v.TryGetValue<int>(out var a) => new AxisArgument(new[] { a }, false),
            JsonArray list when list.All(n => n is JsonValue e && e.TryGetValue<int>(out _)) && list.Count > 0 => new AxisArgument(list.Select(n => n!.GetValue<int>()).ToArray(), true),
            var other => throw new FormatException($"Constraint '{name}': 'axis' must be an integer or a non-empty list of integers, got {other.ToJsonString()}."),
        };

        void OnlyKeys(params string[] keys) => KerasObjectConfig.OnlyKeys(config, "Constraint", name, keys);

        switch (name)
        {
            case "MaxNorm" or "max_norm":
                OnlyKeys("max_value", "axis");
                return new MaxNorm(Number("max_value", 2), Axis());
            case "MinMaxNorm" or "min_max_norm":
                OnlyKeys("min_value", "max_value", "rate", "axis");
                return new MinMaxNorm(Number("min_value", 0), Number("max_value", 1), Number("rate", 1), Axis());
            case "NonNeg" or "non_neg":
                OnlyKeys();
                return new NonNeg();
            case "UnitNorm" or "unit_norm":
                OnlyKeys("axis");
                return new UnitNorm(Axis());
            default:
                throw new FormatException($"Could not interpret constraint identifier: '{name}'; this library knows, as Keras 3.16, MaxNorm ('max_norm'), MinMaxNorm ('min_max_norm'), NonNeg ('non_neg') and UnitNorm ('unit_norm').");
        }
    }

    /// <summary>The norm of <paramref name="w"/> over the axes, keeping them: Keras' <c>sqrt(sum(square(w), axis, keepdims=True))</c>.</summary>
    private protected static Tensor Norms(Tensor w, AxisArgument axis) =>
        Scalars.Square(w).sum(axis.Resolve(w), keepdim: true).sqrt();

    /// <summary><paramref name="w"/> * desired / (epsilon + norms), as Keras' MaxNorm and MinMaxNorm.</summary>
    private protected static Tensor Rescale(Tensor w, Tensor desired, Tensor norms) =>
        w.mul(desired.div(norms.add(Scalars.Of(Epsilon), Scalars.One)));

    /// <inheritdoc/>
    public override string ToString() => $"{ClassName}({string.Join(", ", GetConfig().Select(p => $"{p.Key}={p.Value?.ToJsonString()}"))})";
}

/// <summary>Keras' <c>axis</c> argument of the norm constraints: one axis (an integer in configs) or several (a list).</summary>
/// <param name="Axes">The axes, negative counting from the end.</param>
/// <param name="IsList">Whether the config writes a list.</param>
internal readonly record struct AxisArgument(int[] Axes, bool IsList)
{
    /// <summary>The config value: the integer, or the list.</summary>
    public JsonNode ToJson() => IsList ? new JsonArray(Axes.Select(a => (JsonNode)JsonValue.Create(a)).ToArray()) : JsonValue.Create(Axes[0]);

    /// <summary>The axes as non-negative dimensions of <paramref name="w"/>.</summary>
    /// <exception cref="ArgumentException">An axis outside the rank, or one given twice.</exception>
    public long[] Resolve(Tensor w)
    {
        var rank = w.dim();
        var resolved = Axes.Select(a => a < 0 ? a + rank : a).ToArray();
        if (resolved.Any(a => a < 0 || a >= rank) || resolved.Distinct().Count() != resolved.Length)
        {
            throw new ArgumentException($"Constraint axis {ToJson().ToJsonString()} is not valid for a weight of shape ({string.Join(", ", w.shape)}) (rank {rank}).", "axis");
        }

        return resolved;
    }

    /// <summary>Checks the axes given to a constructor.</summary>
    public static AxisArgument Of(int[] axes) =>
        axes is { Length: > 0 } ? new AxisArgument((int[])axes.Clone(), true) : throw new ArgumentException("axis must name at least one axis.", nameof(axes));
}

/// <summary>
/// Keras' <c>MaxNorm(max_value=2, axis=0)</c>: scales each slice along <c>axis</c> whose L2 norm exceeds
/// <c>max_value</c> down to it, <c>w * clip(norms, 0, max_value) / (epsilon + norms)</c> (epsilon 1e-7).
/// </summary>
public sealed class MaxNorm : Constraint
{
    private readonly AxisArgument axis;

    /// <summary>Creates the constraint over one axis.</summary>
    /// <param name="maxValue">The largest norm (Keras default 2).</param>
    /// <param name="axis">The axis the norm runs over (Keras default 0: each column of a Dense kernel); negative counts from the end.</param>
    public MaxNorm(double maxValue = 2, int axis = 0)
        : this(maxValue, new AxisArgument(new[] { axis }, false))
    {
    }

    /// <summary>Creates the constraint over several axes (Keras' <c>axis=[0, 1, 2]</c> for each filter of a Conv2D kernel).</summary>
    /// <param name="maxValue">The largest norm.</param>
    /// <param name="axis">The axes, at least one.</param>
    /// <exception cref="ArgumentException">No axis.</exception>
    public MaxNorm(double maxValue, int[] axis)
        : this(maxValue, AxisArgument.Of(axis))
    {
    }

    internal MaxNorm(double maxValue, AxisArgument axis)
    {
        MaxValue = maxValue;
        this.axis = axis;
    }

    /// <summary>The largest norm.</summary>
    public double MaxValue { get; }

    /// <summary>The axes the norm runs over.</summary>
    public IReadOnlyList<int> Axis => axis.Axes;

    /// <inheritdoc/>
    public override string ClassName => "MaxNorm";

    /// <inheritdoc/>
    private protected override Tensor Project(Tensor w)
    {
        var norms = Norms(w, axis);
        return Rescale(w, norms.clamp(Scalars.Zero, Scalars.Of(MaxValue)), norms);
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig() => new() { ["max_value"] = MaxValue, ["axis"] = axis.ToJson() };
}

/// <summary>
/// Keras' <c>MinMaxNorm(min_value=0.0, max_value=1.0, rate=1.0, axis=0)</c>: rescales each slice's L2 norm to
/// <c>rate * clip(norm, min_value, max_value) + (1 - rate) * norm</c>.
/// </summary>
public sealed class MinMaxNorm : Constraint
{
    private readonly AxisArgument axis;

    /// <summary>Creates the constraint over one axis.</summary>
    /// <param name="minValue">The smallest norm (Keras default 0).</param>
    /// <param name="maxValue">The largest norm (Keras default 1).</param>
    /// <param name="rate">How far to move the norm into the interval (Keras default 1: all the way).</param>
    /// <param name="axis">The axis the norm runs over (Keras default 0).</param>
    public MinMaxNorm(double minValue = 0, double maxValue = 1, double rate = 1, int axis = 0)
        : this(minValue, maxValue, rate, new AxisArgument(new[] { axis }, false))
    {
    }

    /// <summary>Creates the constraint over several axes.</summary>
    /// <param name="minValue">The smallest norm.</param>
    /// <param name="maxValue">The largest norm.</param>
    /// <param name="rate">How far to move the norm into the interval.</param>
    /// <param name="axis">The axes, at least one.</param>
    /// <exception cref="ArgumentException">No axis.</exception>
    public MinMaxNorm(double minValue, double maxValue, double rate, int[] axis)
        : this(minValue, maxValue, rate, AxisArgument.Of(axis))
    {
    }

    internal MinMaxNorm(double minValue, double maxValue, double rate, AxisArgument axis)
    {
        MinValue = minValue;
        MaxValue = maxValue;
        Rate = rate;
        this.axis = axis;
    }

    /// <summary>The smallest norm.</summary>
    public double MinValue { get; }

    /// <summary>The largest norm.</summary>
    public double MaxValue { get; }

    /// <summary>The rate of enforcement.</summary>
    public double Rate { get; }

    /// <summary>The axes the norm runs over.</summary>
    public IReadOnlyList<int> Axis => axis.Axes;

    /// <inheritdoc/>
    public override string ClassName => "MinMaxNorm";

    /// <inheritdoc/>
    private protected override Tensor Project(Tensor w)
    {
        var norms = Norms(w, axis);
        var desired = norms.clamp(Scalars.Of(MinValue), Scalars.Of(MaxValue)).mul(Scalars.Of(Rate)).add(norms, Scalars.Of(1 - Rate));
        return Rescale(w, desired, norms);
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig() => new() { ["min_value"] = MinValue, ["max_value"] = MaxValue, ["rate"] = Rate, ["axis"] = axis.ToJson() };
}

/// <summary>Keras' <c>NonNeg()</c>: <c>maximum(w, 0)</c>.</summary>
public sealed class NonNeg : Constraint
{
    /// <inheritdoc/>
    public override string ClassName => "NonNeg";

    /// <inheritdoc/>
    private protected override Tensor Project(Tensor w) => w.clamp_min(Scalars.Zero);

    /// <inheritdoc/>
    public override JsonObject GetConfig() => new();
}

/// <summary>Keras' <c>UnitNorm(axis=0)</c>: <c>w / (epsilon + norms)</c>, each slice along <c>axis</c> to unit L2 norm.</summary>
public sealed class UnitNorm : Constraint
{
    private readonly AxisArgument axis;

    /// <summary>Creates the constraint over one axis.</summary>
    /// <param name="axis">The axis the norm runs over (Keras default 0).</param>
    public UnitNorm(int axis = 0)
        : this(new AxisArgument(new[] { axis }, false))
    {
    }

    /// <summary>Creates the constraint over several axes.</summary>
    /// <param name="axis">The axes, at least one.</param>
    /// <exception cref="ArgumentException">No axis.</exception>
    public UnitNorm(int[] axis)
        : this(AxisArgument.Of(axis))
    {
    }

    internal UnitNorm(AxisArgument axis) => this.axis = axis;

    /// <summary>The axes the norm runs over.</summary>
    public IReadOnlyList<int> Axis => axis.Axes;

    /// <inheritdoc/>
    public override string ClassName => "UnitNorm";

    /// <inheritdoc/>
    private protected override Tensor Project(Tensor w) => w.div(Norms(w, axis).add(Scalars.Of(Epsilon), Scalars.One));

    /// <inheritdoc/>
    public override JsonObject GetConfig() => new() { ["axis"] = axis.ToJson() };
}
