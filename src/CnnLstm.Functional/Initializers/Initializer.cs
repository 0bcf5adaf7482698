using System.Globalization;
using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Initializers;

/// <summary>
/// A weight initializer, as Keras' <c>keras.initializers.Initializer</c> (keras/src/initializers/initializer.py):
/// called on a shape it gives the initial values. The library's layers take one per Keras argument
/// (<c>kernel_initializer</c>, <c>bias_initializer</c>, <c>recurrent_initializer</c>, <c>embeddings_initializer</c>,
/// <c>gamma_initializer</c>...), used when the layer builds. Built in: every class of Keras 3.16's
/// <c>keras.initializers</c> but STFT: <see cref="Constant"/>, <see cref="Zeros"/>, <see cref="Ones"/>,
/// <see cref="Identity"/>, <see cref="RandomNormal"/>, <see cref="RandomUniform"/>, <see cref="TruncatedNormal"/>,
/// <see cref="VarianceScaling"/> and its <see cref="GlorotNormal"/>, <see cref="GlorotUniform"/>,
/// <see cref="HeNormal"/>, <see cref="HeUniform"/>, <see cref="LecunNormal"/>, <see cref="LecunUniform"/>, and
/// <see cref="Orthogonal"/>.
/// </summary>
/// <remarks>
/// Random values are computed in managed double precision from the generator's exact uniform draws (see
/// <c>Engine/RandomValues.cs</c>), so a seeded initializer gives the same values on every CPU; they are not the
/// numbers Keras' backends draw for the same seed (each backend draws its own).
/// </remarks>
public abstract class Initializer
{
    private static readonly Dictionary<string, ScalarType> DTypes = new(StringComparer.Ordinal)
    {
        ["float16"] = ScalarType.Float16,
        ["bfloat16"] = ScalarType.BFloat16,
        ["float32"] = ScalarType.Float32,
        ["float64"] = ScalarType.Float64,
        ["int8"] = ScalarType.Int8,
        ["int16"] = ScalarType.Int16,
        ["int32"] = ScalarType.Int32,
        ["int64"] = ScalarType.Int64,
        ["uint8"] = ScalarType.Byte,
        ["bool"] = ScalarType.Bool,
    };

    /// <summary>The Keras class name written in configs (<c>GlorotUniform</c>, <c>Zeros</c>...).</summary>
    public abstract string ClassName { get; }

    /// <summary>Whether the values are random (Keras' <c>RandomInitializer</c>), which takes only floating dtypes.</summary>
    private protected virtual bool IsRandom => false;

    /// <summary>The arguments as Keras 3.16's <c>get_config</c> writes them.</summary>
    public abstract JsonObject GetConfig();

    /// <summary>
    /// The initializer as Keras 3.16 serializes it in a layer config:
    /// <c>{"module": "keras.initializers", "class_name": ..., "config": ..., "registered_name": null}</c>.
    /// </summary>
    public JsonObject Serialize() => KerasObjectConfig.Serialize("keras.initializers", ClassName, GetConfig());

    /// <summary>
    /// The initial values of a weight of <paramref name="shape"/>, as Keras' <c>initializer(shape, dtype)</c>. A seeded
    /// initializer gives the same values at every call; an unseeded one too (Keras draws it a seed once, here at its
    /// first call), and a new one (or one read from the same config) other values.
    /// </summary>
    /// <param name="shape">The shape (any rank the initializer takes; no negative dimension).</param>
    /// <param name="dtype">A Keras dtype name; null for <c>float32</c> (Keras' floatx). Random initializers take
    /// only <c>float16</c>, <c>bfloat16</c>, <c>float32</c>, <c>float64</c>; the constant ones also integer types and
    /// <c>bool</c>. Values are computed in float32 and cast.</param>
    /// <returns>A new tensor the caller owns.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="shape"/> is null.</exception>
    /// <exception cref="ArgumentException">A negative dimension, a shape this initializer cannot fill (Orthogonal:
    /// rank below 2; Identity: rank other than 2), or a dtype it does not take.</exception>
    public Tensor Invoke(long[] shape, string? dtype = null)
    {
        ArgumentNullException.ThrowIfNull(shape);
        var type = CheckDType(dtype);
        CheckShape(shape);
        using var scope = NewDisposeScope();
        using var generator = EagerGenerator();
        var values = Compute(shape, generator);
        return (type == ScalarType.Float32 ? values : values.to_type(type)).MoveToOuterDisposeScope();
    }

