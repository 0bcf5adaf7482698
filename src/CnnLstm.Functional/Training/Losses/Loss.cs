using System.Text.Json.Nodes;
using KerasStyle.Graph;
using static TorchSharp.torch;

namespace KerasStyle.Training.Losses;

/// <summary>
/// Base of the Keras losses (keras/src/losses/loss.py): a per-entry value (the loss function, e.g. the mean over the
/// last axis for mse, the sum over classes for categorical cross-entropy), weighted by sample weights and masks, then
/// reduced as Keras 3's <c>reduce_weighted_values</c> with the loss's <see cref="Reduction"/>.
/// </summary>
public abstract class Loss
{
    /// <summary>Keras 3's reductions (<c>standardize_reduction</c>); null is Keras' <c>None</c>, the same as <c>"none"</c>.</summary>
    public static IReadOnlyList<string> Reductions { get; } = new[] { "sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none" };

    /// <summary>Checks the arguments every loss takes.</summary>
    /// <param name="reduction">One of <see cref="Reductions"/>, or null (no reduction).</param>
    /// <param name="name">The loss's name, or null for <paramref name="defaultName"/>.</param>
    /// <param name="defaultName">The Keras default name.</param>
    /// <exception cref="ArgumentException">An unknown reduction or an empty name.</exception>
    private protected Loss(string? reduction, string? name, string defaultName)
    {
        if (reduction is not null && !Reductions.Contains(reduction))
        {
            throw new ArgumentException($"{GetType().Name}: unknown reduction '{reduction}'; Keras 3's reductions are {string.Join(", ", Reductions)} (or null).", nameof(reduction));
        }

        if (name is not null && string.IsNullOrWhiteSpace(name))
        {
            throw new ArgumentException($"{GetType().Name}: the name must not be empty.", nameof(name));
        }

        Reduction = reduction;
        Name = name ?? defaultName;
        DefaultName = defaultName;
    }

    /// <summary>The loss's name (Keras' <c>name</c>), by default the Keras function name, e.g. <c>binary_crossentropy</c>.</summary>
    public string Name { get; }

    /// <summary>
    /// How per-entry losses become the batch's loss: <c>sum_over_batch_size</c> (default) and <c>mean</c> divide the
    /// weighted sum by the number of entries (by the unmasked ones under a mask), <c>sum</c> is the weighted sum,
    /// <c>mean_with_sample_weight</c> divides by the sum of the weights; <c>none</c> (or null) keeps one loss per
    /// entry, which <c>Evaluate</c> averages (Keras' loss tracker) and <c>Fit</c> refuses (Keras cannot take the
    /// gradient of a vector either).
    /// </summary>
    public string? Reduction { get; }

    /// <summary>The Keras function name, which a compile config holds for a loss at its defaults.</summary>
    internal string DefaultName { get; }

    /// <summary>Whether the reduction leaves one loss per entry (Keras' <c>"none"</c> or <c>None</c>).</summary>
    internal bool Unreduced => Reduction is null or "none";

    /// <summary>
    /// The activation whose pre-activation values (logits) this loss can use for a stable equivalent, as Keras does
    /// when the model ends in that activation; null if none.
    /// </summary>
    internal virtual string? LogitsActivation => null;

    /// <summary>Whether targets are class indices (integers) rather than values shaped like the output.</summary>
    internal virtual bool SparseTargets => false;

    /// <summary>A class id whose targets count for nothing (Keras' <c>ignore_class</c>), or null.</summary>
    internal virtual int? IgnoreClass => null;

    /// <summary>The Keras class name, e.g. <c>BinaryCrossentropy</c>.</summary>
    internal abstract string ClassName { get; }

    /// <summary>
    /// The loss of each entry, before reduction, as Keras' loss functions return it: for the losses over the last
    /// axis, the output's shape without it.
    /// </summary>
    internal abstract Tensor PerEntry(Tensor target, Tensor output, Tensor? logits);

    /// <summary>Which entries count (false where the target is <see cref="IgnoreClass"/>), or null for all.</summary>
    internal virtual Tensor? ValidEntries(Tensor target, Tensor output) => null;

    /// <summary>Whether the per-entry values keep the batch and step axes, so sample weights and masks apply to them.</summary>
    internal virtual bool ReducesLastAxis(int rank) => true;

    /// <summary>Checks that the loss fits an output of <paramref name="shape"/>, at <c>Compile</c>.</summary>
    /// <exception cref="ArgumentException">The output does not fit (a class axis out of range, unknown classes).</exception>
    internal virtual void CheckOutput(Shape shape, string label)
    {
    }

