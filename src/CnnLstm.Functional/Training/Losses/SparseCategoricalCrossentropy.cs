using static TorchSharp.torch;

namespace KerasStyle.Training.Losses;

/// <summary>
/// Keras' sparse_categorical_crossentropy: targets are class indices (shape (batch) or (batch, 1)), otherwise as
/// categorical cross-entropy.
/// </summary>
public sealed class SparseCategoricalCrossentropy : Loss
{
    /// <inheritdoc/>
    public override string Name => "sparse_categorical_crossentropy";

    internal override string? LogitsActivation => "softmax";

    internal override bool SparseTargets => true;

    internal override Tensor Compute(Tensor target, Tensor output, Tensor? logits)
    {
        if (output.dim() > 2)
        {
            // Class ids per step: the mean over every entry.
            return PerEntry(target, output, logits).mean();
        }

        var classes = target.reshape(-1).to_type(ScalarType.Int64);
        var logProbabilities = logits is not null
            ? logits.log_softmax(-1)
            : (output / output.sum(-1, keepdim: true)).clamp(BinaryCrossentropy.Epsilon, 1 - BinaryCrossentropy.Epsilon).log();
        return nn.functional.nll_loss(logProbabilities, classes);
    }

    internal override Tensor PerEntry(Tensor target, Tensor output, Tensor? logits)
    {
        var logProbabilities = logits is not null
            ? logits.log_softmax(-1)
            : (output / output.sum(-1, keepdim: true)).clamp(BinaryCrossentropy.Epsilon, 1 - BinaryCrossentropy.Epsilon).log();
        var classes = target.to_type(ScalarType.Int64).reshape(logProbabilities.shape[..^1].Append(1L).ToArray());
        return -logProbabilities.gather(-1, classes).squeeze(-1);
    }
}