    /// <summary>The float32 initial values of a weight of <paramref name="shape"/>, row-major (see <see cref="Invoke(long[], string?)"/>).</summary>
    /// <param name="shape">The shape.</param>
    /// <returns>The values, flattened in row-major order.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="shape"/> is null.</exception>
    /// <exception cref="ArgumentException">A negative dimension or a shape this initializer cannot fill.</exception>
    public float[] Invoke(params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        using var values = Invoke(shape.Select(d => (long)d).ToArray());
        return values.data<float>().ToArray();
    }

    /// <summary>
    /// Keras' <c>keras.initializers.get</c>: null gives null; a name (<c>"glorot_uniform"</c>, <c>"GlorotUniform"</c>,
    /// or an alias: <c>"normal"</c>, <c>"uniform"</c>, <c>"zero"</c>, <c>"one"</c>, <c>"OrthogonalInitializer"</c>,
    /// <c>"IdentityInitializer"</c>) gives that class with its defaults; an object is a serialized initializer in Keras
    /// 3's form (with <c>module</c>) or tf.keras 2's (<c>{"class_name": "VarianceScaling", "config": {...}}</c>).
    /// </summary>
    /// <param name="identifier">The config value.</param>
    /// <returns>The initializer, or null.</returns>
    /// <exception cref="FormatException">An unknown name, an unknown or malformed argument, or an argument Keras refuses.</exception>
    /// <exception cref="NotSupportedException">STFT, the base class Initializer, or a SeedGenerator seed, which this library does not compute.</exception>
    public static Initializer? Get(JsonNode? identifier) => KerasObjectConfig.Get(identifier, "Initializer", Create);

    /// <summary>The initial values a layer gives its weight: a seeded initializer its own generator, an unseeded one the layer's.</summary>
    internal Tensor Make(long[] shape, Generator layerGenerator)
    {
        if (this is RandomInitializer { Seed: long seed })
        {
            using var generator = RandomInitializer.SeededGenerator(seed);
            return Compute(shape, generator);
        }

        return Compute(shape, layerGenerator);
    }

    /// <summary>Why this initializer cannot fill <paramref name="shape"/>, or null when it can.</summary>
    internal virtual string? WhyNot(long[] shape) => null;

    /// <summary>The float32 values for <paramref name="shape"/>, drawn from <paramref name="generator"/> where random.</summary>
    private protected abstract Tensor Compute(long[] shape, Generator generator);

    /// <summary>The generator of an eager call (a new one each call, so that a call gives the same values as the last).</summary>
    private protected virtual Generator EagerGenerator() => new(0);

    private void CheckShape(long[] shape)
    {
        if (shape.Any(d => d < 0))
        {
            throw new ArgumentException($"{ClassName}: shape ({string.Join(", ", shape)}) has a negative dimension.", nameof(shape));
        }

        if (WhyNot(shape) is { } why)
        {
            throw new ArgumentException($"{ClassName}: {why}", nameof(shape));
        }
    }

    private ScalarType CheckDType(string? dtype)
    {
        if (dtype is null)
        {
            return ScalarType.Float32;
        }

        if (!DTypes.TryGetValue(dtype, out var type))
        {
            throw new ArgumentException($"{ClassName}: invalid dtype '{dtype}'; Keras dtypes here are {string.Join(", ", DTypes.Keys)}.", nameof(dtype));
        }

        if (IsRandom && type is not (ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Float32 or ScalarType.Float64))
        {
            throw new ArgumentException($"{ClassName}: a random initializer requires a floating point dtype (as keras.random's functions). Received: dtype={dtype}", nameof(dtype));
        }

        return type;
    }

