using System.Text.Json;
using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;

namespace KerasStyle.Saving;

/// <summary>
/// The <c>config</c> object of one layer in a Keras model config, as a layer factory reads it (see
/// <see cref="LayerRegistry"/>). Every getter records the key it reads; a key the factory never reads is an unknown
/// argument, and loading fails with an error naming it. Tuples may be written as lists (<c>[5]</c>) or plain numbers,
/// as Keras 2 and Keras 3 differ there.
/// </summary>
public sealed class LayerConfig
{
    private readonly JsonObject values;
    private readonly HashSet<string> read = new(StringComparer.Ordinal);

    internal LayerConfig(string className, string name, JsonObject values, bool keras2 = false)
    {
        ClassName = className;
        Name = name;
        this.values = values;
        Keras2 = keras2;
        read.Add("name");
    }

    /// <summary>
    /// Whether the config was written by Keras 2 / tf.keras 2, whose definitions differ from Keras 3's in places
    /// (<c>hard_sigmoid</c>): the layer is built to compute what that version computed.
    /// </summary>
    public bool Keras2 { get; }

    /// <summary>The Keras class name, e.g. <c>Dense</c>.</summary>
    public string ClassName { get; }

    /// <summary>The layer name; pass it to the layer's constructor.</summary>
    public string Name { get; }

    /// <summary>The keys the factory did not read, in file order.</summary>
    internal IReadOnlyList<string> UnreadKeys => values.Select(kv => kv.Key).Where(k => !read.Contains(k)).ToArray();

    /// <summary>The keys the factory read (present or not), for error messages.</summary>
    internal IReadOnlyCollection<string> ReadKeys => read;

    /// <summary>Whether the config has <paramref name="key"/> with a non-null value.</summary>
    /// <param name="key">The Keras argument name.</param>
    public bool Has(string key)
    {
        read.Add(key);
        return values[key] is not null;
    }

    /// <summary>The raw JSON value of <paramref name="key"/>, or null when absent or null.</summary>
    /// <param name="key">The Keras argument name.</param>
    public JsonNode? GetRaw(string key)
    {
        read.Add(key);
        return values[key];
    }

    /// <summary>A required integer.</summary>
    /// <param name="key">The Keras argument name.</param>
    public int GetInt(string key) => GetNullableInt(key) ?? throw Error($"the argument '{key}' is required.");

    /// <summary>An integer, or <paramref name="defaultValue"/> when absent or null.</summary>
    /// <param name="key">The Keras argument name.</param>
    /// <param name="defaultValue">The Keras default.</param>
    public int GetInt(string key, int defaultValue) => GetNullableInt(key) ?? defaultValue;

    /// <summary>An integer that may be absent or null.</summary>
    /// <param name="key">The Keras argument name.</param>
    public int? GetNullableInt(string key)
    {
        var node = GetRaw(key);
        return node is null ? null : ToInt(node, key);
    }

    /// <summary>
    /// A size given as a number or a one-element tuple (Keras' <c>kernel_size</c>, <c>strides</c>...): <c>5</c>,
    /// <c>[5]</c>. Absent or null gives null.
    /// </summary>
    /// <param name="key">The Keras argument name.</param>
    public int? GetNullableSize(string key)
    {
        var node = GetRaw(key);
        if (node is JsonArray array)
        {
            if (array.Count != 1 || array[0] is null)
            {
                throw Error($"'{key}' must be one number for a 1-D layer, got {node.ToJsonString()}.");
            }

            return ToInt(array[0]!, key);
        }

        return node is null ? null : ToInt(node, key);
    }

    /// <summary>A required size given as a number or a one-element tuple.</summary>
    /// <param name="key">The Keras argument name.</param>
    public int GetSize(string key) => GetNullableSize(key) ?? throw Error($"the argument '{key}' is required.");

    /// <summary>A size given as a number or a one-element tuple, or <paramref name="defaultValue"/>.</summary>
    /// <param name="key">The Keras argument name.</param>
    /// <param name="defaultValue">The Keras default.</param>
    public int GetSize(string key, int defaultValue) => GetNullableSize(key) ?? defaultValue;

    /// <summary>A required list of integers (Keras' <c>target_shape</c>, <c>dims</c>).</summary>
    /// <param name="key">The Keras argument name.</param>
    public int[] GetIntList(string key) => GetRaw(key) switch
    {
        JsonArray list => list.Select(item => item is null ? throw Error($"'{key}' must be a list of integers, got {list.ToJsonString()}.") : ToInt(item, key)).ToArray(),
        null => throw Error($"the argument '{key}' is required."),
        var other => throw Error($"'{key}' must be a list of integers, got {other.ToJsonString()}."),
    };

