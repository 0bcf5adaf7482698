using System.Text.Json.Nodes;
using KerasStyle.Engine;
using static TorchSharp.torch;

namespace KerasStyle.Initializers;

/// <summary>
/// Keras' <c>keras.initializers.RandomNormal</c> (keras/src/initializers/random_initializers.py): draws from
/// N(<see cref="Mean"/>, <see cref="Stddev"/>²). Names: <c>RandomNormal</c>, <c>random_normal</c>, <c>normal</c>.
/// </summary>
public sealed class RandomNormal : RandomInitializer
{
    /// <summary>Creates the initializer.</summary>
    /// <param name="mean">The mean (Keras default 0.0).</param>
    /// <param name="stddev">The standard deviation (Keras default 0.05).</param>
    /// <param name="seed">An integer seed, or null (see <see cref="RandomInitializer"/>).</param>
    public RandomNormal(double mean = 0.0, double stddev = 0.05, long? seed = null)
        : base(seed)
    {
        Mean = mean;
        Stddev = stddev;
    }

    /// <summary>The mean.</summary>
    public double Mean { get; }

    /// <summary>The standard deviation.</summary>
    public double Stddev { get; }

    /// <inheritdoc/>
    public override string ClassName => "RandomNormal";

    /// <inheritdoc/>
    public override JsonObject GetConfig() => new() { ["seed"] = SeedConfig(), ["mean"] = Number(Mean), ["stddev"] = Number(Stddev) };

    private protected override Tensor Compute(long[] shape, Generator generator) => RandomValues.Normal(shape, Mean, Stddev, generator);
}

/// <summary>
/// Keras' <c>keras.initializers.TruncatedNormal</c>: draws from N(<see cref="Mean"/>, <see cref="Stddev"/>²), a draw
/// more than two standard deviations from the mean discarded and drawn again. Names: <c>TruncatedNormal</c>,
/// <c>truncated_normal</c>.
/// </summary>
public sealed class TruncatedNormal : RandomInitializer
{
    /// <summary>Creates the initializer.</summary>
    /// <param name="mean">The mean (Keras default 0.0).</param>
    /// <param name="stddev">The standard deviation before truncation (Keras default 0.05).</param>
    /// <param name="seed">An integer seed, or null (see <see cref="RandomInitializer"/>).</param>
    public TruncatedNormal(double mean = 0.0, double stddev = 0.05, long? seed = null)
        : base(seed)
    {
        Mean = mean;
        Stddev = stddev;
    }

    /// <summary>The mean.</summary>
    public double Mean { get; }

    /// <summary>The standard deviation before truncation.</summary>
    public double Stddev { get; }

    /// <inheritdoc/>
    public override string ClassName => "TruncatedNormal";

    /// <inheritdoc/>
    public override JsonObject GetConfig() => new() { ["seed"] = SeedConfig(), ["mean"] = Number(Mean), ["stddev"] = Number(Stddev) };

    private protected override Tensor Compute(long[] shape, Generator generator) => RandomValues.TruncatedNormal(shape, Mean, Stddev, generator);
}

/// <summary>
/// Keras' <c>keras.initializers.RandomUniform</c>: draws from U(<see cref="Minval"/>, <see cref="Maxval"/>), as
/// <c>(maxval - minval) * U(0, 1) + minval</c> in float32. Names: <c>RandomUniform</c>, <c>random_uniform</c>,
/// <c>uniform</c>.
/// </summary>
public sealed class RandomUniform : RandomInitializer
{
    /// <summary>Creates the initializer.</summary>
    /// <param name="minval">The lower bound, inclusive (Keras default -0.05).</param>
    /// <param name="maxval">The upper bound, exclusive (Keras default 0.05).</param>
    /// <param name="seed">An integer seed, or null (see <see cref="RandomInitializer"/>).</param>
    public RandomUniform(double minval = -0.05, double maxval = 0.05, long? seed = null)
        : base(seed)
    {
        Minval = minval;
        Maxval = maxval;
    }