    private static Initializer Create(string name, JsonObject config)
    {
        void OnlyKeys(params string[] keys) => KerasObjectConfig.OnlyKeys(config, "Initializer", name, keys);

        double Arg(string key, double fallback) => KerasObjectConfig.Number(config, "Initializer", name, key, fallback);

        long? Seed()
        {
            var node = config["seed"];
            return node switch
            {
                null => null,
                JsonValue v when v.TryGetValue<long>(out var l) => l,
                JsonValue v when v.TryGetValue<double>(out var d) && d == Math.Floor(d) && Math.Abs(d) < 9.2e18 => (long)d,
                JsonObject => throw new NotSupportedException($"Initializer '{name}': a SeedGenerator seed ({node.ToJsonString()}) is not supported by this library; give an integer seed or null."),
                _ => throw new FormatException($"Initializer '{name}': `seed` argument should be an instance of `keras.random.SeedGenerator()` or an integer. Received: seed={node.ToJsonString()}"),
            };
        }

        string Text(string key, string fallback) => config[key] switch
        {
            null => fallback,
            JsonValue v when v.TryGetValue<string>(out var s) => s,
            var other => throw new FormatException($"Initializer '{name}': '{key}' must be a string, got {other.ToJsonString()}."),
        };

        int[]? Axes(string key)
        {
            static int? Int(JsonNode? node) => node is JsonValue v
                ? v.TryGetValue<int>(out var i) ? i : v.TryGetValue<double>(out var d) && d == Math.Floor(d) && Math.Abs(d) <= int.MaxValue ? (int)d : null
                : null;
            return config[key] switch
            {
                null => null,
                JsonValue v when Int(v) is int one => new[] { one },
                JsonArray list when list.All(e => Int(e) is not null) => list.Select(e => Int(e)!.Value).ToArray(),
                var other => throw new FormatException($"Initializer '{name}': '{key}' must be a list of integers or null, got {other.ToJsonString()}."),
            };
        }

        T Scaling<T>(Func<long?, int[]?, int[]?, T> make)
        {
            OnlyKeys("seed", "input_axes", "output_axes");
            return make(Seed(), Axes("input_axes"), Axes("output_axes"));
        }

        try
        {
            switch (name)
            {
                case "Constant" or "constant":
                    OnlyKeys("value");
                    if (!config.ContainsKey("value"))
                    {
                        // Keras' Constant.from_config reads config["value"]: get("constant") raises KeyError there.
                        throw new FormatException($"Initializer '{name}': the config must give 'value' (Keras 3.16's Constant.from_config reads config[\"value\"], so the bare name fails there too); write {{\"class_name\": \"Constant\", \"config\": {{\"value\": ...}}}}.");
                    }

                    return config["value"] switch
                    {
                        JsonValue => new Constant(Arg("value", 0)),
                        JsonArray list => new Constant(list, null),
                        JsonObject { } numpy when (string?)(numpy["class_name"] as JsonValue) == "__numpy__" && numpy["config"] is JsonObject array && array["value"] is { } nested
                            => new Constant(nested, array["dtype"] is JsonValue t && t.TryGetValue<string>(out var dtype) ? dtype : "float64"),
                        var other => throw new NotSupportedException($"Initializer 'Constant': the value must be a number or a serialized NumPy array, got {other?.ToJsonString() ?? "null"}."),
                    };
                case "Zeros" or "zeros" or "zero":
                    OnlyKeys();
                    return new Zeros();
                case "Ones" or "ones" or "one":
                    OnlyKeys();
                    return new Ones();
                case "Identity" or "identity" or "IdentityInitializer":
                    OnlyKeys("gain");
                    return new Identity(Arg("gain", 1));
                case "RandomNormal" or "random_normal" or "normal":
                    OnlyKeys("mean", "stddev", "seed");
                    return new RandomNormal(Arg("mean", 0), Arg("stddev", 0.05), Seed());
                case "RandomUniform" or "random_uniform" or "uniform":
                    OnlyKeys("minval", "maxval", "seed");
                    return new RandomUniform(Arg("minval", -0.05), Arg("maxval", 0.05), Seed());
                case "TruncatedNormal" or "truncated_normal":
                    OnlyKeys("mean", "stddev", "seed");
                    return new TruncatedNormal(Arg("mean", 0), Arg("stddev", 0.05), Seed());
                case "VarianceScaling" or "variance_scaling":
                    OnlyKeys("scale", "mode", "distribution", "seed", "input_axes", "output_axes");
                    return new VarianceScaling(Arg("scale", 1), Text("mode", "fan_in"), Text("distribution", "truncated_normal"), Seed(), Axes("input_axes"), Axes("output_axes"));
                case "GlorotNormal" or "glorot_normal":
                    return Scaling((s, i, o) => new GlorotNormal(s, i, o));
                case "GlorotUniform" or "glorot_uniform":
                    return Scaling((s, i, o) => new GlorotUniform(s, i, o));
                case "HeNormal" or "he_normal":
                    return Scaling((s, i, o) => new HeNormal(s, i, o));
                case "HeUniform" or "he_uniform":
                    return Scaling((s, i, o) => new HeUniform(s, i, o));
                case "LecunNormal" or "lecun_normal":
                    return Scaling((s, i, o) => new LecunNormal(s, i, o));
                case "LecunUniform" or "lecun_uniform":
                    return Scaling((s, i, o) => new LecunUniform(s, i, o));
                case "Orthogonal" or "orthogonal" or "OrthogonalInitializer":
                    OnlyKeys("gain", "seed");
                    return new Orthogonal(Arg("gain", 1), Seed());
                case "STFT" or "stft" or "STFTInitializer":
                    throw new NotSupportedException($"Initializer '{name}' (Keras' STFT, for STFTSpectrogram kernels) is not supported by this library.");
                case "Initializer" or "initializer":
                    throw new NotSupportedException($"Initializer '{name}' is Keras' abstract base class, which computes nothing (Keras raises NotImplementedError when it is called).");
                default:
                    throw new FormatException($"Could not interpret initializer identifier: '{name}'; Keras 3.16's initializers are {string.Join(", ", Names)} (and their snake_case names, 'normal', 'uniform', 'zero', 'one', 'OrthogonalInitializer', 'IdentityInitializer').");
            }
        }
        catch (ArgumentException e)
        {
            throw new FormatException($"Initializer '{name}': {e.Message}", e);
        }
    }

