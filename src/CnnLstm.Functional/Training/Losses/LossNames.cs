using System.Text.Json.Nodes;
using KerasStyle.Saving;

namespace KerasStyle.Training.Losses;

/// <summary>Creates losses from their Keras names, and from the serialized loss classes of a compile config.</summary>
public static class LossNames
{
    private static readonly Dictionary<string, Func<Loss>> Factories = new(StringComparer.Ordinal)
    {
        ["binary_crossentropy"] = () => new BinaryCrossentropy(),
        ["mse"] = () => new MeanSquaredError(),
        ["mean_squared_error"] = () => new MeanSquaredError(),
        ["mae"] = () => new MeanAbsoluteError(),
        ["mean_absolute_error"] = () => new MeanAbsoluteError(),
        ["categorical_crossentropy"] = () => new CategoricalCrossentropy(),
        ["sparse_categorical_crossentropy"] = () => new SparseCategoricalCrossentropy(),
        ["bce"] = () => new BinaryCrossentropy(),
        ["BCE"] = () => new BinaryCrossentropy(),
        ["MSE"] = () => new MeanSquaredError(),
        ["MAE"] = () => new MeanAbsoluteError(),
        ["huber"] = () => new Huber(),
        ["log_cosh"] = () => new LogCosh(),
        ["kl_divergence"] = () => new KLDivergence(),
        ["kld"] = () => new KLDivergence(),
        ["KLD"] = () => new KLDivergence(),
        ["poisson"] = () => new Poisson(),
        ["cosine_similarity"] = () => new CosineSimilarity(),
        ["hinge"] = () => new Hinge(),
        ["squared_hinge"] = () => new SquaredHinge(),
        ["categorical_hinge"] = () => new CategoricalHinge(),
        ["mean_absolute_percentage_error"] = () => new MeanAbsolutePercentageError(),
        ["mape"] = () => new MeanAbsolutePercentageError(),
        ["MAPE"] = () => new MeanAbsolutePercentageError(),
        ["mean_squared_logarithmic_error"] = () => new MeanSquaredLogarithmicError(),
        ["msle"] = () => new MeanSquaredLogarithmicError(),
        ["MSLE"] = () => new MeanSquaredLogarithmicError(),
        ["binary_focal_crossentropy"] = () => new BinaryFocalCrossentropy(),
        ["categorical_focal_crossentropy"] = () => new CategoricalFocalCrossentropy(),
    };

    private static readonly string[] Classes = { "BinaryCrossentropy", "CategoricalCrossentropy", "SparseCategoricalCrossentropy", "MeanSquaredError", "MeanAbsoluteError",
        "Huber", "LogCosh", "KLDivergence", "Poisson", "CosineSimilarity", "Hinge", "SquaredHinge", "CategoricalHinge",
        "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError", "BinaryFocalCrossentropy", "CategoricalFocalCrossentropy",
    };

    /// <summary>The known names.</summary>
    public static IReadOnlyList<string> Known { get; } = Factories.Keys.ToArray();

    /// <summary>Whether <paramref name="className"/> is one of the library's loss classes.</summary>
    internal static bool IsBuiltInClass(string className) => Classes.Contains(className);

    /// <summary>
    /// A loss for a Keras name (<c>keras.losses.get</c>): a function name or alias such as <c>mse</c>, <c>huber</c>,
    /// <c>kld</c>, or a class name such as <c>Huber</c> (the class at its defaults).
    /// </summary>
    /// <param name="name">The name.</param>
    /// <exception cref="ArgumentException">An unknown name.</exception>
    public static Loss Create(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return Factories.TryGetValue(name, out var factory)
            ? factory()
            : Classes.Contains(name) ? FromConfig(name, new JsonObject())
            : throw new ArgumentException($"Compile: unknown loss '{name}'; known losses are {string.Join(", ", Known)} (or pass a Loss object).", "loss");
    }

