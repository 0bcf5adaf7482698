using System.Text.Json.Nodes;
using KerasStyle.Saving;

namespace KerasStyle.Training.Schedules;

/// <summary>
/// Keras' <c>keras.optimizers.schedules.ExponentialDecay</c>: <c>initial_learning_rate * decay_rate ^ (step /
/// decay_steps)</c>, with <c>step / decay_steps</c> floored when <see cref="Staircase"/>; computed in float32 as Keras.
/// </summary>
public sealed class ExponentialDecay : LearningRateSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="initialLearningRate">The rate at step 0.</param>
    /// <param name="decaySteps">The steps over which the rate is multiplied by <paramref name="decayRate"/>; must be positive.</param>
    /// <param name="decayRate">The decay rate.</param>
    /// <param name="staircase">Whether the rate decays at whole multiples of <paramref name="decaySteps"/> only (default false).</param>
    /// <param name="name">Keras' name (default <c>ExponentialDecay</c>).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="decaySteps"/> is not positive (Keras' ValueError).</exception>
    public ExponentialDecay(double initialLearningRate, double decaySteps, double decayRate, bool staircase = false, string name = "ExponentialDecay")
    {
        InitialLearningRate = initialLearningRate;
        DecaySteps = CheckSteps(decaySteps, nameof(decaySteps), "decay_steps");
        DecayRate = decayRate;
        Staircase = staircase;
        Name = name ?? throw new ArgumentNullException(nameof(name));
    }

    /// <summary>The rate at step 0.</summary>
    public double InitialLearningRate { get; }

    /// <summary>The decay length.</summary>
    public double DecaySteps { get; }

    /// <summary>The decay rate.</summary>
    public double DecayRate { get; }

    /// <summary>Whether the exponent is floored.</summary>
    public bool Staircase { get; }

    /// <summary>Keras' name.</summary>
    public string Name { get; }

    /// <inheritdoc/>
    public override double Call(long step)
    {
        var p = (float)step / (float)DecaySteps;
        if (Staircase)
        {
            p = MathF.Floor(p);
        }

        return (float)InitialLearningRate * MathF.Pow((float)DecayRate, p);
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig() => new()
    {
        ["initial_learning_rate"] = InitialLearningRate,
        ["decay_steps"] = Number(DecaySteps),
        ["decay_rate"] = DecayRate,
        ["staircase"] = Staircase,
        ["name"] = Name,
    };

    internal static ExponentialDecay FromConfig(LayerConfig config) => new(
        Required(config, "initial_learning_rate"), Required(config, "decay_steps"), Required(config, "decay_rate"),
        config.GetBool("staircase", false), config.GetString("name", nameof(ExponentialDecay)));
}