    /// <summary>The class names <see cref="Get"/> knows.</summary>
    internal static readonly string[] Names =
    {
        "Constant", "Zeros", "Ones", "Identity", "RandomNormal", "RandomUniform", "TruncatedNormal", "VarianceScaling",
        "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "LecunNormal", "LecunUniform", "Orthogonal",
    };

    /// <summary>A shape as Python prints a tuple (<c>(5,)</c>, <c>(2, 3)</c>), for Keras' messages.</summary>
    private protected static string PyTuple(long[] shape) => shape.Length == 1 ? $"({shape[0]},)" : $"({string.Join(", ", shape)})";

    /// <summary>A number as Python prints a float (<c>-1.0</c>, <c>0.3</c>), for Keras' messages.</summary>
    private protected static string PyFloat(double value) =>
        double.IsFinite(value) && value == Math.Floor(value) && Math.Abs(value) < 1e16 ? value.ToString("0.0", CultureInfo.InvariantCulture) : value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Writes a double argument as Keras writes a Python float.</summary>
    private protected static JsonNode Number(double value) => JsonValue.Create(value);

    /// <inheritdoc/>
    public override string ToString() => $"{ClassName}({string.Join(", ", GetConfig().Select(p => $"{p.Key}={p.Value?.ToJsonString() ?? "null"}"))})";
}

/// <summary>
/// Keras' <c>RandomInitializer</c>: the initializers that draw random values, with a <see cref="Seed"/>. As Keras 3.16:
/// an integer seed gives the same values at every call and in every layer that uses the initializer (two layers given
/// one seeded initializer get equal weights); an unseeded one called eagerly draws its seed once (so it repeats its
/// values too), and in a layer draws from the layer's generator (seeded by <c>Utils.SetRandomSeed</c>).
/// </summary>
public abstract class RandomInitializer : Initializer
{
    private ulong? defaultSeed;

    /// <summary>Sets the seed.</summary>
    /// <param name="seed">An integer seed, or null.</param>
    private protected RandomInitializer(long? seed) => Seed = seed;

    /// <summary>The seed (Keras' <c>seed</c>, an integer or null); as Keras' torch backend, its low 32 bits seed the generator.</summary>
    public long? Seed { get; }

    private protected override bool IsRandom => true;

    /// <summary>The generator a seed gives: <c>seed &amp; 0xFFFFFFFF</c>, as Keras' torch backend seeds torch.Generator.</summary>
    internal static Generator SeededGenerator(long seed) => new((ulong)(seed & 0xFFFFFFFF));

    private protected override Generator EagerGenerator() =>
        Seed is long seed ? SeededGenerator(seed) : new Generator(defaultSeed ??= RandomStreams.NextSeed(null) & 0xFFFFFFFF);

    /// <summary>The <c>seed</c> entry of a config.</summary>
    private protected JsonNode? SeedConfig() => Seed is long seed ? JsonValue.Create(seed) : null;
}
