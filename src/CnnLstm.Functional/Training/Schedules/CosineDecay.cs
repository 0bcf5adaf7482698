using System.Text.Json.Nodes;
using KerasStyle.Saving;

namespace KerasStyle.Training.Schedules;

/// <summary>
/// Keras' <c>keras.optimizers.schedules.CosineDecay</c>: with a <see cref="WarmupTarget"/>, a linear rise from
/// <c>initial_learning_rate</c> to the target over <c>warmup_steps</c>, then (or without one, from step 0) a cosine
/// decay from the target (or the initial rate) to <c>alpha</c> times it over <c>decay_steps</c>:
/// <c>lr * ((1 - alpha) * 0.5 * (1 + cos(pi * min(step, decay_steps) / decay_steps)) + alpha)</c>. Computed in
/// float32 as Keras.
/// </summary>
public sealed class CosineDecay : LearningRateSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="initialLearningRate">The rate at step 0.</param>
    /// <param name="decaySteps">The steps to decay over; must be positive.</param>
    /// <param name="alpha">The final rate as a fraction of the decay's start (default 0).</param>
    /// <param name="name">Keras' name (default <c>CosineDecay</c>).</param>
    /// <param name="warmupTarget">The rate the warmup reaches; null (the default) skips the warmup.</param>
    /// <param name="warmupSteps">The warmup's length in steps (default 0).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="decaySteps"/> is not positive (Keras' ValueError).</exception>
    public CosineDecay(double initialLearningRate, double decaySteps, double alpha = 0.0, string name = "CosineDecay", double? warmupTarget = null, double warmupSteps = 0)
    {
        InitialLearningRate = initialLearningRate;
        DecaySteps = CheckSteps(decaySteps, nameof(decaySteps), "decay_steps");
        Alpha = alpha;
        Name = name ?? throw new ArgumentNullException(nameof(name));
        WarmupTarget = warmupTarget;
        WarmupSteps = warmupSteps;
    }

    /// <summary>The rate at step 0.</summary>
    public double InitialLearningRate { get; }

    /// <summary>The decay length.</summary>
    public double DecaySteps { get; }

    /// <summary>The final rate as a fraction of the decay's start.</summary>
    public double Alpha { get; }

    /// <summary>Keras' name.</summary>
    public string Name { get; }

    /// <summary>The warmup's target rate, or null without warmup.</summary>
    public double? WarmupTarget { get; }

    /// <summary>The warmup's length.</summary>
    public double WarmupSteps { get; }

    /// <inheritdoc/>
    public override double Call(long step)
    {
        var initial = (float)InitialLearningRate;
        var decaySteps = (float)DecaySteps;
        var globalStep = (float)step;
        if (WarmupTarget is not { } target)
        {
            return Decay(MathF.Min(globalStep, decaySteps), decaySteps, initial);
        }

        var (warmupTarget, warmupSteps) = ((float)target, (float)WarmupSteps);
        globalStep = MathF.Min(globalStep, decaySteps + warmupSteps);
        return globalStep < warmupSteps
            ? ((warmupTarget - initial) * (globalStep / warmupSteps)) + initial
            : Decay(globalStep - warmupSteps, decaySteps, warmupTarget);
    }

    private float Decay(float step, float decaySteps, float from)
    {
        var cosine = 0.5f * (1f + MathF.Cos(MathF.PI * (step / decaySteps)));
        var decayed = ((1 - (float)Alpha) * cosine) + (float)Alpha;
        return from * decayed;
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig() => new()
    {
        ["initial_learning_rate"] = InitialLearningRate,
        ["decay_steps"] = Number(DecaySteps),
        ["alpha"] = Alpha,
        ["name"] = Name,
        ["warmup_target"] = WarmupTarget,
        ["warmup_steps"] = Number(WarmupSteps),
    };

    internal static CosineDecay FromConfig(LayerConfig config)
    {
        // tf.keras 2.10 and older have no warmup: their configs lack both keys, read as no warmup.
        var target = config.Has("warmup_target") ? config.GetDouble("warmup_target", double.NaN) : (double?)null;
        return new CosineDecay(Required(config, "initial_learning_rate"), Required(config, "decay_steps"), config.GetDouble("alpha", 0.0),
            config.GetString("name", nameof(CosineDecay)), target, config.GetDouble("warmup_steps", 0));
    }
}
