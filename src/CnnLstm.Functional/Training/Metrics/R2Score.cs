using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Training.Losses;
using static TorchSharp.torch;

namespace KerasStyle.Training.Metrics;

/// <summary>
/// Keras' <c>R2Score</c> (keras/src/metrics/regression_metrics.py), the coefficient of determination over every
/// batch since the last reset: per output column 1 - Σw(y - p)² / (Σw·y² - (Σw·y)²/Σw) (0 where that is infinite),
/// aggregated over the columns, optionally adjusted for <see cref="NumRegressors"/>. Inputs are (batch, outputs);
/// sample weights (batch,). NaN before any batch, as Keras.
/// </summary>
public sealed class R2Score : Metric
{
    /// <summary>Creates the metric with Keras' arguments and defaults.</summary>
    /// <param name="classAggregation"><c>uniform_average</c> (the mean of the columns' scores) or
    /// <c>variance_weighted_average</c> (weighted by each column's variance). Keras' <c>None</c> (one score per column,
    /// a list) cannot be logged: not supported.</param>
    /// <param name="numRegressors">The number of independent variables, for the adjusted R² (1 - (1 - R²)(n - 1) / (n - p - 1)
    /// with n the samples of nonzero weight; unadjusted when p ≥ n - 1, as Keras); 0 for none.</param>
    /// <param name="name">The logged name.</param>
    /// <exception cref="ArgumentException">Another class aggregation, or an empty name.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A negative <paramref name="numRegressors"/>.</exception>
    public R2Score(string? classAggregation = "uniform_average", int numRegressors = 0, string name = "r2_score")
        : base(name)
    {
        ClassAggregation = classAggregation switch
        {
            "uniform_average" or "variance_weighted_average" => classAggregation,
            null => throw new NotSupportedException("R2Score: class_aggregation=None gives one score per output column (a list), which this library's logs (one number per name) cannot hold; use uniform_average or variance_weighted_average."),
            _ => throw new ArgumentException($"R2Score: invalid class_aggregation '{classAggregation}'; expected uniform_average or variance_weighted_average.", nameof(classAggregation)),
        };
        NumRegressors = numRegressors >= 0 ? numRegressors : throw new ArgumentOutOfRangeException(nameof(numRegressors), numRegressors, "R2Score: num_regressors must be 0 or more.");
    }

    /// <summary><c>uniform_average</c> or <c>variance_weighted_average</c>.</summary>
    public string ClassAggregation { get; }

    /// <summary>The number of independent variables of the adjusted R²; 0 for the plain R².</summary>
    public int NumRegressors { get; }

    internal override bool FromStatistics => true;

    internal override double EmptyResult => double.NaN;

    /// <summary>Checks that the output is (batch, outputs), as Keras' <c>_build</c>.</summary>
    internal override Metric ForOutput(Loss loss, Shape shape, string label) =>
        shape.Rank == 2 && shape.Last is not null && !loss.SparseTargets ? this
            : throw new ArgumentException($"Compile: the metric '{Name}' (R2Score) expects outputs of shape (batch, outputs) with targets of the same shape, but output {label} has shape {shape}{(loss.SparseTargets ? $" and {loss.Name} takes class ids" : string.Empty)}.", "metrics");

    /// <summary>Per column: Σw·y, Σw·y², Σw(y - p)², Σw; then the number of samples of nonzero weight.</summary>
    internal override Tensor Statistics(Tensor target, Tensor output, Tensor? weights)
    {
        if (output.dim() != 2)
        {
            throw new ArgumentException($"metric '{Name}': R2Score expects inputs of shape (batch, outputs), got yPred of shape ({string.Join(", ", output.shape)}).", "yPred");
        }

        var y = target.to_type(ScalarType.Float64);
        var p = output.to_type(ScalarType.Float64);
        var w = Spread(weights, y);
        var weighted = y.mul(w);
        var nonzero = w.ne(Engine.Scalars.Zero).any(-1).to_type(ScalarType.Float64).sum().unsqueeze(0);
        return cat(new[]
        {
            weighted.sum(new long[] { 0 }), y.mul(weighted).sum(new long[] { 0 }), Engine.Scalars.Square(y.sub(p)).mul(w).sum(new long[] { 0 }), w.sum(new long[] { 0 }), nonzero,
        });
    }

    internal override double Result(double[] statistics)
    {
        var columns = (statistics.Length - 1) / 4;
        var totals = new double[columns];
        var scores = new double[columns];
        for (var c = 0; c < columns; c++)
        {
            var (sum, squared, residual, count) = (statistics[c], statistics[columns + c], statistics[(2 * columns) + c], statistics[(3 * columns) + c]);
            var mean = sum / count;
            totals[c] = squared - (sum * mean);
            var raw = 1 - (residual / totals[c]);
            scores[c] = double.IsInfinity(raw) ? 0 : raw;
        }

        var score = ClassAggregation == "uniform_average" ? scores.Average()
            : totals.Zip(scores, (t, s) => t * s).Sum() / totals.Sum();
        var n = statistics[^1];
        return NumRegressors != 0 && NumRegressors < n - 1 ? 1 - ((1 - score) * (n - 1) / (n - NumRegressors - 1)) : score;
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig() => WithArguments(new JsonObject { ["class_aggregation"] = ClassAggregation, ["num_regressors"] = NumRegressors });
}
