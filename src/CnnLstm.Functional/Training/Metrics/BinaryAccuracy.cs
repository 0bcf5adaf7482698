using System.Text.Json.Nodes;
using KerasStyle.Engine;
using static TorchSharp.torch;

namespace KerasStyle.Training.Metrics;

/// <summary>
/// Keras' <c>BinaryAccuracy</c> (keras/src/metrics/accuracy_metrics.py): the mean over the last axis of
/// y == (p &gt; threshold), averaged over samples (weighted).
/// </summary>
public sealed class BinaryAccuracy : MeanMetricWrapper
{
    /// <summary>Creates the metric with Keras' arguments and defaults.</summary>
    /// <param name="name">The logged name.</param>
    /// <param name="threshold">A prediction above it counts as 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="threshold"/> is not finite.</exception>
    /// <exception cref="ArgumentException">An empty name.</exception>
    public BinaryAccuracy(string name = "binary_accuracy", double threshold = 0.5)
        : base(Hits(threshold), name)
    {
        Threshold = threshold;
    }

    /// <summary>The threshold above which a prediction counts as 1.</summary>
    public double Threshold { get; }

    /// <inheritdoc/>
    public override JsonObject GetConfig() => WithArguments(new JsonObject { ["threshold"] = Threshold });

    /// <exception cref="ArgumentOutOfRangeException"><paramref name="threshold"/> is not finite (checked here, before the base constructor).</exception>
    private static Func<Tensor, Tensor, Tensor> Hits(double threshold) => double.IsFinite(threshold)
        ? (y, p) => y.eq(p.gt(Scalars.Of(threshold)).to_type(y.dtype)).to_type(ScalarType.Float32).mean(new long[] { -1 })
        : throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "threshold must be finite.");
}
