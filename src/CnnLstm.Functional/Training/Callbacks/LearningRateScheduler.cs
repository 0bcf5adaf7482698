namespace KerasStyle.Training.Callbacks;

/// <summary>
/// Sets the optimizer's learning rate at the start of every epoch from a schedule, as Keras 3's
/// <c>keras.callbacks.LearningRateScheduler</c> (<c>keras/src/callbacks/learning_rate_scheduler.py</c>): the
/// schedule receives the epoch index (from 0) and the current rate and returns the rate for that epoch. At the end of
/// each epoch the rate in force is written into the epoch logs as <c>learning_rate</c> (Keras 3's key; Keras 2 wrote
/// <c>lr</c>), so <see cref="History"/> and later callbacks see it.
/// </summary>
/// <example>
/// <code>
/// // Keep the rate for 10 epochs, then decay it by e^-0.1 per epoch.
/// var scheduler = new LearningRateScheduler((epoch, lr) =&gt; epoch &lt; 10 ? lr : lr * Math.Exp(-0.1));
/// model.Fit(x, y, epochs: 15, callbacks: new[] { scheduler });
/// </code>
/// </example>
public sealed class LearningRateScheduler : Callback
{
    /// <summary>Creates the callback.</summary>
    /// <param name="schedule">Maps (epoch index from 0, current learning rate) to the rate for that epoch. It must
    /// return a positive, finite number.</param>
    /// <param name="verbose">0 (the Keras default) is quiet; 1 prints
    /// <c>Epoch N: LearningRateScheduler setting learning rate to R.</c> (N from 1, R as Python prints it) at each
    /// epoch start.</param>
    /// <exception cref="ArgumentNullException"><paramref name="schedule"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="verbose"/> is negative.</exception>
    public LearningRateScheduler(Func<int, double, double> schedule, int verbose = 0)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        ArgumentOutOfRangeException.ThrowIfNegative(verbose);
        Schedule = schedule;
        Verbose = verbose;
    }

    /// <summary>The schedule: (epoch index from 0, current rate) to new rate.</summary>
    public Func<int, double, double> Schedule { get; }

    /// <summary>1 to print each new rate.</summary>
    public int Verbose { get; }

    /// <summary>
    /// Applies the schedule's rate for <paramref name="epoch"/>. Keras accepts any float the schedule returns; here a
    /// rate that is not positive and finite is refused before the optimizer changes.
    /// </summary>
    /// <exception cref="InvalidOperationException">The schedule returned NaN, infinity, zero or a negative number;
    /// the message names the epoch and the value, and the optimizer keeps its rate.</exception>
    public override void OnEpochBegin(int epoch, Dictionary<string, double> logs)
    {
        var optimizer = Optimizer();
        var rate = Schedule(epoch, optimizer.LearningRate);
        if (!(rate > 0) || double.IsPositiveInfinity(rate))
        {
            throw new InvalidOperationException(
                $"LearningRateScheduler: the schedule returned {PythonFloat.Repr(rate)} for epoch {epoch} (counted from 0); expected a positive, finite learning rate. The optimizer keeps {PythonFloat.Repr(optimizer.LearningRate)}.");
        }

        optimizer.LearningRate = rate;
        if (Verbose > 0)
        {
            Console.WriteLine($"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {PythonFloat.Repr(rate)}.");
        }
    }

    /// <summary>Writes the rate in force into the epoch logs as <c>learning_rate</c>.</summary>
    public override void OnEpochEnd(int epoch, Dictionary<string, double> logs)
    {
        ArgumentNullException.ThrowIfNull(logs);
        logs["learning_rate"] = Optimizer().LearningRate;
    }

    private Optimizers.Optimizer Optimizer() =>
        TrainingModel.Optimizer ?? throw new InvalidOperationException($"LearningRateScheduler: model '{TrainingModel.Name}' has no optimizer; call Compile before Fit.");
}
