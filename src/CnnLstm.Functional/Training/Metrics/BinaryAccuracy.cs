using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace KerasStyle.Training.Metrics;

/// <summary>
/// Keras' <c>BinaryAccuracy</c> (keras/src/metrics/accuracy_metrics.py): the mean over the last axis of
/// y == (p &gt; threshold), averaged over samples (weighted).
/// </summary>
public sealed class BinaryAccuracy : Metric
{
    private readonly Func<Tensor, Tensor, Tensor?, Tensor> statistics;

    /// <summary>Creates the metric with Keras' arguments and defaults.</summary>
    /// <param name="name">The logged name.</param>
    /// <param name="threshold">A prediction above it counts as 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="threshold"/> is not finite.</exception>
    /// <exception cref="ArgumentException">An empty name.</exception>
    public BinaryAccuracy(string name = "binary_accuracy", double threshold = 0.5)
        : base(name)
    {
        Threshold = double.IsFinite(threshold) ? threshold : throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "threshold must be finite.");
        statistics = MeanStatistics((y, p) => y.eq(p.gt(Threshold).to_type(y.dtype)).to_type(ScalarType.Float32).mean(new long[] { -1 }));
    }

    /// <summary>The threshold above which a prediction counts as 1.</summary>
    public double Threshold { get; }

    internal override Tensor Statistics(Tensor target, Tensor output, Tensor? weights) => statistics(target, output, weights);

    internal override double Result(double[] statistics) => Ratio(statistics[0], statistics[1]);

    internal override JsonNode Serialize() => Serialized("BinaryAccuracy", new JsonObject { ["threshold"] = Threshold });
}
