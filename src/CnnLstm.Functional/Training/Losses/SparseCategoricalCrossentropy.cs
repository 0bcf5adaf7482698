using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using static TorchSharp.torch;

namespace KerasStyle.Training.Losses;

/// <summary>
/// Keras' <c>SparseCategoricalCrossentropy</c> (keras/src/losses/losses.py <c>sparse_categorical_crossentropy</c>, torch
/// backend): targets are class indices (the output's shape without its class axis, or with it as 1), otherwise as
/// categorical cross-entropy. Targets equal to <see cref="IgnoreClass"/> count for nothing: their loss is 0 and they
/// are masked out of the reduction, as Keras does. The class axis (<see cref="Axis"/>) may be any but the batch axis.
/// </summary>
public sealed class SparseCategoricalCrossentropy : Loss
{
    /// <summary>Creates the loss with Keras' arguments and defaults.</summary>
    /// <param name="fromLogits">Whether the output holds logits rather than probabilities.</param>
    /// <param name="ignoreClass">A class id (e.g. -1 or 255 for "void") whose targets are ignored, or null.</param>
    /// <param name="reduction">See <see cref="Loss.Reduction"/>.</param>
    /// <param name="axis">The class axis (-1, the last, by default), as Keras: e.g. 1 for a (batch, classes, steps)
    /// output, whose targets are then (batch, steps) class ids. <c>Compile</c> refuses the batch axis.</param>
    /// <param name="name">The loss's name.</param>
    /// <exception cref="ArgumentException">An unknown reduction or an empty name.</exception>
    public SparseCategoricalCrossentropy(bool fromLogits = false, int? ignoreClass = null, string? reduction = "sum_over_batch_size", int axis = -1, string name = "sparse_categorical_crossentropy")
        : base(reduction, name, "sparse_categorical_crossentropy")
    {
        FromLogits = fromLogits;
        IgnoreClassId = ignoreClass;
        Axis = axis;
    }

    /// <summary>Whether the output holds logits.</summary>
    public bool FromLogits { get; }

    /// <summary>The ignored class id, or null.</summary>
    public int? IgnoreClassId { get; }

    /// <summary>The class axis.</summary>
    public int Axis { get; }

    internal override string? LogitsActivation => FromLogits ? null : "softmax";

    internal override bool SparseTargets => true;

    internal override int? IgnoreClass => IgnoreClassId;

    internal override void CheckOutput(Shape shape, string label)
    {
        var axis = CanonicalAxis(Axis, shape.Rank, label);
        if (axis == 0)
        {
            throw new ArgumentException($"Compile: {ClassName} '{Name}' has axis {Axis}, the batch axis of output {label} {shape}; the class axis must be another.", "loss");
        }

        if (shape[axis] is null)
        {
            throw new ArgumentException($"Compile: {Name} needs a known number of classes along axis {Axis}, but output {label} has shape {shape}.", "loss");
        }
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor yTrue, Tensor yPred) => PerEntry(yTrue, yPred, null);

    internal override int ClassAxis => Axis;

    internal override Tensor PerEntry(Tensor target, Tensor output, Tensor? logits)
    {
        var valid = ValidEntries(target, output);
        var axis = CanonicalAxis(Axis, (int)output.dim(), string.Empty);
        if (axis != output.dim() - 1)
        {
            // Keras' class axis elsewhere: the classes moved last, the rest in order.
            output = output.movedim(new long[] { axis }, new long[] { -1 });
            logits = null;
        }

        var logProbabilities = FromLogits ? output.log_softmax(-1)
            : logits is not null ? logits.log_softmax(-1)
            : SmoothedCrossentropy.Clipped(output / output.sum(-1, keepdim: true)).log();
        var classes = target.to_type(ScalarType.Int64).reshape(logProbabilities.shape[..^1]);
        if (valid is not null)
        {
            // Ignored ids (often -1 or 255) are no index: gather class 0 there and zero its loss, as Keras does.
            classes = where(valid, classes, zeros_like(classes));
        }

        var entries = -logProbabilities.gather(-1, classes.unsqueeze(-1)).squeeze(-1);
        return valid is null ? entries : where(valid, entries, zeros_like(entries));
    }

    internal override Tensor? ValidEntries(Tensor target, Tensor output)
    {
        if (IgnoreClassId is not { } ignored)
        {
            return null;
        }

        var axis = CanonicalAxis(Axis, (int)output.dim(), string.Empty);
        return target.reshape(output.shape.Where((_, i) => i != axis).ToArray()).ne(Scalars.OfInt(ignored));
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["from_logits"] = FromLogits;
        config["ignore_class"] = IgnoreClassId;
        config["axis"] = Axis;
        return config;
    }

    private protected override Loss? Defaults() => new SparseCategoricalCrossentropy();
}