    /// <summary>The lower bound.</summary>
    public double Minval { get; }

    /// <summary>The upper bound.</summary>
    public double Maxval { get; }

    /// <inheritdoc/>
    public override string ClassName => "RandomUniform";

    /// <inheritdoc/>
    public override JsonObject GetConfig() => new() { ["seed"] = SeedConfig(), ["minval"] = Number(Minval), ["maxval"] = Number(Maxval) };

    private protected override Tensor Compute(long[] shape, Generator generator) => RandomValues.Uniform(shape, Minval, Maxval, generator);
}

/// <summary>
/// Keras' <c>keras.initializers.VarianceScaling</c>: with n the fan-in, the fan-out or their mean (<see cref="Mode"/>,
/// fans as Keras' <c>compute_fans</c>, at least 1), s = <see cref="Scale"/> / n; <c>truncated_normal</c> draws from a
/// normal truncated at two standard deviations with stddev <c>sqrt(s) / 0.87962566103423978</c> (so that the
/// truncated values have stddev sqrt(s)), <c>untruncated_normal</c> from N(0, s), <c>uniform</c> from U(-l, l) with
/// <c>l = sqrt(3 s)</c>. Names: <c>VarianceScaling</c>, <c>variance_scaling</c>.
/// </summary>
public class VarianceScaling : RandomInitializer
{
    /// <summary>Creates the initializer, checking the arguments as Keras.</summary>
    /// <param name="scale">The scaling factor (Keras default 1.0); positive.</param>
    /// <param name="mode"><c>fan_in</c> (default), <c>fan_out</c> or <c>fan_avg</c>.</param>
    /// <param name="distribution"><c>truncated_normal</c> (default), <c>untruncated_normal</c> or <c>uniform</c>, in
    /// any case; <c>normal</c> is taken as <c>truncated_normal</c>.</param>
    /// <param name="seed">An integer seed, or null (see <see cref="RandomInitializer"/>).</param>
    /// <param name="inputAxes">The axes whose sizes multiply to the fan-in (with <paramref name="outputAxes"/>; Keras' EinsumDense sets them); null for <c>compute_fans</c>' rule.</param>
    /// <param name="outputAxes">The axes whose sizes multiply to the fan-out.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="scale"/> is not positive.</exception>
    /// <exception cref="ArgumentException">An unknown mode or distribution.</exception>
    public VarianceScaling(double scale = 1.0, string mode = "fan_in", string distribution = "truncated_normal", long? seed = null, int[]? inputAxes = null, int[]? outputAxes = null)
        : base(seed)
    {
        ArgumentNullException.ThrowIfNull(mode);
        ArgumentNullException.ThrowIfNull(distribution);
        if (!(scale > 0.0))
        {
            throw new ArgumentOutOfRangeException(nameof(scale), scale, $"Argument `scale` must be positive float. Received: scale={PyFloat(scale)}");
        }

        if (mode is not ("fan_in" or "fan_out" or "fan_avg"))
        {
            throw new ArgumentException($"Invalid `mode` argument: {mode}. Please use one of {{'fan_in', 'fan_out', 'fan_avg'}}", nameof(mode));
        }

        distribution = distribution.ToLowerInvariant();
        if (distribution == "normal")
        {
            distribution = "truncated_normal";
        }

        if (distribution is not ("uniform" or "truncated_normal" or "untruncated_normal"))
        {
            throw new ArgumentException($"Invalid `distribution` argument: {distribution}.Please use one of {{'uniform', 'truncated_normal', 'untruncated_normal'}}", nameof(distribution));
        }

        Scale = scale;
        Mode = mode;
        Distribution = distribution;
        InputAxes = inputAxes?.ToArray();
        OutputAxes = outputAxes?.ToArray();
    }

    /// <summary>The scaling factor.</summary>
    public double Scale { get; }

    /// <summary><c>fan_in</c>, <c>fan_out</c> or <c>fan_avg</c>.</summary>
    public string Mode { get; }

