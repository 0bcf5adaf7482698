using System.Globalization;
using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Regularizers;

/// <summary>
/// A weight or activity penalty, as Keras' <c>keras.regularizers.Regularizer</c> (keras/src/regularizers/regularizers.py):
/// called on a tensor it gives a scalar that training adds to the loss. The library's layers take one per
/// Keras argument (<c>kernel_regularizer</c>, <c>bias_regularizer</c>, <c>recurrent_regularizer</c>,
/// <c>embeddings_regularizer</c>; <see cref="Layers.Layer.ActivityRegularizer"/> on every layer). Built in: <see cref="L1"/>,
/// <see cref="L2"/>, <see cref="L1L2"/> and <see cref="OrthogonalRegularizer"/>.
/// </summary>
public abstract class Regularizer
{
    /// <summary>The Keras class name written in configs (<c>L1</c>, <c>L2</c>, <c>L1L2</c>).</summary>
    public abstract string ClassName { get; }

    /// <summary>The penalty of <paramref name="x"/> (any shape, float32), a scalar tensor the caller owns.</summary>
    /// <param name="x">The weight or activation.</param>
    /// <returns>A 0-d float32 tensor; differentiable with respect to <paramref name="x"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="x"/> is null.</exception>
    public Tensor Invoke(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        using var scope = NewDisposeScope();
        return Penalty(x.dtype == ScalarType.Float32 ? x : x.to_type(ScalarType.Float32)).MoveToOuterDisposeScope();
    }

    /// <summary>The penalty of a C# numeric array of any rank (its shape kept), computed as on a tensor.</summary>
    /// <param name="x">The values.</param>
    /// <returns>The penalty.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="x"/> is null.</exception>
    /// <exception cref="ArgumentException">The array's rank does not fit the regularizer (<see cref="OrthogonalRegularizer"/>: 2).</exception>
    public float Invoke(Array x)
    {
        ArgumentNullException.ThrowIfNull(x);
        using var scope = NewDisposeScope();
        var values = x.Cast<object>().Select(v => Convert.ToSingle(v, CultureInfo.InvariantCulture)).ToArray();
        var shape = Enumerable.Range(0, x.Rank).Select(d => (long)x.GetLength(d)).ToArray();
        return Invoke(tensor(values).reshape(shape)).item<float>();
    }

    /// <summary>The penalty of a C# float vector (an exact match where <see cref="Invoke(Tensor)"/>'s conversion would also apply).</summary>
    /// <param name="x">The values.</param>
    /// <returns>The penalty.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="x"/> is null.</exception>
    public float Invoke(float[] x) => Invoke((Array)x);

    /// <summary>The penalty of a float32 tensor.</summary>
    private protected abstract Tensor Penalty(Tensor x);

    /// <summary>The arguments as Keras 3.16's <c>get_config</c> writes them.</summary>
    public abstract JsonObject GetConfig();

    /// <summary>
    /// The regularizer as Keras 3.16 serializes it in a layer config:
    /// <c>{"module": "keras.regularizers", "class_name": ..., "config": ..., "registered_name": null}</c>.
    /// </summary>
    public JsonObject Serialize() => KerasObjectConfig.Serialize("keras.regularizers", ClassName, GetConfig());

    /// <summary>
    /// Keras' <c>keras.regularizers.get</c>: null gives null; a name gives that class with its defaults
    /// (<c>"l1"</c>/<c>"L1"</c>: L1(0.01), <c>"l2"</c>/<c>"L2"</c>: L2(0.01), <c>"l1l2"</c>/<c>"L1L2"</c>: L1L2(0, 0),
    /// <c>"orthogonal_regularizer"</c>/<c>"OrthogonalRegularizer"</c>: OrthogonalRegularizer(0.01, "rows"), as
    /// Keras 3.16 instantiates the class; it refuses <c>"l1_l2"</c>, and so does this library); an object is a serialized regularizer, in Keras 3's form (with
    /// <c>module</c>) or tf.keras 2's (<c>{"class_name": "L1L2", "config": {"l1": 0.0, "l2": 0.01}}</c>).
    /// </summary>
    /// <param name="identifier">The config value.</param>
    /// <returns>The regularizer, or null.</returns>
    /// <exception cref="FormatException">An unknown name or malformed object.</exception>
    public static Regularizer? Get(JsonNode? identifier) => KerasObjectConfig.Get(identifier, "Regularizer", Create);