    /// <summary>
    /// An integer applied to both sides, or a pair (Keras' <c>padding</c> of ZeroPadding1D, <c>cropping</c>):
    /// <c>2</c> or <c>[1, 3]</c>; absent or null gives <paramref name="defaultValue"/>.
    /// </summary>
    /// <param name="key">The Keras argument name.</param>
    /// <param name="defaultValue">The Keras default.</param>
    public (int Left, int Right) GetPair(string key, (int, int) defaultValue) => GetRaw(key) switch
    {
        null => defaultValue,
        JsonArray { Count: 2 } pair when pair[0] is not null && pair[1] is not null => (ToInt(pair[0]!, key), ToInt(pair[1]!, key)),
        JsonArray other => throw Error($"'{key}' must be a number or a pair of numbers, got {other.ToJsonString()}."),
        var single => (ToInt(single, key), ToInt(single, key)),
    };

    /// <summary>
    /// A (start, end) pair per spatial axis (Keras' <c>padding</c> of ZeroPadding2D/3D, <c>cropping</c> of
    /// Cropping2D/3D): an integer for every side, or a list of <paramref name="rank"/> entries, each an integer (both
    /// sides of that axis) or a pair: <c>2</c>, <c>[1, 3]</c>, <c>[[1, 0], [2, 3]]</c>, <c>[0, [1, 2]]</c>; absent or
    /// null gives <paramref name="defaultValue"/>.
    /// </summary>
    /// <param name="key">The Keras argument name.</param>
    /// <param name="rank">Spatial axes (2 or 3).</param>
    /// <param name="defaultValue">The Keras default.</param>
    public (int Start, int End)[] GetSidePairs(string key, int rank, (int, int)[] defaultValue) => GetRaw(key) switch
    {
        null => defaultValue,
        JsonArray list when list.Count == rank && list.All(e => e is not null) => list.Select(e => e switch
        {
            JsonArray { Count: 2 } pair when pair[0] is not null && pair[1] is not null => (ToInt(pair[0]!, key), ToInt(pair[1]!, key)),
            JsonArray other => throw Error($"'{key}' must have, per axis, a number or a pair of numbers, got {list.ToJsonString()}."),
            var single => (ToInt(single!, key), ToInt(single!, key)),
        }).ToArray(),
        JsonArray other => throw Error($"'{key}' must be a number or a list of {rank} numbers or pairs, got {other.ToJsonString()}."),
        var single => Enumerable.Repeat((ToInt(single, key), ToInt(single, key)), rank).ToArray(),
    };

    /// <summary>
    /// One integer per spatial axis (Keras' <c>size</c>, <c>pool_size</c>, <c>strides</c> of the 3-D layers): an
    /// integer for every axis or a list of <paramref name="rank"/> integers; absent or null gives
    /// <paramref name="defaultValue"/> on every axis.
    /// </summary>
    /// <param name="key">The Keras argument name.</param>
    /// <param name="rank">Spatial axes.</param>
    /// <param name="defaultValue">The Keras default.</param>
    public int[] GetTuple(string key, int rank, int defaultValue) => GetRaw(key) switch
    {
        null => Enumerable.Repeat(defaultValue, rank).ToArray(),
        JsonArray list when list.Count == rank && list.All(e => e is not null) => list.Select(e => ToInt(e!, key)).ToArray(),
        JsonArray other => throw Error($"'{key}' must be a number or a list of {rank} numbers, got {other.ToJsonString()}."),
        var single => Enumerable.Repeat(ToInt(single, key), rank).ToArray(),
    };

    /// <summary>A number, or <paramref name="defaultValue"/> when absent or null.</summary>
    /// <param name="key">The Keras argument name.</param>
    /// <param name="defaultValue">The Keras default.</param>
    public double GetDouble(string key, double defaultValue) => TryGetValue<double>(key, "a number", out var number) ? number : defaultValue;

    /// <summary>A boolean, or <paramref name="defaultValue"/> when absent or null.</summary>
    /// <param name="key">The Keras argument name.</param>
    /// <param name="defaultValue">The Keras default.</param>
    public bool GetBool(string key, bool defaultValue) => TryGetValue<bool>(key, "true or false", out var flag) ? flag : defaultValue;

    /// <summary>A string, or <paramref name="defaultValue"/> when absent or null.</summary>
    /// <param name="key">The Keras argument name.</param>
    /// <param name="defaultValue">The Keras default.</param>
    public string GetString(string key, string defaultValue) => GetNullableString(key) ?? defaultValue;

    /// <summary>A string that may be absent or null.</summary>
    /// <param name="key">The Keras argument name.</param>
    public string? GetNullableString(string key) => TryGetValue<string>(key, "a string", out var text) ? text : null;