    /// <summary><c>truncated_normal</c>, <c>untruncated_normal</c> or <c>uniform</c>.</summary>
    public string Distribution { get; }

    /// <summary>The fan-in axes, or null.</summary>
    public IReadOnlyList<int>? InputAxes { get; }

    /// <summary>The fan-out axes, or null.</summary>
    public IReadOnlyList<int>? OutputAxes { get; }

    /// <inheritdoc/>
    public override string ClassName => "VarianceScaling";

    /// <inheritdoc/>
    public override JsonObject GetConfig() => new()
    {
        ["seed"] = SeedConfig(),
        ["scale"] = Number(Scale),
        ["mode"] = Mode,
        ["distribution"] = Distribution,
        ["input_axes"] = AxesConfig(InputAxes),
        ["output_axes"] = AxesConfig(OutputAxes),
    };

    /// <summary>
    /// Keras' <c>compute_fans</c>: with both axis lists, the products of their sizes; else 1 and 1 for a scalar, the
    /// length twice for a vector, rows and columns of a matrix, and for higher ranks the last two dimensions times the
    /// product of the others (a convolution kernel's receptive field).
    /// </summary>
    /// <param name="shape">The weight's shape.</param>
    /// <param name="inputAxes">Fan-in axes (negative counts from the end), or null.</param>
    /// <param name="outputAxes">Fan-out axes, or null.</param>
    /// <returns>The fans.</returns>
    /// <exception cref="ArgumentException">An axis outside the shape.</exception>
    public static (long FanIn, long FanOut) ComputeFans(long[] shape, IReadOnlyList<int>? inputAxes = null, IReadOnlyList<int>? outputAxes = null)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (inputAxes is not null && outputAxes is not null)
        {
            long Product(IReadOnlyList<int> axes) => axes.Aggregate(1L, (a, axis) => a * shape[Axis(shape, axis)]);
            return (Product(inputAxes), Product(outputAxes));
        }

        var field = shape.Length > 2 ? shape[..^2].Aggregate(1L, (a, d) => a * d) : 1;
        return shape.Length switch
        {
            0 => (1, 1),
            1 => (shape[0], shape[0]),
            2 => (shape[0], shape[1]),
            _ => (shape[^2] * field, shape[^1] * field),
        };
    }

    internal override string? WhyNot(long[] shape)
    {
        if (InputAxes is null || OutputAxes is null)
        {
            return null;
        }

        var bad = InputAxes.Concat(OutputAxes).Where(a => a < -shape.Length || a >= shape.Length).ToArray();
        return bad.Length == 0 ? null : $"axis {bad[0]} of input_axes/output_axes is out of range for shape ({string.Join(", ", shape)}).";
    }

    /// <summary>This initializer with <paramref name="inputAxes"/> and <paramref name="outputAxes"/>, as Keras' EinsumDense rebuilds its kernel initializer (same class, seed and arguments).</summary>
    internal VarianceScaling WithAxes(int[] inputAxes, int[] outputAxes)
    {
        var config = GetConfig();
        config["input_axes"] = AxesConfig(inputAxes);
        config["output_axes"] = AxesConfig(outputAxes);
        // Through the JSON text, as a file gives it (values made in code are not read back as doubles).
        return (VarianceScaling)Get(JsonNode.Parse(new JsonObject { ["class_name"] = ClassName, ["config"] = config }.ToJsonString()))!;
    }

    private protected override Tensor Compute(long[] shape, Generator generator)
    {
        var scale = Scale;
        var (fanIn, fanOut) = ComputeFans(shape, InputAxes, OutputAxes);
        scale /= Mode switch
        {
            "fan_in" => Math.Max(1.0, fanIn),
            "fan_out" => Math.Max(1.0, fanOut),
            _ => Math.Max(1.0, (fanIn + fanOut) / 2.0),
        };
        switch (Distribution)
        {
            case "truncated_normal":
                return RandomValues.TruncatedNormal(shape, 0.0, Math.Sqrt(scale) / 0.87962566103423978, generator);
            case "untruncated_normal":
                return RandomValues.Normal(shape, 0.0, Math.Sqrt(scale), generator);
            default:
                var limit = Math.Sqrt(3.0 * scale);
                return RandomValues.Uniform(shape, -limit, limit, generator);
        }
    }

    /// <summary>The config of the subclasses (GlorotUniform...): seed and axes only, as Keras 3.16 writes them.</summary>
    private protected JsonObject ShortConfig() => new() { ["seed"] = SeedConfig(), ["input_axes"] = AxesConfig(InputAxes), ["output_axes"] = AxesConfig(OutputAxes) };

    private static JsonArray? AxesConfig(IReadOnlyList<int>? axes) => axes is null ? null : new JsonArray(axes.Select(a => (JsonNode)JsonValue.Create(a)).ToArray());

    private static int Axis(long[] shape, int axis) =>
        axis >= -shape.Length && axis < shape.Length ? (axis < 0 ? axis + shape.Length : axis)
        : throw new ArgumentException($"axis {axis} is out of range for shape ({string.Join(", ", shape)}).", nameof(axis));
}

