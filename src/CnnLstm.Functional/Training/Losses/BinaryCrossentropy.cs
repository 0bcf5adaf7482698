using static TorchSharp.torch;

namespace KerasStyle.Training.Losses;

/// <summary>
/// Keras' binary_crossentropy: predictions clipped to [1e-7, 1 - 1e-7], -(y log p + (1 - y) log(1 - p)), mean over
/// the last axis and the batch. When the model ends in a sigmoid it is computed from the logits, as Keras does.
/// </summary>
public sealed class BinaryCrossentropy : Loss
{
    /// <summary>Keras' backend epsilon.</summary>
    internal const double Epsilon = 1e-7;

    /// <inheritdoc/>
    public override string Name => "binary_crossentropy";

    internal override string? LogitsActivation => "sigmoid";

    internal override Tensor Compute(Tensor target, Tensor output, Tensor? logits)
    {
        if (logits is not null)
        {
            return nn.functional.binary_cross_entropy_with_logits(logits, target);
        }

        var p = output.clamp(Epsilon, 1 - Epsilon);
        return -((target * p.log()) + ((1 - target) * (1 - p).log())).mean();
    }

    internal override Tensor PerEntry(Tensor target, Tensor output, Tensor? logits)
    {
        if (logits is not null)
        {
            return nn.functional.binary_cross_entropy_with_logits(logits, target, reduction: nn.Reduction.None).mean(new long[] { -1 });
        }

        var p = output.clamp(Epsilon, 1 - Epsilon);
        return -((target * p.log()) + ((1 - target) * (1 - p).log())).mean(new long[] { -1 });
    }
}