    /// <summary>The Keras config (<c>get_config</c>): name and reduction, then the loss's own arguments.</summary>
    internal virtual JsonObject Config() => new() { ["name"] = Name, ["reduction"] = Reduction };

    /// <summary>
    /// The loss as a compile config holds it: the Keras function name when every argument is Keras' default (as
    /// <c>compile(loss="mse")</c> writes it), otherwise the serialized class.
    /// </summary>
    internal JsonNode Serialize()
    {
        var config = Config();
        var defaults = Defaults().Config();
        return JsonNode.DeepEquals(config, defaults) ? JsonValue.Create(DefaultName)
            : new JsonObject { ["module"] = "keras.losses", ["class_name"] = ClassName, ["config"] = config, ["registered_name"] = null };
    }

    /// <summary>The same loss with Keras' default arguments.</summary>
    private protected abstract Loss Defaults();

    /// <summary>
    /// The batch's loss, as Keras 3's <c>Loss.__call__</c>: per-entry values (<see cref="PerEntry"/>) times the sample
    /// weights, with the output's mask and <see cref="ValidEntries"/> merged as <c>apply_mask</c> does (masked
    /// entries weigh 0; under <c>sum_over_batch_size</c> and <c>mean</c> the others weigh entries / unmasked
    /// entries), then reduced by <see cref="Reduction"/> (<c>reduce_values</c>, 0 where Keras divides by zero).
    /// </summary>
    /// <param name="target">The targets.</param>
    /// <param name="output">The output.</param>
    /// <param name="logits">The output before its final activation, when the loss uses it.</param>
    /// <param name="sampleWeights">One weight per sample, shape (batch,), or null.</param>
    /// <param name="mask">The output's mask over the axes before the last, or null.</param>
    /// <param name="outputName">The output's layer name, for messages.</param>
    /// <exception cref="NotSupportedException">A mask whose shape is not the per-entry losses', or sample weights or a
    /// mask with an axis other than the last (Keras cannot broadcast them either).</exception>
    internal Tensor ComputeWeighted(Tensor target, Tensor output, Tensor? logits, Tensor? sampleWeights, Tensor? mask, string outputName)
    {
        if ((sampleWeights is not null || mask is not null) && !ReducesLastAxis((int)output.dim()))
        {
            throw new NotSupportedException($"{ClassName} '{Name}' on output '{outputName}': sample weights and masks apply per sample and step, but this loss reduces an axis other than the last; use axis -1.");
        }

        var values = PerEntry(target, output, logits);
        var valid = ValidEntries(target, output);
        if (mask is not null && !values.shape.SequenceEqual(mask.shape))
        {
            throw new NotSupportedException($"output '{outputName}' has shape ({string.Join(", ", output.shape)}) but its mask has shape ({string.Join(", ", mask.shape)}); a loss can be masked only over the axes before the last.");
        }

        var kept = mask is null ? valid : valid is null ? mask : mask.logical_and(valid);
        var weights = sampleWeights?.to_type(values.dtype);
        while (weights is not null && weights.dim() < values.dim())
        {
            weights = weights.unsqueeze(-1);
        }

        if (kept is not null)
        {
            var keptWeights = kept.to_type(values.dtype);
            if (Reduction is "sum_over_batch_size" or "mean")
            {
                // Keras' apply_mask: kept entries weigh total / kept, so the mean over all entries is over the kept ones.
                var count = keptWeights.sum();
                keptWeights = keptWeights * where(count.gt(0), kept.numel() / count, zeros_like(count));
            }

            weights = weights is null ? keptWeights : weights * keptWeights;
        }

        var weighted = weights is null ? values : values * weights;
        var sum = weighted.sum();
        return Reduction switch
        {
            "sum" => sum,
            "mean_with_sample_weight" when weights is not null => DivideNoNan(sum, weights.expand_as(values).sum()),
            _ => values.numel() == 0 ? zeros_like(sum) : sum / values.numel(),
        };
    }

    /// <summary>Keras' <c>divide_no_nan</c>: 0 where the divisor is 0.</summary>
    private static Tensor DivideNoNan(Tensor numerator, Tensor denominator) =>
        where(denominator.eq(0), zeros_like(numerator), numerator / where(denominator.eq(0), ones_like(denominator), denominator));

    /// <summary>An axis in [-rank, rank) as an index in [0, rank).</summary>
    /// <exception cref="ArgumentException">The axis is out of range.</exception>
    private protected int CanonicalAxis(int axis, int rank, string label) =>
        axis >= -rank && axis < rank ? (axis + rank) % rank
        : throw new ArgumentException($"Compile: {ClassName} '{Name}' has axis {axis}, but output {label} has rank {rank} (axes {-rank} to {rank - 1}).", "loss");
}
