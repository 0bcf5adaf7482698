using KerasStyle.Training.Losses;
using static TorchSharp.torch;

namespace KerasStyle.Training;

/// <summary>
/// A Keras metric: a per-batch mean that training averages over an epoch, weighted by batch size.
/// <c>accuracy</c> resolves as Keras 3 does: binary (threshold 0.5) for one output unit, sparse categorical for
/// sparse cross-entropy, categorical (argmax) otherwise, also with binary cross-entropy on several units.
/// </summary>
public sealed class Metric
{
    private readonly Func<Tensor, Tensor, Tensor> compute;
    private readonly Func<Tensor, Tensor, Tensor> perEntry;

    private Metric(string name, Func<Tensor, Tensor, Tensor> compute, Func<Tensor, Tensor, Tensor> perEntry)
    {
        Name = name;
        this.compute = compute;
        this.perEntry = perEntry;
    }

    /// <summary>The names <see cref="Resolve"/> accepts.</summary>
    public static IReadOnlyList<string> Known { get; } = new[] { "accuracy", "acc", "mae", "mean_absolute_error", "mse", "mean_squared_error" };

    /// <summary>The name used in logs and history, e.g. <c>accuracy</c>.</summary>
    public string Name { get; }

    /// <summary>Resolves a Keras metric name for a model output and loss.</summary>
    /// <param name="name">The metric name.</param>
    /// <param name="loss">The loss of that output.</param>
    /// <param name="outputUnits">The output's last dimension.</param>
    public static Metric Resolve(string name, Loss loss, int? outputUnits)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(loss);
        return name switch
        {
            // Keras 3's rule (compile_utils.is_binary_or_sparse_categorical): binary for one output unit, whatever
            // the loss; sparse for class-id targets; categorical (argmax) otherwise, binary cross-entropy included.
            "accuracy" or "acc" when outputUnits == 1 =>
                new Metric(name, (y, p) => y.eq(p.gt(0.5).to_type(y.dtype)).to_type(ScalarType.Float32).mean(),
                    (y, p) => y.eq(p.gt(0.5).to_type(y.dtype)).to_type(ScalarType.Float32).mean(new long[] { -1 })),
            "accuracy" or "acc" when loss.SparseTargets =>
                new Metric(name, (y, p) => y.reshape(p.shape[..^1]).to_type(ScalarType.Int64).eq(p.argmax(-1)).to_type(ScalarType.Float32).mean(),
                    (y, p) => y.reshape(p.shape[..^1]).to_type(ScalarType.Int64).eq(p.argmax(-1)).to_type(ScalarType.Float32)),
            "accuracy" or "acc" =>
                new Metric(name, (y, p) => y.argmax(-1).eq(p.argmax(-1)).to_type(ScalarType.Float32).mean(),
                    (y, p) => y.argmax(-1).eq(p.argmax(-1)).to_type(ScalarType.Float32)),
            "mae" or "mean_absolute_error" => new Metric(name, (y, p) => (y - p).abs().mean(), (y, p) => (y - p).abs().mean(new long[] { -1 })),
            "mse" or "mean_squared_error" => new Metric(name, (y, p) => (y - p).square().mean(), (y, p) => (y - p).square().mean(new long[] { -1 })),
            _ => throw new ArgumentException($"Compile: unknown metric '{name}'; known metrics are {string.Join(", ", Known)}.", "metrics"),
        };
    }

    /// <summary>The metric's mean over one batch.</summary>
    internal Tensor Compute(Tensor target, Tensor output) => compute(target, output);

    /// <summary>
    /// The metric over an output that carries a mask, as Keras 3's <c>MeanMetricWrapper</c> with the mask as sample
    /// weights: the mean of each entry's value over the unmasked entries (0 when there are none), and that count,
    /// which weights the batch in the epoch's mean (Keras' <c>Mean</c> keeps the weighted total and the count).
    /// </summary>
    internal (Tensor Value, Tensor Weight) ComputeMasked(Tensor target, Tensor output, Tensor mask, string outputName)
    {
        var values = perEntry(target, output);
        if (!values.shape.SequenceEqual(mask.shape))
        {
            throw new NotSupportedException($"the metric {Name} on output '{outputName}' gives values of shape ({string.Join(", ", values.shape)}) but the mask has shape ({string.Join(", ", mask.shape)}).");
        }

        var weights = mask.to_type(values.dtype);
        var count = weights.sum();
        return (count.item<float>() > 0 ? (values * weights).sum() / count : zeros_like(count), count);
    }
}