    private static Regularizer Create(string name, JsonObject config)
    {
        double Arg(string key, double fallback) => KerasObjectConfig.Number(config, "Regularizer", name, key, fallback);

        void OnlyKeys(params string[] keys) => KerasObjectConfig.OnlyKeys(config, "Regularizer", name, keys);

        try
        {
            switch (name)
            {
                case "L1" or "l1":
                    OnlyKeys("l1");
                    return new L1(Arg("l1", 0.01));
                case "L2" or "l2":
                    OnlyKeys("l2");
                    return new L2(Arg("l2", 0.01));
                case "L1L2" or "l1l2":
                    OnlyKeys("l1", "l2");
                    return new L1L2(Arg("l1", 0), Arg("l2", 0));
                case "OrthogonalRegularizer" or "orthogonal_regularizer":
                    OnlyKeys("factor", "mode");
                    var mode = config["mode"] switch
                    {
                        null => "rows",
                        JsonValue v when v.TryGetValue<string>(out var m) => m,
                        var other => throw new FormatException($"Regularizer '{name}': 'mode' must be a string, got {other.ToJsonString()}."),
                    };
                    return new OrthogonalRegularizer(Arg("factor", 0.01), mode);
                default:
                    throw new FormatException($"Could not interpret regularizer identifier: '{name}'; this library knows, as Keras 3.16, L1 ('l1'), L2 ('l2'), L1L2 ('l1l2'; Keras 3.16 refuses 'l1_l2' too) and OrthogonalRegularizer ('orthogonal_regularizer').");
            }
        }
        catch (ArgumentException e)
        {
            throw new FormatException($"Regularizer '{name}': {e.Message}", e);
        }
    }

    /// <summary>Keras' <c>validate_float_arg</c>: a finite, non-negative factor.</summary>
    private protected static double Validate(double value, string name) =>
        double.IsFinite(value) && value >= 0 ? value
        : throw new ArgumentOutOfRangeException(name, value, $"Invalid value for argument {name}: expected a non-negative float. Received: {name}={value.ToString(CultureInfo.InvariantCulture)}");

    /// <inheritdoc/>
    public override string ToString() => $"{ClassName}({string.Join(", ", GetConfig().Select(p => $"{p.Key}={p.Value?.ToJsonString()}"))})";
}

/// <summary>
/// Keras' <c>keras.regularizers.L1</c>: <c>l1 * sum(abs(x))</c>, the factor in float32. Keras keeps the factor as a
/// float32 tensor, so its config writes the float32 value (0.01 is written 0.009999999776482582).
/// </summary>
public sealed class L1 : Regularizer
{
    /// <summary>Creates the regularizer.</summary>
    /// <param name="l1">The factor (Keras default 0.01); finite and non-negative.</param>
    /// <exception cref="ArgumentOutOfRangeException">A negative, infinite or NaN factor.</exception>
    public L1(double l1 = 0.01) => Factor = (float)Validate(l1, "l1");

    /// <summary>The factor (float32, as Keras keeps it).</summary>
    public float Factor { get; }

    /// <inheritdoc/>
    public override string ClassName => "L1";

    /// <inheritdoc/>
    public override JsonObject GetConfig() => new() { ["l1"] = (double)Factor };

    private protected override Tensor Penalty(Tensor x) => x.abs().sum().mul(Scalars.Of(Factor));
}

/// <summary>Keras' <c>keras.regularizers.L2</c>: <c>l2 * sum(square(x))</c>, the factor cast to float32.</summary>
public sealed class L2 : Regularizer
{
    /// <summary>Creates the regularizer.</summary>
    /// <param name="l2">The factor (Keras default 0.01); finite and non-negative.</param>
    /// <exception cref="ArgumentOutOfRangeException">A negative, infinite or NaN factor.</exception>
    public L2(double l2 = 0.01) => Factor = Validate(l2, "l2");

    /// <summary>The factor as given (the config writes it so; the penalty uses it cast to float32).</summary>
    public double Factor { get; }

    /// <inheritdoc/>
    public override string ClassName => "L2";

    /// <inheritdoc/>
    public override JsonObject GetConfig() => new() { ["l2"] = Factor };

    private protected override Tensor Penalty(Tensor x) => Scalars.Square(x).sum().mul(Scalars.Of((float)Factor));
}

/// <summary>
/// Keras' <c>keras.regularizers.L1L2</c>: <c>l1 * sum(abs(x)) + l2 * sum(square(x))</c>, each term only when its
/// factor is not 0, the factors cast to float32. Both default to 0 (the name <c>"l1l2"</c> gives L1L2(0, 0) in Keras 3.16).
/// </summary>
public sealed class L1L2 : Regularizer
{
    /// <summary>Creates the regularizer.</summary>
    /// <param name="l1">The L1 factor (default 0); finite and non-negative.</param>
    /// <param name="l2">The L2 factor (default 0); finite and non-negative.</param>
    /// <exception cref="ArgumentOutOfRangeException">A negative, infinite or NaN factor.</exception>
    public L1L2(double l1 = 0, double l2 = 0)
    {
        L1Factor = Validate(l1, "l1");
        L2Factor = Validate(l2, "l2");
    }

