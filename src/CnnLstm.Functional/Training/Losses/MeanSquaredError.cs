using static TorchSharp.torch;

namespace KerasStyle.Training.Losses;

/// <summary>Keras' mean_squared_error (<c>mse</c>): mean of (y - p)² over the last axis and the batch.</summary>
public sealed class MeanSquaredError : Loss
{
    /// <inheritdoc/>
    public override string Name => "mean_squared_error";

    internal override Tensor Compute(Tensor target, Tensor output, Tensor? logits) =>
        nn.functional.mse_loss(output, target);

    internal override Tensor PerEntry(Tensor target, Tensor output, Tensor? logits) => (output - target).square().mean(new long[] { -1 });
}
