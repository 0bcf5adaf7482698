using KerasStyle.Engine;
using System.Text.Json.Nodes;
using KerasStyle.Graph;
using static TorchSharp.torch;

namespace KerasStyle.Training.Losses;

/// <summary>
/// Base of the Keras losses (keras/src/losses/loss.py): a per-entry value (the loss function, e.g. the mean over the
/// last axis for mse, the sum over classes for categorical cross-entropy), weighted by sample weights and masks, then
/// reduced as Keras 3's <c>reduce_weighted_values</c> with the loss's <see cref="Reduction"/>.
/// Call a loss on data with <see cref="Invoke(Tensor, Tensor, Tensor?, Tensor?)"/> (differentiable) or
/// <see cref="Invoke(Array, Array, Array?)"/>, as Keras' <c>loss(y_true, y_pred, sample_weight)</c>.
/// Subclass it as Keras' <c>Loss</c>: override <see cref="Call"/> (the per-entry loss, Keras' <c>call</c>) and, for
/// arguments of your own, <see cref="GetConfig"/>; such a loss works in <c>Compile</c>, <c>Fit</c> and <c>Evaluate</c>
/// (docs/training.md, "Writing your own loss").
/// </summary>
public abstract class Loss
{
    /// <summary>Keras 3's reductions (<c>standardize_reduction</c>); null is Keras' <c>None</c>, the same as <c>"none"</c>.</summary>
    public static IReadOnlyList<string> Reductions { get; } = new[] { "sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none" };

    /// <summary>Creates a loss with Keras' base arguments (for a subclass: Keras' <c>Loss.__init__</c>).</summary>
    /// <param name="reduction">One of <see cref="Reductions"/> (default <c>sum_over_batch_size</c>), or null (no reduction).</param>
    /// <param name="name">The loss's name, or null for the class name in snake case (<c>MyLoss</c>: <c>my_loss</c>), as Keras' <c>auto_name</c>.</param>
    /// <exception cref="ArgumentException">An unknown reduction or an empty name.</exception>
    protected Loss(string? reduction = "sum_over_batch_size", string? name = null)
        : this(reduction, name, null)
    {
    }

