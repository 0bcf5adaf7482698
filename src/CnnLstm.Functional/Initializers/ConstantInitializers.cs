using System.Text.Json.Nodes;
using KerasStyle.Engine;
using static TorchSharp.torch;

namespace KerasStyle.Initializers;

/// <summary>
/// Keras' <c>keras.initializers.Constant</c> (keras/src/initializers/constant_initializers.py): every value
/// <see cref="Value"/>, cast to the dtype (float32 in layers). Names: <c>Constant</c>, <c>constant</c>.
/// </summary>
public sealed class Constant : Initializer
{
    /// <summary>Creates the initializer.</summary>
    /// <param name="value">The value (Keras default 0.0); Keras takes only a scalar.</param>
    public Constant(double value = 0.0) => Value = value;

    /// <summary>The value, as given (the config writes it so).</summary>
    public double Value { get; }

    /// <inheritdoc/>
    public override string ClassName => "Constant";

    /// <inheritdoc/>
    public override JsonObject GetConfig() => new() { ["value"] = Number(Value) };

    private protected override Tensor Compute(long[] shape, Generator generator) =>
        Scalars.With((float)Value, value => full(shape, value, ScalarType.Float32));
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
