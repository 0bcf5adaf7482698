using KerasStyle.Training.Schedules;

namespace KerasStyle.Training.Optimizers;

/// <summary>
/// Keras 3's AdamW (keras/src/optimizers/adamw.py): <see cref="Adam"/> whose base option
/// <see cref="Optimizer.WeightDecay"/> is required (default 0.004): before each update every updated weight is scaled
/// by 1 - lr · weight_decay (Keras' <c>_apply_weight_decay</c>, as the torch backend computes it, honouring
/// <see cref="Optimizer.ExcludeFromWeightDecay"/>), then Adam's update runs.
/// </summary>
public sealed class AdamW : Adam
{
    /// <summary>Creates AdamW with Keras defaults.</summary>
    /// <param name="learningRate">Learning rate (Keras default 0.001).</param>
    /// <param name="weightDecay">Decoupled weight decay per unit of learning rate (Keras default 0.004); must be finite.</param>
    /// <param name="beta1">Decay of the first moment, in [0, 1).</param>
    /// <param name="beta2">Decay of the second moment, in [0, 1).</param>
    /// <param name="epsilon">Added to √v; must be positive.</param>
    /// <param name="amsgrad">Whether to use the running maximum of v (AMSGrad), kept in a third slot <c>velocity_hat</c>.</param>
    /// <param name="name">Keras' <c>name</c>; null (the default) gives the class's snake-case name made unique (<c>adam_w</c>, then <c>adam_w_1</c>, ...; <see cref="Optimizer.Name"/>).</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument outside its range.</exception>
    public AdamW(LearningRateOrSchedule? learningRate = null, double weightDecay = 0.004, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-7, bool amsgrad = false, string? name = null)
        : base(learningRate ?? 0.001, beta1, beta2, epsilon, amsgrad, name)
    {
        if (!double.IsFinite(weightDecay))
        {
            throw new ArgumentOutOfRangeException(nameof(weightDecay), weightDecay, "AdamW: weight_decay must be a finite number (Keras refuses None).");
        }

        WeightDecay = weightDecay;
    }
}