/// <summary>Keras' <c>GlorotNormal</c> (Xavier normal): VarianceScaling(1.0, fan_avg, truncated_normal). Names: <c>GlorotNormal</c>, <c>glorot_normal</c>.</summary>
/// <param name="seed">An integer seed, or null.</param>
/// <param name="inputAxes">Fan-in axes, or null.</param>
/// <param name="outputAxes">Fan-out axes, or null.</param>
public sealed class GlorotNormal(long? seed = null, int[]? inputAxes = null, int[]? outputAxes = null)
    : VarianceScaling(1.0, "fan_avg", "truncated_normal", seed, inputAxes, outputAxes)
{
    /// <inheritdoc/>
    public override string ClassName => "GlorotNormal";

    /// <inheritdoc/>
    public override JsonObject GetConfig() => ShortConfig();
}

/// <summary>Keras' <c>GlorotUniform</c> (Xavier uniform; Keras' default kernel initializer): U(-l, l), l = sqrt(6 / (fan_in + fan_out)). Names: <c>GlorotUniform</c>, <c>glorot_uniform</c>.</summary>
/// <param name="seed">An integer seed, or null.</param>
/// <param name="inputAxes">Fan-in axes, or null.</param>
/// <param name="outputAxes">Fan-out axes, or null.</param>
public sealed class GlorotUniform(long? seed = null, int[]? inputAxes = null, int[]? outputAxes = null)
    : VarianceScaling(1.0, "fan_avg", "uniform", seed, inputAxes, outputAxes)
{
    /// <inheritdoc/>
    public override string ClassName => "GlorotUniform";

    /// <inheritdoc/>
    public override JsonObject GetConfig() => ShortConfig();
}

/// <summary>Keras' <c>HeNormal</c>: VarianceScaling(2.0, fan_in, truncated_normal). Names: <c>HeNormal</c>, <c>he_normal</c>.</summary>
/// <param name="seed">An integer seed, or null.</param>
/// <param name="inputAxes">Fan-in axes, or null.</param>
/// <param name="outputAxes">Fan-out axes, or null.</param>
public sealed class HeNormal(long? seed = null, int[]? inputAxes = null, int[]? outputAxes = null)
    : VarianceScaling(2.0, "fan_in", "truncated_normal", seed, inputAxes, outputAxes)
{
    /// <inheritdoc/>
    public override string ClassName => "HeNormal";

    /// <inheritdoc/>
    public override JsonObject GetConfig() => ShortConfig();
}

