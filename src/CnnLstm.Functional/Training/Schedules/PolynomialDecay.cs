using System.Text.Json.Nodes;
using KerasStyle.Saving;

namespace KerasStyle.Training.Schedules;

/// <summary>
/// Keras' <c>keras.optimizers.schedules.PolynomialDecay</c>: <c>(initial - end) * (1 - step / decay_steps) ^ power +
/// end</c>, with the step clipped at <c>decay_steps</c>; with <see cref="Cycle"/>, <c>decay_steps</c> becomes the
/// first multiple of it at or above the step (1 at step 0). Computed in float32 as Keras.
/// </summary>
public sealed class PolynomialDecay : LearningRateSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="initialLearningRate">The rate at step 0.</param>
    /// <param name="decaySteps">The steps to reach <paramref name="endLearningRate"/>; must be positive.</param>
    /// <param name="endLearningRate">The final rate (Keras default 0.0001).</param>
    /// <param name="power">The power of the polynomial (default 1).</param>
    /// <param name="cycle">Whether the decay restarts after <paramref name="decaySteps"/> (default false).</param>
    /// <param name="name">Keras' name (default <c>PolynomialDecay</c>).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="decaySteps"/> is not positive (Keras' ValueError).</exception>
    public PolynomialDecay(double initialLearningRate, double decaySteps, double endLearningRate = 0.0001, double power = 1.0, bool cycle = false, string name = "PolynomialDecay")
    {
        InitialLearningRate = initialLearningRate;
        DecaySteps = CheckSteps(decaySteps, nameof(decaySteps), "decay_steps");
        EndLearningRate = endLearningRate;
        Power = power;
        Cycle = cycle;
        Name = name ?? throw new ArgumentNullException(nameof(name));
    }

    /// <summary>The rate at step 0.</summary>
    public double InitialLearningRate { get; }

    /// <summary>The decay length.</summary>
    public double DecaySteps { get; }

    /// <summary>The final rate.</summary>
    public double EndLearningRate { get; }

    /// <summary>The power of the polynomial.</summary>
    public double Power { get; }

    /// <summary>Whether the decay restarts.</summary>
    public bool Cycle { get; }

    /// <summary>Keras' name.</summary>
    public string Name { get; }

    /// <inheritdoc/>
    public override double Call(long step)
    {
        var (initial, end) = ((float)InitialLearningRate, (float)EndLearningRate);
        var (globalStep, decaySteps) = ((float)step, (float)DecaySteps);
        if (Cycle)
        {
            decaySteps *= globalStep == 0 ? 1f : MathF.Ceiling(globalStep / decaySteps);
        }
        else
        {
            globalStep = MathF.Min(globalStep, decaySteps);
        }

        var p = globalStep / decaySteps;
        return ((initial - end) * MathF.Pow(1 - p, (float)Power)) + end;
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig() => new()
    {
        ["initial_learning_rate"] = InitialLearningRate,
        ["decay_steps"] = Number(DecaySteps),
        ["end_learning_rate"] = EndLearningRate,
        ["power"] = Power,
        ["cycle"] = Cycle,
        ["name"] = Name,
    };

    internal static PolynomialDecay FromConfig(LayerConfig config) => new(
        Required(config, "initial_learning_rate"), Required(config, "decay_steps"), config.GetDouble("end_learning_rate", 0.0001),
        config.GetDouble("power", 1.0), config.GetBool("cycle", false), config.GetString("name", nameof(PolynomialDecay)));
}
