using KerasStyle.Training.Losses;
using static TorchSharp.torch;

namespace KerasStyle.Training;

/// <summary>
/// A Keras metric: a per-batch mean that training averages over an epoch, weighted by batch size.
/// <c>accuracy</c> resolves as Keras does: binary (threshold 0.5) for one output unit or binary cross-entropy,
/// sparse categorical for sparse cross-entropy, categorical (argmax) otherwise.
/// </summary>
public sealed class Metric
{
    private readonly Func<Tensor, Tensor, Tensor> compute;

    private Metric(string name, Func<Tensor, Tensor, Tensor> compute)
    {
        Name = name;
        this.compute = compute;
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
            "accuracy" or "acc" when loss is BinaryCrossentropy || outputUnits == 1 =>
                new Metric(name, (y, p) => y.eq(p.gt(0.5).to_type(y.dtype)).to_type(ScalarType.Float32).mean()),
            "accuracy" or "acc" when loss.SparseTargets =>
                new Metric(name, (y, p) => y.reshape(-1).to_type(ScalarType.Int64).eq(p.argmax(-1)).to_type(ScalarType.Float32).mean()),
            "accuracy" or "acc" =>
                new Metric(name, (y, p) => y.argmax(-1).eq(p.argmax(-1)).to_type(ScalarType.Float32).mean()),
            "mae" or "mean_absolute_error" => new Metric(name, (y, p) => (y - p).abs().mean()),
            "mse" or "mean_squared_error" => new Metric(name, (y, p) => (y - p).square().mean()),
            _ => throw new ArgumentException($"Compile: unknown metric '{name}'; known metrics are {string.Join(", ", Known)}.", "metrics"),
        };
    }

    /// <summary>The metric's mean over one batch.</summary>
    internal Tensor Compute(Tensor target, Tensor output) => compute(target, output);
}
