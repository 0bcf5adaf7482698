using System.Text.Json.Nodes;
using KerasStyle.Saving;

namespace KerasStyle.Training.Metrics;

/// <summary>
/// Keras' names for the metric classes of keras/src/metrics/__init__.py that this library adds beyond accuracy,
/// MSE/MAE/RMSE, precision, recall and AUC: the string names <c>Compile</c> takes (the snake-case class name, the
/// class name, and Keras' aliases <c>mape</c>/<c>MAPE</c>, <c>msle</c>/<c>MSLE</c>), each logged under the string
/// given as Keras' <c>compile_utils.get_metric</c> does, and the classes a compile config names, with their arguments.
/// </summary>
internal static class MetricClasses
{
    /// <summary>String name to the metric with Keras' default arguments, logged under the given name.</summary>
    public static readonly IReadOnlyDictionary<string, Func<string, Metric>> Names = WithClassNames(new Dictionary<string, (string ClassName, Func<string, Metric> Create)>
    {
        ["mean_absolute_percentage_error"] = ("MeanAbsolutePercentageError", n => new MeanAbsolutePercentageError(n)),
        ["mean_squared_logarithmic_error"] = ("MeanSquaredLogarithmicError", n => new MeanSquaredLogarithmicError(n)),
        ["log_cosh_error"] = ("LogCoshError", n => new LogCoshError(n)),
        ["cosine_similarity"] = ("CosineSimilarity", n => new CosineSimilarity(n)),
        ["r2_score"] = ("R2Score", n => new R2Score(name: n)),
        ["hinge"] = ("Hinge", n => new Hinge(n)),
        ["squared_hinge"] = ("SquaredHinge", n => new SquaredHinge(n)),
        ["categorical_hinge"] = ("CategoricalHinge", n => new CategoricalHinge(n)),
        ["top_k_categorical_accuracy"] = ("TopKCategoricalAccuracy", n => new TopKCategoricalAccuracy(name: n)),
        ["sparse_top_k_categorical_accuracy"] = ("SparseTopKCategoricalAccuracy", n => new SparseTopKCategoricalAccuracy(name: n)),
        ["true_positives"] = ("TruePositives", n => new TruePositives(name: n)),
        ["false_positives"] = ("FalsePositives", n => new FalsePositives(name: n)),
        ["true_negatives"] = ("TrueNegatives", n => new TrueNegatives(name: n)),
        ["false_negatives"] = ("FalseNegatives", n => new FalseNegatives(name: n)),
        ["f1_score"] = ("F1Score", n => new F1Score(name: n)),
        ["f_beta_score"] = ("FBetaScore", n => new FBetaScore(name: n)),
        ["binary_io_u"] = ("BinaryIoU", n => new BinaryIoU(name: n)),
        ["mape"] = (null!, n => new MeanAbsolutePercentageError(n)),
        ["MAPE"] = (null!, n => new MeanAbsolutePercentageError(n)),
        ["msle"] = (null!, n => new MeanSquaredLogarithmicError(n)),
        ["MSLE"] = (null!, n => new MeanSquaredLogarithmicError(n)),
    });

    /// <summary>The class names read by <see cref="FromConfig"/>.</summary>
    public static readonly IReadOnlySet<string> ClassNames = new HashSet<string>
    {
        "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError", "LogCoshError", "CosineSimilarity", "R2Score", "Hinge", "SquaredHinge",
        "CategoricalHinge", "Accuracy", "TopKCategoricalAccuracy", "SparseTopKCategoricalAccuracy", "TruePositives", "FalsePositives",
        "TrueNegatives", "FalseNegatives", "F1Score", "FBetaScore", "PrecisionAtRecall", "RecallAtPrecision", "SensitivityAtSpecificity",
        "SpecificityAtSensitivity", "IoU", "MeanIoU", "BinaryIoU", "OneHotIoU", "OneHotMeanIoU",
    };

