using KerasStyle.Engine;
using static TorchSharp.torch;

namespace KerasStyle.Training.Metrics;

/// <summary>
/// Keras' <c>MeanMetricWrapper</c> (keras/src/metrics/reduction_metrics.py): the weighted mean over every entry of
/// a per-entry function of targets and predictions (the class axis reduced), kept as a weighted total and a total
/// weight. The base of the library's accuracy and regression metrics.
/// </summary>
public abstract class MeanMetricWrapper : Metric
{
    private readonly Func<Tensor, Tensor, Tensor?, Tensor> statistics;

    /// <summary>Wraps <paramref name="perEntry"/>.</summary>
    /// <param name="perEntry">The value of each entry: (targets, predictions) to a tensor of the predictions' shape without the last axis.</param>
    /// <param name="name">The logged name.</param>
    /// <exception cref="ArgumentException">An empty name.</exception>
    private protected MeanMetricWrapper(Func<Tensor, Tensor, Tensor> perEntry, string name)
        : base(name)
    {
        statistics = MeanStatistics(perEntry);
    }

    internal override bool FromStatistics => true;

    internal override Tensor Statistics(Tensor target, Tensor output, Tensor? weights) => statistics(target, output, weights);

    internal override double Result(double[] statistics) => Ratio(statistics[0], statistics[1]);
}

/// <summary>Keras' <c>CategoricalAccuracy</c> (accuracy_metrics.py): whether the argmax of the one-hot target equals the prediction's, averaged (weighted).</summary>
/// <param name="name">The logged name.</param>
public sealed class CategoricalAccuracy(string name = "categorical_accuracy")
    : MeanMetricWrapper((y, p) => y.argmax(-1).eq(p.argmax(-1)).to_type(ScalarType.Float32), name);

/// <summary>
/// Keras' <c>SparseCategoricalAccuracy</c> (accuracy_metrics.py): whether the class id target equals the prediction's
/// argmax, averaged (weighted). Targets are ids: the predictions' shape without the class axis, or with it as 1.
/// </summary>
/// <param name="name">The logged name.</param>
public sealed class SparseCategoricalAccuracy(string name = "sparse_categorical_accuracy")
    : MeanMetricWrapper((y, p) => y.reshape(p.shape[..^1]).to_type(ScalarType.Int64).eq(p.argmax(-1)).to_type(ScalarType.Float32), name)
{
    internal override bool SparseTargets => true;
}

/// <summary>Keras' <c>MeanSquaredError</c> metric (regression_metrics.py): the mean of (y - p)² over the last axis, averaged (weighted).</summary>
/// <param name="name">The logged name.</param>
public sealed class MeanSquaredError(string name = "mean_squared_error") : MeanMetricWrapper(SquaredErrors, name)
{
    internal static Tensor SquaredErrors(Tensor y, Tensor p) => Scalars.Square(y - p).mean(new long[] { -1 });
}

/// <summary>Keras' <c>MeanAbsoluteError</c> metric (regression_metrics.py): the mean of |y - p| over the last axis, averaged (weighted).</summary>
/// <param name="name">The logged name.</param>
public sealed class MeanAbsoluteError(string name = "mean_absolute_error")
    : MeanMetricWrapper((y, p) => (y - p).abs().mean(new long[] { -1 }), name);

/// <summary>
/// Keras' <c>RootMeanSquaredError</c> (regression_metrics.py): the root of the weighted mean squared error over every
/// batch since the last reset (not a mean of batch roots).
/// </summary>
/// <param name="name">The logged name.</param>
public sealed class RootMeanSquaredError(string name = "root_mean_squared_error") : MeanMetricWrapper(MeanSquaredError.SquaredErrors, name)
{
    internal override double Result(double[] statistics) => Math.Sqrt(base.Result(statistics));
}