    /// <summary>Reads a JSON scalar of type <typeparamref name="T"/>; false when absent or null, an error when of another type.</summary>
    private bool TryGetValue<T>(string key, string expected, out T value)
    {
        value = default!;
        var node = GetRaw(key);
        if (node is null)
        {
            return false;
        }

        return node is JsonValue scalar && scalar.TryGetValue(out value!)
            ? true
            : throw Error($"'{key}' must be {expected}, got {node.ToJsonString()}.");
    }

    /// <summary>
    /// An activation name (<c>"relu"</c>, or Keras 3's serialized function <c>{"class_name": "function", "config":
    /// "relu"}</c>), checked against the activations this library knows; absent or null gives
    /// <paramref name="defaultValue"/>. In a Keras 2 config, <c>hard_sigmoid</c> is Keras 2's
    /// (<see cref="Activations.Keras2HardSigmoid"/>). An activation given as a layer object (tf.keras 2's
    /// <c>{"class_name": "LeakyReLU", "config": {...}}</c>) is refused, as its arguments would be ignored.
    /// </summary>
    /// <param name="key">The Keras argument name.</param>
    /// <param name="defaultValue">The Keras default.</param>
    /// <exception cref="FormatException">An unknown activation, or a value that is not an activation.</exception>
    /// <exception cref="NotSupportedException">An activation given as a layer object.</exception>
    public string GetActivation(string key, string defaultValue)
    {
        var node = GetRaw(key);
        var name = node switch
        {
            null => defaultValue,
            JsonValue value when value.TryGetValue<string>(out var text) => text,
            JsonObject obj when (string?)(obj["class_name"] as JsonValue) == "function" && obj["config"] is JsonValue inner && inner.TryGetValue<string>(out var text) => text,
            JsonObject obj when obj["class_name"] is JsonValue => throw new NotSupportedException($"{Describe()}: '{key}' = {node.ToJsonString()} is an activation object with its own arguments, which this library does not read; give an activation name."),
            _ => throw Error($"'{key}' must be an activation name, got {node.ToJsonString()}."),
        };
        name = name switch
        {
            Activations.Keras2HardSigmoidRegistered => Activations.Keras2HardSigmoid,
            "hard_sigmoid" when Keras2 => Activations.Keras2HardSigmoid,
            _ => name,
        };
        if (Activations.WhyUnusable(name) is string why)
        {
            throw Error($"activation '{name}' for '{key}': {why}.");
        }

        if (!Activations.IsKnown(name))
        {
            throw Error($"unknown activation '{name}' for '{key}'; known activations are {string.Join(", ", Activations.Names)}.");
        }

        return name;
    }

    /// <summary>
    /// Reads a weight initializer argument (e.g. <c>kernel_initializer</c>) as Keras' <c>initializers.get</c>: a name
    /// (<c>"he_normal"</c>, <c>"HeNormal"</c>, an alias such as <c>"uniform"</c>) or a serialized initializer in Keras
    /// 3's or tf.keras 2's form, with its arguments and seed. Absent gives <paramref name="defaultValue"/>; null gives
    /// glorot_uniform, as Keras' <c>add_weight</c> initialises a float weight whose initializer is None.
    /// </summary>
    /// <param name="key">The Keras argument name.</param>
    /// <param name="defaultValue">The layer's Keras default.</param>
    /// <returns>The initializer.</returns>
    /// <exception cref="FormatException">An unknown or malformed initializer, or arguments Keras refuses, naming the layer and the key.</exception>
    /// <exception cref="NotSupportedException">An initializer this library does not compute (STFT, a SeedGenerator seed, a non-scalar Constant).</exception>
    public Initializers.Initializer GetInitializer(string key, Initializers.Initializer defaultValue)
    {
        ArgumentNullException.ThrowIfNull(defaultValue);
        var present = values.ContainsKey(key);
        var node = GetRaw(key);
        try
        {
            return Initializers.Initializer.Get(node) ?? (present ? new Initializers.GlorotUniform() : defaultValue);
        }
        catch (FormatException e)
        {
            throw new FormatException($"{Describe()}: '{key}': {e.Message}", e);
        }
        catch (NotSupportedException e)
        {
            throw new NotSupportedException($"{Describe()}: '{key}' = {node!.ToJsonString()}: {e.Message}", e);
        }
    }

    /// <summary>
    /// Reads a regularizer argument (e.g. <c>kernel_regularizer</c>) as Keras' <c>regularizers.get</c>: null, a name
    /// (<c>"l1"</c>, <c>"l2"</c>, <c>"l1l2"</c>, <c>"orthogonal_regularizer"</c>, or the class names) or a serialized
    /// L1, L2, L1L2 or OrthogonalRegularizer in Keras 3's or
    /// tf.keras 2's form.
    /// </summary>
    /// <param name="key">The Keras argument name.</param>
    /// <returns>The regularizer, or null when absent or null.</returns>
    /// <exception cref="FormatException">An unknown or malformed regularizer, naming the layer and the key.</exception>
    /// <exception cref="NotSupportedException">A regularizer this library does not compute.</exception>
    public Regularizers.Regularizer? GetRegularizer(string key)
    {
        var node = GetRaw(key);
        try
        {
            return Regularizers.Regularizer.Get(node);
        }
        catch (FormatException e)
        {
            throw new FormatException($"{Describe()}: '{key}': {e.Message}", e);
        }
        catch (NotSupportedException e)
        {
            throw new NotSupportedException($"{Describe()}: '{key}' = {node!.ToJsonString()}: {e.Message}", e);
        }
    }