    /// <summary>A serialized metric of one of <see cref="ClassNames"/> with its arguments; null for another class.</summary>
    /// <exception cref="FormatException">An argument of the wrong type or range, or an unknown argument.</exception>
    /// <exception cref="NotSupportedException">A dtype other than float32, or an argument value this library cannot log.</exception>
    public static Metric? FromConfig(string className, LayerConfig config)
    {
        if (!ClassNames.Contains(className))
        {
            return null;
        }

        switch (className)
        {
            case "F1Score" or "FBetaScore":
                return FBetaScore.FromConfig(config, className == "F1Score");
            case "PrecisionAtRecall" or "RecallAtPrecision" or "SensitivityAtSpecificity" or "SpecificityAtSensitivity":
                return SensitivitySpecificityBase.FromConfig(className, config);
            case "IoU" or "MeanIoU" or "BinaryIoU" or "OneHotIoU" or "OneHotMeanIoU":
                return IoU.FromConfig(className, config);
        }

        var dtype = LayerConfig.DTypeName(config.GetRaw("dtype"));
        if (dtype is not null && dtype != "float32")
        {
            throw new NotSupportedException($"compile_config: the metric {className} with dtype {dtype} is not supported; this library computes metrics in float64 from float32 outputs.");
        }

        var name = config.GetNullableString("name");
        Metric metric;
        try
        {
            metric = className switch
            {
                "MeanAbsolutePercentageError" => new MeanAbsolutePercentageError(name ?? "mean_absolute_percentage_error"),
                "MeanSquaredLogarithmicError" => new MeanSquaredLogarithmicError(name ?? "mean_squared_logarithmic_error"),
                "LogCoshError" => new LogCoshError(name ?? "logcosh"),
                "CosineSimilarity" => new CosineSimilarity(name ?? "cosine_similarity", config.GetInt("axis", -1)),
                "R2Score" => new R2Score(config.UnreadKeys.Contains("class_aggregation") && config.GetRaw("class_aggregation") is null ? null : config.GetString("class_aggregation", "uniform_average"),
                    config.GetInt("num_regressors", 0), name ?? "r2_score"),
                "Hinge" => new Hinge(name ?? "hinge"),
                "SquaredHinge" => new SquaredHinge(name ?? "squared_hinge"),
                "CategoricalHinge" => new CategoricalHinge(name ?? "categorical_hinge"),
                "Accuracy" => new Accuracy(name ?? "accuracy"),
                "TopKCategoricalAccuracy" => new TopKCategoricalAccuracy(config.GetInt("k", 5), name ?? "top_k_categorical_accuracy"),
                "SparseTopKCategoricalAccuracy" => new SparseTopKCategoricalAccuracy(config.GetInt("k", 5), name ?? "sparse_top_k_categorical_accuracy", config.GetBool("from_sorted_ids", false)),
                "TruePositives" => new TruePositives(ConfusionCount.ReadThresholds(config), name),
                "FalsePositives" => new FalsePositives(ConfusionCount.ReadThresholds(config), name),
                "TrueNegatives" => new TrueNegatives(ConfusionCount.ReadThresholds(config), name),
                _ => new FalseNegatives(ConfusionCount.ReadThresholds(config), name),
            };
        }
        catch (ArgumentException e)
        {
            throw config.Error(e.Message);
        }

        var unknown = config.UnreadKeys;
        return unknown.Count == 0 ? metric
            : throw config.Error($"unknown argument{(unknown.Count > 1 ? "s" : string.Empty)} {string.Join(", ", unknown.Select(k => $"'{k}'"))} for the metric {className}.");
    }

    private static Dictionary<string, Func<string, Metric>> WithClassNames(Dictionary<string, (string ClassName, Func<string, Metric> Create)> names)
    {
        var all = names.ToDictionary(kv => kv.Key, kv => kv.Value.Create);
        foreach (var (_, (className, create)) in names)
        {
            if (className is not null)
            {
                all[className] = create;
            }
        }

        return all;
    }
}