    /// <summary>Checks the arguments every loss takes.</summary>
    /// <param name="reduction">One of <see cref="Reductions"/>, or null (no reduction).</param>
    /// <param name="name">The loss's name, or null for <paramref name="defaultName"/>.</param>
    /// <param name="defaultName">The Keras default name; null for the class name in snake case.</param>
    /// <exception cref="ArgumentException">An unknown reduction or an empty name.</exception>
    private protected Loss(string? reduction, string? name, string? defaultName)
    {
        defaultName ??= NameScope.ToSnakeCase(GetType().Name);
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

    /// <summary>
    /// The Keras function (<c>keras.losses.huber</c>) a compile config names for this loss at its defaults; the
    /// default name unless Keras' class and function names differ (<c>Huber</c>: name <c>huber_loss</c>, function <c>huber</c>).
    /// </summary>
    internal virtual string KerasFunction => DefaultName;

    /// <summary>Whether the reduction leaves one loss per entry (Keras' <c>"none"</c> or <c>None</c>).</summary>
    internal bool Unreduced => Reduction is null or "none";

    /// <summary>
    /// The activation whose pre-activation values (logits) this loss can use for a stable equivalent, as Keras does
    /// when the model ends in that activation; null if none.
    /// </summary>
    internal virtual string? LogitsActivation => null;

    /// <summary>Whether targets are class indices (integers) rather than values shaped like the output.</summary>
    internal virtual bool SparseTargets => false;

    /// <summary>The class axis of class-id targets (<see cref="SparseTargets"/>), counted from the end when negative.</summary>
    internal virtual int ClassAxis => -1;

    /// <summary>A class id whose targets count for nothing (Keras' <c>ignore_class</c>), or null.</summary>
    internal virtual int? IgnoreClass => null;

    /// <summary>The Keras class name, written in saved configs: the C# class name (<c>BinaryCrossentropy</c>).</summary>
    internal string ClassName => GetType().Name;

    /// <summary>Whether the loss is one of this library's (saved as a <c>keras.losses</c> class) rather than a user's.</summary>
    internal bool IsBuiltIn => GetType().Assembly == typeof(Loss).Assembly;

    /// <summary>
    /// The loss of each entry, before reduction (Keras' <c>call</c>): a tensor with the batch axis first, usually the
    /// prediction's shape without its last axis (the mean over it, as <c>ops.mean(ops.square(y_pred - y_true), axis=-1)</c>).
    /// It must be differentiable in <paramref name="yPred"/> (TorchSharp operations only) for <c>Fit</c> to train with it.
    /// </summary>
    /// <param name="yTrue">The targets, float32, of the predictions' rank (a size-1 last axis added or dropped as Keras' <c>squeeze_or_expand_to_same_rank</c>).</param>
    /// <param name="yPred">The predictions, float32, (batch, ...).</param>
    /// <returns>The per-entry losses; sample weights and masks apply to their leading axes.</returns>
    protected abstract Tensor Call(Tensor yTrue, Tensor yPred);

    /// <summary>
    /// <see cref="Invoke(Array, Array, Array?)"/> for one-dimensional float arrays (which TorchSharp would also convert
    /// to tensors, making the call ambiguous otherwise).
    /// </summary>
    /// <returns>The reduced loss.</returns>
    public double Invoke(float[] yTrue, float[] yPred, float[]? sampleWeight = null) => Invoke((Array)yTrue, yPred, sampleWeight);

    /// <summary>
    /// The loss of each entry, using <paramref name="logits"/> (the output before its final activation) where the loss
    /// knows a stable form; <see cref="Call"/> otherwise.
    /// </summary>
    internal virtual Tensor PerEntry(Tensor target, Tensor output, Tensor? logits) => Call(target, output);

    /// <summary>Which entries count (false where the target is <see cref="IgnoreClass"/>), or null for all.</summary>
    internal virtual Tensor? ValidEntries(Tensor target, Tensor output) => null;

    /// <summary>Whether the per-entry values keep the batch and step axes, so sample weights and masks apply to them.</summary>
    internal virtual bool ReducesLastAxis(int rank) => true;

    /// <summary>Checks that the loss fits an output of <paramref name="shape"/>, at <c>Compile</c>.</summary>
    /// <exception cref="ArgumentException">The output does not fit (a class axis out of range, unknown classes).</exception>
    internal virtual void CheckOutput(Shape shape, string label)
    {
    }

    /// <summary>
    /// The Keras config (<c>get_config</c>): name and reduction, then the loss's own arguments. A subclass with
    /// arguments adds them to <c>base.GetConfig()</c>; a saved compile config holds it, and the factory registered
    /// with <see cref="CustomObjects.Register(string, Func{KerasStyle.Saving.LayerConfig, Loss})"/> reads it back.
    /// </summary>
    public virtual JsonObject GetConfig() => new() { ["name"] = Name, ["reduction"] = Reduction };

    /// <summary>
    /// The loss as a compile config holds it: the Keras function name when every argument is Keras' default (as
    /// <c>compile(loss="mse")</c> writes it), otherwise the serialized class; a user's class by its class name, as
    /// a custom layer (<c>registered_name</c>).
    /// </summary>
    internal JsonNode Serialize()
    {
        var config = GetConfig();
        if (!IsBuiltIn)
        {
            return new JsonObject { ["module"] = null, ["class_name"] = ClassName, ["config"] = config, ["registered_name"] = ClassName };
        }

        var defaults = Defaults()!.GetConfig();
        return JsonNode.DeepEquals(config, defaults) ? JsonValue.Create(KerasFunction)
            : new JsonObject { ["module"] = "keras.losses", ["class_name"] = ClassName, ["config"] = config, ["registered_name"] = null };
    }

    /// <summary>The same loss with Keras' default arguments (the library's losses), null for a user's.</summary>
    private protected virtual Loss? Defaults() => null;

    /// <summary>
    /// Keras' <c>loss(y_true, y_pred, sample_weight)</c> (<c>Loss.__call__</c>) on tensors: both converted to
    /// float32, ranks matched as Keras' <c>squeeze_or_expand_to_same_rank</c> (except class-id targets), per-entry
    /// losses (<see cref="Call"/>) weighted by <paramref name="sampleWeight"/> and <paramref name="mask"/> as Keras'
    /// <c>apply_mask</c>, then reduced by <see cref="Reduction"/>. Differentiable: <c>backward()</c> on the result
    /// gives the predictions' gradient (with <c>requires_grad</c>), as the loss <c>Fit</c> minimises.
    /// </summary>
    /// <param name="yTrue">Targets, (batch, ...): the predictions' shape, or with a size-1 last axis added or dropped; class ids for the sparse loss.</param>
    /// <param name="yPred">Predictions, (batch, ...).</param>
    /// <param name="sampleWeight">Null, or weights broadcastable to the per-entry losses after Keras' rank matching:
    /// (batch,) or (batch, 1) on (batch,) losses, (batch, 1), (batch, steps) or (batch, steps, 1) on (batch, steps)
    /// losses; under a mask (or <c>ignore_class</c>) the mask must broadcast to the weights, as Keras' in-place
    /// <c>apply_mask</c> needs (per-entry weights).</param>
    /// <param name="mask">Null, or Keras' mask of <paramref name="yPred"/> (its <c>_keras_mask</c>), the per-entry losses' shape, e.g. (batch, steps)
    /// (a size-1 last axis more or less is matched, as Keras' <c>squeeze_or_expand_to_same_rank</c>).</param>
    /// <returns>A scalar, or the weighted per-entry losses for the <c>none</c> reduction.</returns>
    /// <exception cref="ArgumentNullException">A null target or prediction.</exception>
    /// <exception cref="ArgumentException">Shapes that do not fit (targets, weights or mask against the predictions).</exception>
    public Tensor Invoke(Tensor yTrue, Tensor yPred, Tensor? sampleWeight = null, Tensor? mask = null)
    {
        using var scope = NewDisposeScope();
        var (targets, predictions) = EagerArguments.TargetsAndPredictions(yTrue, yPred, SparseTargets, $"{GetType().Name} '{Name}'", ClassAxis);
        var values = PerEntry(targets, predictions, null);
        if (mask is not null && !mask.shape.SequenceEqual(values.shape))
        {
            // Keras' squeeze_or_expand_to_same_rank between the mask (merged into the weights) and the losses: a
            // size-1 last axis more or less is matched ((batch, 1) mask on (batch,) losses, and the reverse).
            mask = mask.dim() == values.dim() + 1 && mask.shape[^1] == 1 ? mask.squeeze(-1)
                : values.dim() == mask.dim() + 1 && values.shape[^1] == 1 ? mask.unsqueeze(-1)
                : mask;
        }

        if (mask is not null && !mask.shape.SequenceEqual(values.shape))
        {
            throw new ArgumentException($"{GetType().Name} '{Name}': the mask has shape ({string.Join(", ", mask.shape)}) but the per-entry losses have shape ({string.Join(", ", values.shape)}).", nameof(mask));
        }

        Tensor? weights = null;
        if (sampleWeight is not null)
        {
            if ((mask ?? ValidEntries(targets, predictions)) is { } kept)
            {
                // Keras' apply_mask: sample_weight *= mask (in place, after squeeze_or_expand_to_same_rank), so the
                // mask must broadcast to the weights as given: (batch,) or (batch, 1) weights under a (batch, steps)
                // mask fail in Keras 3.16 ("output with shape [3, 1] doesn't match the broadcast shape [3, 2]").
                var (keptShape, givenShape) = EagerArguments.SameRank(kept, sampleWeight);
                EagerArguments.RequireBroadcast(keptShape.shape, givenShape.shape,
                    $"{GetType().Name} '{Name}': the mask ({(mask is null ? "ignore_class" : "the predictions' mask")}), which Keras 3.16 multiplies into the sample weights in place,", nameof(sampleWeight));
            }

            // Keras' reduce_weighted_values: squeeze_or_expand_to_same_rank(values, sample_weight), so (batch, 1)
            // weights on (batch,) losses make them (batch, 1) (the shape the none reduction returns).
            (values, weights) = EagerArguments.SameRank(values, EagerArguments.Float(sampleWeight, nameof(sampleWeight)));
            EagerArguments.RequireBroadcast(weights.shape, values.shape, $"{GetType().Name} '{Name}': sampleWeight", nameof(sampleWeight));
            mask = mask?.reshape(values.shape);
        }

        var (weighted, merged) = Weighted(values, targets, predictions, weights, mask?.to_type(ScalarType.Bool));
        // Unmasked, Keras' mean_with_sample_weight divides by the sum of the weights as given ((batch, 1) weights on
        // (batch, steps) losses count once per sample); a mask (or ignore_class) broadcasts them first (apply_mask).
        var broadcastWeights = mask is not null || ValidEntries(targets, predictions) is not null;
        return (Unreduced ? weighted : Reduce(weighted, merged, values.numel(), broadcastWeights)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// <see cref="Invoke(Tensor, Tensor, Tensor?, Tensor?)"/> on C# arrays (float, double, int, long or bool, any rank),
    /// as Keras' <c>loss(y_true, y_pred, sample_weight)</c> on numpy arrays; no gradient is recorded.
    /// </summary>
    /// <returns>The reduced loss.</returns>
    /// <exception cref="InvalidOperationException">The loss's reduction is <c>none</c>: use the tensor overload, which returns the per-entry losses.</exception>
    /// <exception cref="ArgumentException">Shapes that do not fit, or arrays of another element type.</exception>
    public double Invoke(Array yTrue, Array yPred, Array? sampleWeight = null)
    {
        if (Unreduced)
        {
            throw new InvalidOperationException($"{GetType().Name} '{Name}' has reduction '{Reduction ?? "null"}', which gives one loss per entry: call Invoke with tensors to get them.");
        }

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var weights = sampleWeight is null ? null : EagerArguments.ToTensor(sampleWeight, nameof(sampleWeight));
        return Invoke(EagerArguments.ToTensor(yTrue, nameof(yTrue)), EagerArguments.ToTensor(yPred, nameof(yPred)), weights).item<float>();
    }

    /// <summary>
    /// The batch's loss, as Keras 3's <c>Loss.__call__</c>: per-entry values (<see cref="PerEntry"/>) times the sample
    /// weights, with the output's mask and <see cref="ValidEntries"/> merged as <c>apply_mask</c> does (masked
    /// entries weigh 0; under <c>sum_over_batch_size</c> and <c>mean</c> the others weigh entries / unmasked
    /// entries), then reduced by <see cref="Reduction"/> (<c>reduce_values</c>, 0 where Keras divides by zero).
    /// </summary>
    /// <param name="target">The targets.</param>
    /// <param name="output">The output.</param>
    /// <param name="logits">The output before its final activation, when the loss uses it.</param>
    /// <param name="sampleWeights">One weight per sample, shape (batch,), or per sample and step ((batch, steps),
    /// (batch, steps, 1), (batch, 1)) as Keras 3.16 takes them, or null.</param>
    /// <param name="mask">The output's mask over the axes before the last, or null.</param>
    /// <param name="outputName">The output's layer name, for messages.</param>
    /// <exception cref="NotSupportedException">A mask whose shape is not the per-entry losses', or sample weights or a
    /// mask with an axis other than the last (Keras cannot broadcast them either).</exception>
    /// <exception cref="ArgumentException">Sample weights of rank 2 or more that do not fit the per-entry losses or the mask, as Keras refuses them.</exception>
    internal Tensor ComputeWeighted(Tensor target, Tensor output, Tensor? logits, Tensor? sampleWeights, Tensor? mask, string outputName)
    {
        if ((sampleWeights is not null || mask is not null) && !ReducesLastAxis((int)output.dim()))
        {
            throw new NotSupportedException($"{ClassName} '{Name}' on output '{outputName}': sample weights and masks apply per sample and step, but this loss reduces an axis other than the last; use axis -1.");
        }

        var values = PerEntry(target, output, logits);
        if (mask is not null && !values.shape.SequenceEqual(mask.shape))
        {
            throw new NotSupportedException($"output '{outputName}' has shape ({string.Join(", ", output.shape)}) but its mask has shape ({string.Join(", ", mask.shape)}); a loss can be masked only over the axes before the last.");
        }

        var weights = sampleWeights?.to_type(values.dtype);
        if (weights is not null && weights.dim() > 1)
        {
            // Weights given per sample and step ((batch, steps), (batch, steps, 1), (batch, 1)) follow Keras 3.16's
            // reduce_weighted_values: the mask must broadcast to them (apply_mask multiplies in place), then
            // squeeze_or_expand_to_same_rank against the per-entry losses, which they must broadcast to.
            var owner = $"{ClassName} '{Name}' on output '{outputName}'";
            if ((mask ?? ValidEntries(target, output)) is { } kept)
            {
                var (keptShape, givenShape) = EagerArguments.SameRank(kept, weights);
                EagerArguments.RequireBroadcast(keptShape.shape, givenShape.shape, $"{owner}: the mask, which Keras 3.16 multiplies into the sample weights in place,", "sampleWeight");
            }

            (values, weights) = EagerArguments.SameRank(values, weights);
            EagerArguments.RequireBroadcast(weights.shape, values.shape, $"{owner}: sampleWeight (a batch of it)", "sampleWeight");
            mask = mask?.reshape(values.shape);
        }

        // Per-sample weights ((batch,)) broadcast over the steps, as tf.keras 2 did (Keras 3.16 raises a broadcast error).
        while (weights is not null && weights.dim() < values.dim())
        {
            weights = weights.unsqueeze(-1);
        }

        var (weighted, merged) = Weighted(values, target, output, weights, mask);
        return Reduce(weighted, merged, values.numel());
    }

    /// <summary>
    /// The per-entry losses times the sample weights merged with the mask and <see cref="ValidEntries"/> as Keras'
    /// <c>apply_mask</c> (masked entries weigh 0; under <c>sum_over_batch_size</c> and <c>mean</c> the others weigh
    /// entries / unmasked entries), and those merged weights (null when there are none).
    /// </summary>
    private (Tensor Weighted, Tensor? Weights) Weighted(Tensor values, Tensor target, Tensor output, Tensor? weights, Tensor? mask)
    {
        var valid = ValidEntries(target, output)?.reshape(values.shape);
        var kept = mask is null ? valid : valid is null ? mask : mask.logical_and(valid);
        if (kept is not null)
        {
            var keptWeights = kept.to_type(values.dtype);
            if (Reduction is "sum_over_batch_size" or "mean")
            {
                // Keras' apply_mask: kept entries weigh total / kept, so the mean over all entries is over the kept ones.
                var count = keptWeights.sum();
                keptWeights = keptWeights * where(count.gt(Scalars.Zero), Scalars.With(kept.numel(), entries => count.reciprocal().mul(entries)), zeros_like(count));
            }

            weights = weights is null ? keptWeights : weights * keptWeights;
        }

        return (weights is null ? values : values * weights, weights);
    }

    /// <summary>Keras' <c>reduce_values</c> of the weighted losses (0 where Keras divides by zero); <c>none</c> gives their mean, as <c>Evaluate</c>'s loss tracker.</summary>
    private Tensor Reduce(Tensor weighted, Tensor? weights, long entries, bool broadcastWeights = true)
    {
        var sum = weighted.sum();
        return Reduction switch
        {
            "sum" => sum,
            "mean_with_sample_weight" when weights is not null => DivideNoNan(sum, (broadcastWeights ? weights.expand_as(weighted) : weights).sum()),
            _ => entries == 0 ? zeros_like(sum) : Scalars.With(entries, count => sum.div(count)),
        };
    }

    /// <summary>Keras' <c>divide_no_nan</c>: 0 where the divisor is 0.</summary>
    private static Tensor DivideNoNan(Tensor numerator, Tensor denominator) =>
        where(denominator.eq(Scalars.Zero), zeros_like(numerator), numerator / where(denominator.eq(Scalars.Zero), ones_like(denominator), denominator));

    /// <summary>An axis in [-rank, rank) as an index in [0, rank).</summary>
    /// <exception cref="ArgumentException">The axis is out of range.</exception>
    private protected int CanonicalAxis(int axis, int rank, string label) =>
        axis >= -rank && axis < rank ? (axis + rank) % rank
        : throw new ArgumentException($"Compile: {ClassName} '{Name}' has axis {axis}, but output {label} has rank {rank} (axes {-rank} to {rank - 1}).", "loss");
}
