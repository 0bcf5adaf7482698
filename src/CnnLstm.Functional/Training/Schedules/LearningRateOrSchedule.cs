namespace KerasStyle.Training.Schedules;

/// <summary>
/// An optimizer's <c>learningRate</c> argument: a number or a <see cref="LearningRateSchedule"/>, as Keras'
/// <c>learning_rate</c> takes either. Both convert to it implicitly: <c>new Adam(0.01)</c>,
/// <c>new Adam(new CosineDecay(0.1, 1000))</c>.
/// </summary>
public readonly struct LearningRateOrSchedule
{
    private LearningRateOrSchedule(double value, LearningRateSchedule? schedule)
    {
        Value = value;
        Schedule = schedule;
    }

    /// <summary>The number, when no schedule is given.</summary>
    public double Value { get; }

    /// <summary>The schedule, or null for a number.</summary>
    public LearningRateSchedule? Schedule { get; }

    /// <summary>A fixed learning rate.</summary>
    /// <param name="value">The rate.</param>
    public static implicit operator LearningRateOrSchedule(double value) => new(value, null);

    /// <summary>A learning-rate schedule.</summary>
    /// <param name="schedule">The schedule; not null.</param>
    /// <exception cref="ArgumentNullException"><paramref name="schedule"/> is null.</exception>
    public static implicit operator LearningRateOrSchedule(LearningRateSchedule schedule) =>
        new(double.NaN, schedule ?? throw new ArgumentNullException(nameof(schedule), "learningRate: give a number or a LearningRateSchedule, not null."));
}