    /// <summary>The L1 factor as given.</summary>
    public double L1Factor { get; }

    /// <summary>The L2 factor as given.</summary>
    public double L2Factor { get; }

    /// <inheritdoc/>
    public override string ClassName => "L1L2";

    /// <inheritdoc/>
    public override JsonObject GetConfig() => new() { ["l1"] = L1Factor, ["l2"] = L2Factor };

    private protected override Tensor Penalty(Tensor x)
    {
        var result = zeros(Array.Empty<long>(), dtype: x.dtype, device: x.device);
        if (L1Factor != 0)
        {
            result = result.add(x.abs().sum().mul(Scalars.Of((float)L1Factor)), Scalars.IntOne);
        }

        if (L2Factor != 0)
        {
            result = result.add(Scalars.Square(x).sum().mul(Scalars.Of((float)L2Factor)), Scalars.IntOne);
        }

        return result;
    }
}

/// <summary>
/// Keras' <c>keras.regularizers.OrthogonalRegularizer</c>: on a rank-2 input (a Dense kernel (input_dim, units), or a
/// (batch, units) activation), the L2-normalised rows (<c>mode</c> "rows") or columns ("columns"), each normalised as
/// Keras' <c>ops.normalize</c> (x * rsqrt(max(Σx², 1e-14))); their products with each other, the diagonal zeroed;
/// <c>factor * 0.5 * sum(|products|) / (n (n - 1) / 2)</c> with n the number of rows (columns). The factor is kept in
/// float32, as Keras keeps it as a tensor (its config writes the float32 value). With one row (column) Keras divides
/// 0 by 0 and gives NaN; so does this.
/// </summary>
public sealed class OrthogonalRegularizer : Regularizer
{
    /// <summary>Creates the regularizer.</summary>
    /// <param name="factor">The factor (Keras default 0.01); finite and non-negative.</param>
    /// <param name="mode"><c>"rows"</c> (default) or <c>"columns"</c>: which vectors are pushed to be orthogonal.</param>
    /// <exception cref="ArgumentOutOfRangeException">A negative, infinite or NaN factor.</exception>
    /// <exception cref="ArgumentException">A mode other than "rows" and "columns" (Keras' message).</exception>
    public OrthogonalRegularizer(double factor = 0.01, string mode = "rows")
    {
        Factor = (float)Validate(factor, "factor");
        Mode = mode is "rows" or "columns" ? mode
            : throw new ArgumentException($"Invalid value for argument `mode`. Expected one of {{\"rows\", \"columns\"}}. Received: mode={mode}", nameof(mode));
    }

    /// <summary>The factor (float32, as Keras keeps it).</summary>
    public float Factor { get; }

    /// <summary>"rows" or "columns".</summary>
    public string Mode { get; }

    /// <inheritdoc/>
    public override string ClassName => "OrthogonalRegularizer";

    /// <inheritdoc/>
    public override JsonObject GetConfig() => new() { ["factor"] = (double)Factor, ["mode"] = Mode };

    /// <exception cref="ArgumentException">An input whose rank is not 2 (Keras' message).</exception>
    private protected override Tensor Penalty(Tensor x)
    {
        if (x.dim() != 2)
        {
            throw new ArgumentException($"Inputs to OrthogonalRegularizer must have rank 2. Received: inputs.shape=({string.Join(", ", x.shape)}{(x.dim() == 1 ? "," : string.Empty)})", nameof(x));
        }

        var axis = Mode == "rows" ? 1L : 0L;
        var normalized = x.mul(Scalars.Square(x).sum(new[] { axis }, keepdim: true).clamp_min(Scalars.Of(1e-14)).rsqrt());
        var product = Mode == "rows" ? normalized.matmul(normalized.t()) : normalized.t().matmul(normalized);
        var size = product.shape[0];
        var offDiagonal = product.mul(Scalars.OneMinus(eye(size, dtype: x.dtype, device: x.device)));
        // Keras: factor * 0.5 * sum(|products|) / num_pairs, in that order.
        var sum = offDiagonal.abs().sum();
        var scaled = Scalars.With(Factor * 0.5f, half => sum.mul(half));
        return Scalars.With(size * (size - 1.0) / 2.0, pairs => scaled.div(pairs));
    }
}