/// <summary>Keras' <c>HeUniform</c>: U(-l, l), l = sqrt(6 / fan_in). Names: <c>HeUniform</c>, <c>he_uniform</c>.</summary>
/// <param name="seed">An integer seed, or null.</param>
/// <param name="inputAxes">Fan-in axes, or null.</param>
/// <param name="outputAxes">Fan-out axes, or null.</param>
public sealed class HeUniform(long? seed = null, int[]? inputAxes = null, int[]? outputAxes = null)
    : VarianceScaling(2.0, "fan_in", "uniform", seed, inputAxes, outputAxes)
{
    /// <inheritdoc/>
    public override string ClassName => "HeUniform";

    /// <inheritdoc/>
    public override JsonObject GetConfig() => ShortConfig();
}

/// <summary>Keras' <c>LecunNormal</c>: VarianceScaling(1.0, fan_in, truncated_normal). Names: <c>LecunNormal</c>, <c>lecun_normal</c>.</summary>
/// <param name="seed">An integer seed, or null.</param>
/// <param name="inputAxes">Fan-in axes, or null.</param>
/// <param name="outputAxes">Fan-out axes, or null.</param>
public sealed class LecunNormal(long? seed = null, int[]? inputAxes = null, int[]? outputAxes = null)
    : VarianceScaling(1.0, "fan_in", "truncated_normal", seed, inputAxes, outputAxes)
{
    /// <inheritdoc/>
    public override string ClassName => "LecunNormal";

    /// <inheritdoc/>
    public override JsonObject GetConfig() => ShortConfig();
}

/// <summary>Keras' <c>LecunUniform</c>: U(-l, l), l = sqrt(3 / fan_in). Names: <c>LecunUniform</c>, <c>lecun_uniform</c>.</summary>
/// <param name="seed">An integer seed, or null.</param>
/// <param name="inputAxes">Fan-in axes, or null.</param>
/// <param name="outputAxes">Fan-out axes, or null.</param>
public sealed class LecunUniform(long? seed = null, int[]? inputAxes = null, int[]? outputAxes = null)
    : VarianceScaling(1.0, "fan_in", "uniform", seed, inputAxes, outputAxes)
{
    /// <inheritdoc/>
    public override string ClassName => "LecunUniform";

    /// <inheritdoc/>
    public override JsonObject GetConfig() => ShortConfig();
}

/// <summary>
/// Keras' <c>keras.initializers.Orthogonal</c>: for a shape of rank 2 or more, the matrix (product of all but the last
/// dimension, last dimension) is the Q factor of a standard normal matrix's QR decomposition (its columns' signs
/// those of R's diagonal; transposed when wider than tall, so that the shorter side is orthonormal), reshaped and
/// times <see cref="Gain"/>. Names: <c>Orthogonal</c>, <c>orthogonal</c>, <c>OrthogonalInitializer</c>.
/// </summary>
public sealed class Orthogonal : RandomInitializer
{
    /// <summary>Creates the initializer.</summary>
    /// <param name="gain">The factor applied to the orthogonal matrix (Keras default 1.0).</param>
    /// <param name="seed">An integer seed, or null (see <see cref="RandomInitializer"/>).</param>
    public Orthogonal(double gain = 1.0, long? seed = null)
        : base(seed) => Gain = gain;

    /// <summary>The factor.</summary>
    public double Gain { get; }

    /// <inheritdoc/>
    public override string ClassName => "Orthogonal";

    /// <inheritdoc/>
    public override JsonObject GetConfig() => new() { ["seed"] = SeedConfig(), ["gain"] = Number(Gain) };

    internal override string? WhyNot(long[] shape) => shape.Length >= 2 ? null
        : $"The tensor to initialize must be at least two-dimensional. Received: shape={PyTuple(shape)} of rank {shape.Length}.";

    private protected override Tensor Compute(long[] shape, Generator generator)
    {
        var rows = shape[..^1].Aggregate(1L, (a, d) => a * d);
        using var q = RandomValues.Orthogonal(rows, shape[^1], generator);
        if (Gain == 1.0)
        {
            return q.reshape(shape);
        }

        using var reshaped = q.reshape(shape);
        return Scalars.With(Gain, gain => reshaped.mul(gain));
    }
}