    /// <summary>
    /// Reads a constraint argument (e.g. <c>kernel_constraint</c>) as Keras' <c>constraints.get</c>: null, a name
    /// (<c>"max_norm"</c>, <c>"non_neg"</c>, ... or the class names) or a serialized MaxNorm, MinMaxNorm, NonNeg or
    /// UnitNorm in Keras 3's or tf.keras 2's form.
    /// </summary>
    /// <param name="key">The Keras argument name.</param>
    /// <returns>The constraint, or null when absent or null.</returns>
    /// <exception cref="FormatException">An unknown or malformed constraint, naming the layer and the key.</exception>
    public Constraints.Constraint? GetConstraint(string key)
    {
        try
        {
            return Constraints.Constraint.Get(GetRaw(key));
        }
        catch (FormatException e)
        {
            throw new FormatException($"{Describe()}: '{key}': {e.Message}", e);
        }
    }

    /// <summary>
    /// Accepts <paramref name="key"/> only with its default (absent, or equal to <paramref name="defaultValue"/>);
    /// any other value is a feature this library does not implement, and loading fails naming it.
    /// </summary>
    /// <param name="key">The Keras argument name.</param>
    /// <param name="defaultValue">The only accepted value (null for arguments that must be null, such as regularizers).</param>
    public void RequireDefault(string key, JsonNode? defaultValue)
    {
        var node = GetRaw(key);
        if (node is null || JsonNode.DeepEquals(node, defaultValue) || IsSameNumber(node, defaultValue))
        {
            return;
        }

        throw new NotSupportedException($"{Describe()}: '{key}' = {node.ToJsonString()} is not supported by this library (only {defaultValue?.ToJsonString() ?? "null"}).");
    }

    /// <summary>Marks keys as known and without effect in this library (e.g. <c>unroll</c>).</summary>
    /// <param name="keys">The Keras argument names.</param>
    public void Ignore(params string[] keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        foreach (var key in keys)
        {
            read.Add(key);
        }
    }

    /// <summary>A <see cref="FormatException"/> whose message starts with the layer's class and name.</summary>
    /// <param name="message">What is wrong.</param>
    public FormatException Error(string message) => new($"{Describe()}: {message}");

    /// <summary>Reads the arguments every Keras layer accepts: name, trainable, dtype and the input-shape hints.</summary>
    internal bool ReadBaseArguments(bool ownsDtype)
    {
        var trainable = GetBool("trainable", true);
        if (!ownsDtype)
        {
            var dtype = DTypeName(GetRaw("dtype"));
            if (dtype is not null && dtype != "float32")
            {
                throw new NotSupportedException($"{Describe()}: dtype '{dtype}' is not supported; this library computes in float32.");
            }
        }

        // Input-shape hints of a first layer; the model builders read them from the raw config.
        Ignore("batch_input_shape", "input_shape", "batch_size", "input_dim", "autocast");
        RequireDefault("weights", null);
        return trainable;
    }

    /// <summary>The dtype name of a Keras dtype value: a string, or a DTypePolicy / Policy object.</summary>
    internal static string? DTypeName(JsonNode? node) => node switch
    {
        null => null,
        JsonValue value when value.TryGetValue<string>(out var text) => text,
        JsonObject obj when obj["config"]?["name"] is JsonValue name && name.TryGetValue<string>(out var text) => text,
        _ => node.ToJsonString(),
    };

    internal string Describe() => $"{ClassName} '{Name}'";

    // Through the JSON text: a value built in code (JsonValue.Create(1)) refuses GetValue<double>().
    private static bool IsSameNumber(JsonNode node, JsonNode? expected) =>
        node is JsonValue a && expected is JsonValue b && a.GetValueKind() == JsonValueKind.Number && b.GetValueKind() == JsonValueKind.Number
        && double.Parse(a.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture) == double.Parse(b.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture);

    private int ToInt(JsonNode node, string key)
    {
        if (node is JsonValue value && value.TryGetValue<double>(out var number) && number == Math.Floor(number)
            && number >= int.MinValue && number <= int.MaxValue)
        {
            return (int)number;
        }

        throw Error($"'{key}' must be an integer, got {node.ToJsonString()}.");
    }
}
