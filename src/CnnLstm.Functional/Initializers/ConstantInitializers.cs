using System.Text.Json.Nodes;
using KerasStyle.Engine;
using static TorchSharp.torch;

namespace KerasStyle.Initializers;

/// <summary>
/// Keras' <c>keras.initializers.Constant</c> (keras/src/initializers/constant_initializers.py): <see cref="Value"/>
/// everywhere, or an array value broadcast to the shape as NumPy broadcasts (Keras'
/// <c>cast(value, dtype) * ones(shape)</c>), cast to the dtype (float32 in layers). Names: <c>Constant</c>,
/// <c>constant</c> (the config must give the value).
/// </summary>
public sealed class Constant : Initializer
{
    private readonly float[]? array;
    private readonly long[]? arrayShape;
    private readonly JsonNode? arrayJson;
    private readonly string? arrayDType = "float64";

    /// <summary>Creates the initializer.</summary>
    /// <param name="value">The value (Keras default 0.0).</param>
    public Constant(double value = 0.0) => Value = value;

    /// <summary>Creates the initializer with an array value (Keras' NumPy array value), of any rank.</summary>
    /// <param name="value">A float or double array; its shape must broadcast to the shapes the initializer fills.</param>
    /// <exception cref="ArgumentNullException"><paramref name="value"/> is null.</exception>
    /// <exception cref="ArgumentException">An array of another element type.</exception>
    public Constant(Array value)
    {
        ArgumentNullException.ThrowIfNull(value);
        arrayDType = value switch
        {
            _ when value.GetType().GetElementType() == typeof(double) => "float64",
            _ when value.GetType().GetElementType() == typeof(float) => "float32",
            _ => throw new ArgumentException($"Constant: an array value must hold float or double values, got {value.GetType().Name}.", nameof(value)),
        };
        arrayShape = Enumerable.Range(0, value.Rank).Select(d => (long)value.GetLength(d)).ToArray();
        array = value.Cast<object>().Select(v => Convert.ToSingle(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        arrayJson = Nest(value.Cast<object>().Select(v => Convert.ToDouble(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray(), arrayShape);
    }

    /// <summary>
    /// Reads Keras' serialized NumPy value (<c>{"class_name": "__numpy__", "config": {"value": [...], "dtype": ...}}</c>),
    /// or with a null <paramref name="dtype"/> a plain list (which Keras keeps and writes back as a list).
    /// </summary>
    internal Constant(JsonNode nested, string? dtype)
    {
        var shape = new List<long>();
        for (var level = nested; level is JsonArray list; level = list.Count > 0 ? list[0] : null)
        {
            shape.Add(list.Count);
        }

        arrayShape = shape.ToArray();
        var flat = new List<float>();
        void Walk(JsonNode? node, int depth)
        {
            if (depth == arrayShape.Length)
            {
                flat.Add(node is JsonValue v && v.TryGetValue<double>(out var d) ? (float)d : throw new FormatException($"Initializer 'Constant': the array value must hold numbers, got {node?.ToJsonString() ?? "null"}."));
                return;
            }

            if (node is not JsonArray list || list.Count != arrayShape[depth])
            {
                throw new FormatException($"Initializer 'Constant': the array value is not rectangular: {nested.ToJsonString()}.");
            }

            foreach (var item in list)
            {
                Walk(item, depth + 1);
            }
        }

        Walk(nested, 0);
        array = flat.ToArray();
        arrayJson = nested.DeepClone();
        arrayDType = dtype;
    }

    /// <summary>The scalar value, as given (the config writes it so); 0 for an array value.</summary>
    public double Value { get; }

    /// <summary>The array value's shape, or null for a scalar value.</summary>
    public IReadOnlyList<long>? ArrayShape => arrayShape;

    /// <inheritdoc/>
    public override string ClassName => "Constant";

    /// <summary>The arguments as Keras 3.16 writes them: <c>{"value": 0.3}</c>, or an array value as Keras serializes a NumPy array.</summary>
    /// <returns>The config.</returns>
    public override JsonObject GetConfig() => arrayJson is null
        ? new() { ["value"] = Number(Value) }
        : arrayDType is null ? new() { ["value"] = arrayJson.DeepClone() }
        : new() { ["value"] = new JsonObject { ["class_name"] = "__numpy__", ["config"] = new JsonObject { ["value"] = arrayJson.DeepClone(), ["dtype"] = arrayDType } } };

    internal override string? WhyNot(long[] shape)
    {
        if (arrayShape is null)
        {
            return null;
        }

        // NumPy broadcasting from the trailing axes; the result must have exactly the requested shape.
        var fits = arrayShape.Length <= shape.Length
            && arrayShape.Reverse().Zip(shape.Reverse()).All(p => p.First == p.Second || p.First == 1);
        return fits ? null : $"the array value of shape {PyTuple(arrayShape)} does not broadcast to shape={PyTuple(shape)}.";
    }

    private protected override Tensor Compute(long[] shape, Generator generator)
    {
        if (array is null)
        {
            return Scalars.With((float)Value, value => full(shape, value, ScalarType.Float32));
        }

        using var values = tensor(array, arrayShape!, ScalarType.Float32);
        return values.expand(shape).contiguous();
    }

    private static JsonNode Nest(double[] values, long[] shape)
    {
        if (shape.Length == 0)
        {
            return JsonValue.Create(values[0]);
        }

        var stride = shape.Skip(1).Aggregate(1L, (a, d) => a * d);
        return new JsonArray(Enumerable.Range(0, (int)shape[0]).Select(i => (JsonNode?)Nest(values[(int)(i * stride)..(int)((i + 1) * stride)], shape[1..])).ToArray());
    }
}

/// <summary>Keras' <c>keras.initializers.Zeros</c>: every value 0. Names: <c>Zeros</c>, <c>zeros</c>, <c>zero</c>.</summary>
public sealed class Zeros : Initializer
{
    /// <inheritdoc/>
    public override string ClassName => "Zeros";

    /// <inheritdoc/>
    public override JsonObject GetConfig() => new();

    private protected override Tensor Compute(long[] shape, Generator generator) => zeros(shape, ScalarType.Float32);
}

/// <summary>Keras' <c>keras.initializers.Ones</c>: every value 1. Names: <c>Ones</c>, <c>ones</c>, <c>one</c>.</summary>
public sealed class Ones : Initializer
{
    /// <inheritdoc/>
    public override string ClassName => "Ones";

    /// <inheritdoc/>
    public override JsonObject GetConfig() => new();

    private protected override Tensor Compute(long[] shape, Generator generator) => ones(shape, ScalarType.Float32);
}

/// <summary>
/// Keras' <c>keras.initializers.Identity</c>: <c>gain * eye(rows, cols)</c>, only for 2-D shapes (a rectangular shape
/// gets ones on its main diagonal). Names: <c>Identity</c>, <c>identity</c>, <c>IdentityInitializer</c>.
/// </summary>
public sealed class Identity : Initializer
{
    /// <summary>Creates the initializer.</summary>
    /// <param name="gain">The diagonal's value (Keras default 1.0).</param>
    public Identity(double gain = 1.0) => Gain = gain;

    /// <summary>The factor applied to the identity matrix.</summary>
    public double Gain { get; }

    /// <inheritdoc/>
    public override string ClassName => "Identity";

    /// <summary>The arguments as Keras 3.16 writes them: none, as Keras' Identity defines no get_config (so its gain is not written; a config's gain is read).</summary>
    /// <returns>An empty object.</returns>
    public override JsonObject GetConfig() => new();

    internal override string? WhyNot(long[] shape) => shape.Length == 2 ? null
        : $"Identity matrix initializer can only be used for 2D matrices. Received: shape={PyTuple(shape)} of rank {shape.Length}.";

    private protected override Tensor Compute(long[] shape, Generator generator)
    {
        var (rows, cols) = (shape[0], shape[1]);
        var values = new float[checked(rows * cols)];
        for (long i = 0; i < Math.Min(rows, cols); i++)
        {
            values[(i * cols) + i] = (float)Gain;
        }

        return tensor(values, shape, ScalarType.Float32);
    }
}
