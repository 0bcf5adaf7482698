using static TorchSharp.torch;

namespace KerasStyle.Training.Losses;

/// <summary>
/// Keras' categorical_crossentropy on one-hot targets: predictions normalised to sum 1 and clipped to
/// [1e-7, 1 - 1e-7], -Σ y log p over classes, mean over the batch. From logits when the model ends in a softmax.
/// </summary>
public sealed class CategoricalCrossentropy : Loss
{
    /// <inheritdoc/>
    public override string Name => "categorical_crossentropy";

    internal override string? LogitsActivation => "softmax";

    internal override Tensor Compute(Tensor target, Tensor output, Tensor? logits)
    {
        if (logits is not null)
        {
            return -(target * logits.log_softmax(-1)).sum(-1).mean();
        }

        var p = (output / output.sum(-1, keepdim: true)).clamp(BinaryCrossentropy.Epsilon, 1 - BinaryCrossentropy.Epsilon);
        return -(target * p.log()).sum(-1).mean();
    }

    internal override Tensor PerEntry(Tensor target, Tensor output, Tensor? logits) =>
        -(target * (logits is not null ? logits.log_softmax(-1)
            : (output / output.sum(-1, keepdim: true)).clamp(BinaryCrossentropy.Epsilon, 1 - BinaryCrossentropy.Epsilon).log())).sum(-1);
}