    /// <summary>
    /// A serialized Keras loss class (<c>{"class_name": "BinaryCrossentropy", "config": {...}}</c>) with its arguments;
    /// tf.keras 2's <c>reduction: "auto"</c> is its <c>sum_over_batch_size</c>.
    /// </summary>
    /// <exception cref="ArgumentException">An unknown loss class.</exception>
    /// <exception cref="FormatException">An argument of the wrong type or range, or an unknown argument.</exception>
    /// <exception cref="NotSupportedException">A dtype other than float32.</exception>
    internal static Loss FromConfig(string className, JsonObject values)
    {
        var config = new LayerConfig(className, "loss", values);
        if (!IsBuiltInClass(className) && CustomObjects.Loss(className) is { } factory)
        {
            return CustomObjects.Create(factory, config, "loss");
        }

        var name = config.GetNullableString("name");
        // An explicit null is Keras' reduction=None; an absent one the default.
        var reduction = values.ContainsKey("reduction") && values["reduction"] is null ? null : config.GetString("reduction", "sum_over_batch_size");
        reduction = reduction == "auto" ? "sum_over_batch_size" : reduction;
        config.Ignore("reduction");
        if (LayerConfig.DTypeName(config.GetRaw("dtype")) is { } dtype && dtype != "float32")
        {
            throw new NotSupportedException($"compile_config: the loss {config.ClassName} with dtype {dtype} is not supported; this library computes losses in float32.");
        }

        config.Ignore("fn");
        try
        {
            var loss = config.ClassName switch
            {
                "BinaryCrossentropy" => new BinaryCrossentropy(config.GetBool("from_logits", false), config.GetDouble("label_smoothing", 0), config.GetInt("axis", -1), reduction, name ?? "binary_crossentropy"),
                "CategoricalCrossentropy" => new CategoricalCrossentropy(config.GetBool("from_logits", false), config.GetDouble("label_smoothing", 0), config.GetInt("axis", -1), reduction, name ?? "categorical_crossentropy"),
                "SparseCategoricalCrossentropy" => new SparseCategoricalCrossentropy(config.GetBool("from_logits", false), config.GetNullableInt("ignore_class"), reduction, config.GetInt("axis", -1), name ?? "sparse_categorical_crossentropy"),
                "MeanSquaredError" => new MeanSquaredError(reduction, name ?? "mean_squared_error"),
                "MeanAbsoluteError" => (Loss)new MeanAbsoluteError(reduction, name ?? "mean_absolute_error"),
                "Huber" => new Huber(config.GetDouble("delta", 1.0), reduction, name ?? "huber_loss"),
                "LogCosh" => new LogCosh(reduction, name ?? "log_cosh"),
                "KLDivergence" => new KLDivergence(reduction, name ?? "kl_divergence"),
                "Poisson" => new Poisson(reduction, name ?? "poisson"),
                "CosineSimilarity" => new CosineSimilarity(config.GetInt("axis", -1), reduction, name ?? "cosine_similarity"),
                "Hinge" => new Hinge(reduction, name ?? "hinge"),
                "SquaredHinge" => new SquaredHinge(reduction, name ?? "squared_hinge"),
                "CategoricalHinge" => new CategoricalHinge(reduction, name ?? "categorical_hinge"),
                "MeanAbsolutePercentageError" => new MeanAbsolutePercentageError(reduction, name ?? "mean_absolute_percentage_error"),
                "MeanSquaredLogarithmicError" => new MeanSquaredLogarithmicError(reduction, name ?? "mean_squared_logarithmic_error"),
                "BinaryFocalCrossentropy" => new BinaryFocalCrossentropy(config.GetBool("apply_class_balancing", false), config.GetDouble("alpha", 0.25), config.GetDouble("gamma", 2.0), config.GetBool("from_logits", false), config.GetDouble("label_smoothing", 0), config.GetInt("axis", -1), reduction, name ?? "binary_focal_crossentropy"),
                "CategoricalFocalCrossentropy" => new CategoricalFocalCrossentropy(config.GetDouble("alpha", 0.25), config.GetDouble("gamma", 2.0), config.GetBool("from_logits", false), config.GetDouble("label_smoothing", 0), config.GetInt("axis", -1), reduction, name ?? "categorical_focal_crossentropy"),
                _ => throw new ArgumentException($"compile_config: unknown loss class '{config.ClassName}'; this library has {string.Join(", ", Classes)}; register your own with CustomObjects.Register.", "loss"),
            };
            var unknown = config.UnreadKeys;
            return unknown.Count == 0 ? loss
                : throw config.Error($"unknown argument{(unknown.Count > 1 ? "s" : string.Empty)} {string.Join(", ", unknown.Select(k => $"'{k}'"))} for the loss {config.ClassName}.");
        }
        catch (ArgumentException e) when (e.ParamName != "loss")
        {
            throw config.Error(e.Message);
        }
    }
}
