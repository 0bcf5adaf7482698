using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Training.Schedules;
using static TorchSharp.torch;

namespace KerasStyle.Training.Optimizers;

/// <summary>
/// Keras 3's AdamW (keras/src/optimizers/adamw.py): <see cref="Adam"/> with decoupled weight decay. Before each
/// step every updated weight is scaled by 1 - lr · weight_decay (Keras' <c>_apply_weight_decay</c>, as the torch
/// backend computes it), then Adam's update runs. The decay is this class's own: the base optimizer has no
/// <c>weight_decay</c> option here.
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
    /// <exception cref="ArgumentOutOfRangeException">An argument outside its range.</exception>
    public AdamW(LearningRateOrSchedule? learningRate = null, double weightDecay = 0.004, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-7, bool amsgrad = false)
        : base(learningRate ?? 0.001, beta1, beta2, epsilon, amsgrad)
    {
        if (!double.IsFinite(weightDecay))
        {
            throw new ArgumentOutOfRangeException(nameof(weightDecay), weightDecay, "AdamW: weight_decay must be a finite number (Keras refuses None).");
        }

        WeightDecay = weightDecay;
    }

    /// <summary>The decoupled weight decay: each step multiplies a weight by 1 - lr · weight_decay before Adam's update.</summary>
    public double WeightDecay { get; }

    /// <summary>The decay changes every row of the weight, so row-wise gradients take the dense path.</summary>
    private protected override bool UpdateByRows(Tensor variable, Tensor ids, Tensor rowGrad, Tensor[] state, long step) => false;

    /// <summary>Adam's config with <c>weight_decay</c> set (Keras' key order).</summary>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["weight_decay"] = WeightDecay;
        return config;
    }

    /// <inheritdoc/>
    protected override void Update(Tensor variable, Tensor grad, Tensor[] state, long step)
    {
        // keras/src/backend/torch/optimizers/torch_optimizer.py _apply_weight_decay: v *= 1 - wd * lr (float32 lr).
        Scalars.With(1 - (WeightDecay * (float)LearningRate), factor => variable.mul_(factor));
        base.Update(variable, grad, state, step);
    }
}
