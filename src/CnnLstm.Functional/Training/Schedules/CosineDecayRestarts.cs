using System.Text.Json.Nodes;
using KerasStyle.Saving;

namespace KerasStyle.Training.Schedules;

/// <summary>
/// Keras' <c>keras.optimizers.schedules.CosineDecayRestarts</c> (SGDR, Loshchilov and Hutter): a cosine decay from
/// the rate to <c>alpha</c> times it over <c>first_decay_steps</c>, then restarts, each <c>t_mul</c> times longer and
/// starting <c>m_mul</c> times lower than the one before. Computed in float32 as Keras.
/// </summary>
public sealed class CosineDecayRestarts : LearningRateSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="initialLearningRate">The rate at step 0.</param>
    /// <param name="firstDecaySteps">The first period's length; must be positive.</param>
    /// <param name="tMul">Each period's length over the previous one's (default 2).</param>
    /// <param name="mMul">Each period's starting rate over the previous one's (default 1).</param>
    /// <param name="alpha">The lowest rate as a fraction of <paramref name="initialLearningRate"/> (default 0).</param>
    /// <param name="name">Keras' name (default <c>SGDRDecay</c>).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="firstDecaySteps"/> is not positive (Keras' ValueError).</exception>
    public CosineDecayRestarts(double initialLearningRate, double firstDecaySteps, double tMul = 2.0, double mMul = 1.0, double alpha = 0.0, string name = "SGDRDecay")
    {
        InitialLearningRate = initialLearningRate;
        FirstDecaySteps = CheckSteps(firstDecaySteps, nameof(firstDecaySteps), "first_decay_steps");
        TMul = tMul;
        MMul = mMul;
        Alpha = alpha;
        Name = name ?? throw new ArgumentNullException(nameof(name));
    }

    /// <summary>The rate at step 0.</summary>
    public double InitialLearningRate { get; }

    /// <summary>The first period's length.</summary>
    public double FirstDecaySteps { get; }

    /// <summary>Each period's length over the previous one's.</summary>
    public double TMul { get; }

    /// <summary>Each period's starting rate over the previous one's.</summary>
    public double MMul { get; }

    /// <summary>The lowest rate as a fraction of the initial one.</summary>
    public double Alpha { get; }

    /// <summary>Keras' name.</summary>
    public string Name { get; }

    /// <inheritdoc/>
    public override double Call(long step)
    {
        var (alpha, tMul, mMul) = ((float)Alpha, (float)TMul, (float)MMul);
        var completed = (float)step / (float)FirstDecaySteps;
        float restart;
        if (tMul == 1f)
        {
            restart = MathF.Floor(completed);
            completed -= restart;
        }
        else
        {
            restart = MathF.Floor(MathF.Log(1f - (completed * (1f - tMul))) / MathF.Log(tMul));
            var sum = (1f - MathF.Pow(tMul, restart)) / (1f - tMul);
            completed = (completed - sum) / MathF.Pow(tMul, restart);
        }

        var cosine = 0.5f * MathF.Pow(mMul, restart) * (1f + MathF.Cos(MathF.PI * completed));
        return (float)InitialLearningRate * (((1 - alpha) * cosine) + alpha);
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig() => new()
    {
        ["initial_learning_rate"] = InitialLearningRate,
        ["first_decay_steps"] = Number(FirstDecaySteps),
        ["t_mul"] = TMul,
        ["m_mul"] = MMul,
        ["alpha"] = Alpha,
        ["name"] = Name,
    };

    internal static CosineDecayRestarts FromConfig(LayerConfig config) => new(
        Required(config, "initial_learning_rate"), Required(config, "first_decay_steps"), config.GetDouble("t_mul", 2.0),
        config.GetDouble("m_mul", 1.0), config.GetDouble("alpha", 0.0), config.GetString("name", "SGDRDecay"));
}
