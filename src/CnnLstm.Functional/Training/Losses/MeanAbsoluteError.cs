using static TorchSharp.torch;

namespace KerasStyle.Training.Losses;

/// <summary>Keras' mean_absolute_error (<c>mae</c>): mean of |y - p| over the last axis and the batch.</summary>
public sealed class MeanAbsoluteError : Loss
{
    /// <inheritdoc/>
    public override string Name => "mean_absolute_error";

    internal override Tensor Compute(Tensor target, Tensor output, Tensor? logits) =>
        nn.functional.l1_loss(output, target);

    internal override Tensor PerEntry(Tensor target, Tensor output, Tensor? logits) => (output - target).abs().mean(new long[] { -1 });
}
