using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Training.Losses;
using KerasStyle.Training.Optimizers;

namespace KerasStyle.Saving;

/// <summary>
/// What <c>Compile</c> was given, as Keras 3 stores it in <c>compile_config</c> (optimizer, loss, metrics), and the
/// <c>training_config</c> of Keras 2 full-model <c>.h5</c> files.
/// </summary>
internal static class CompileConfig
{
    /// <summary>The Keras 3 <c>compile_config</c>.</summary>
    public static JsonObject Serialize(Optimizer optimizer, string loss, IReadOnlyList<string> metrics, IReadOnlyList<string> weightedMetrics) => new()
    {
        ["optimizer"] = new JsonObject
        {
            ["module"] = "keras.optimizers",
            ["class_name"] = optimizer switch
            {
                Adam => "Adam",
                SGD => "SGD",
                RMSprop => "RMSprop",
                _ => throw new NotSupportedException($"the optimizer {optimizer.GetType().Name} cannot be saved."),
            },
            ["config"] = OptimizerConfig(optimizer),
            ["registered_name"] = null,
        },
        ["loss"] = loss,
        ["loss_weights"] = null,
        ["metrics"] = metrics.Count == 0 ? null : new JsonArray(metrics.Select(m => (JsonNode)m).ToArray()),
        ["weighted_metrics"] = weightedMetrics.Count == 0 ? null : new JsonArray(weightedMetrics.Select(m => (JsonNode)m).ToArray()),
        ["run_eagerly"] = false,
        ["steps_per_execution"] = 1,
        ["jit_compile"] = false,
    };

    /// <summary>Reads a Keras 3 <c>compile_config</c>.</summary>
    public static (Optimizer Optimizer, Loss Loss, string[] Metrics, string[] WeightedMetrics) Deserialize(JsonObject config)
    {
        if (config["loss_weights"] is not null)
        {
            throw new NotSupportedException($"compile_config: 'loss_weights' = {config["loss_weights"]!.ToJsonString()} is not supported by this library.");
        }

        return (ReadOptimizer(config["optimizer"]), ReadLoss(config["loss"]), ReadMetrics(config["metrics"]), ReadMetrics(config["weighted_metrics"]));
    }

    /// <summary>Reads a Keras 2 <c>training_config</c> (<c>optimizer_config</c>, <c>loss</c>, <c>metrics</c>).</summary>
    public static (Optimizer Optimizer, Loss Loss, string[] Metrics, string[] WeightedMetrics) DeserializeKeras2(JsonObject config)
    {
        if (config["loss_weights"] is not null || config["sample_weight_mode"] is not null)
        {
            throw new NotSupportedException("training_config: loss_weights and sample_weight_mode are not supported by this library.");
        }

        return (ReadOptimizer(config["optimizer_config"]), ReadLoss(config["loss"]), ReadMetrics(config["metrics"]), ReadMetrics(config["weighted_metrics"]));
    }

    private static JsonObject OptimizerConfig(Optimizer optimizer)
    {
        var config = new JsonObject
        {
            ["name"] = optimizer.Name,
            ["learning_rate"] = optimizer.LearningRate,
            ["weight_decay"] = null,
            ["clipnorm"] = null,
            ["global_clipnorm"] = null,
            ["clipvalue"] = null,
            ["use_ema"] = false,
            ["ema_momentum"] = 0.99,
            ["ema_overwrite_frequency"] = null,
        };
        switch (optimizer)
        {
            case Adam adam:
                config["beta_1"] = adam.Beta1;
                config["beta_2"] = adam.Beta2;
                config["epsilon"] = adam.Epsilon;
                config["amsgrad"] = adam.Amsgrad;
                break;
            case SGD sgd:
                config["momentum"] = sgd.Momentum;
                config["nesterov"] = sgd.Nesterov;
                break;
            case RMSprop rmsprop:
                config["rho"] = rmsprop.Rho;
                config["momentum"] = rmsprop.Momentum;
                config["epsilon"] = rmsprop.Epsilon;
                config["centered"] = rmsprop.Centered;
                break;
        }

        return config;
    }

    private static Optimizer ReadOptimizer(JsonNode? node)
    {
        switch (node)
        {
            case JsonValue value when value.TryGetValue<string>(out var name):
                return OptimizerNames.Create(name.ToLowerInvariant());
            case JsonObject obj:
                var className = obj["class_name"] is JsonValue c && c.TryGetValue<string>(out var text) ? text
                    : throw new FormatException($"compile_config: the optimizer has no class_name: {obj.ToJsonString()}.");
                var config = new LayerConfig(className, NameOf(obj), obj["config"] as JsonObject ?? new JsonObject());
                var learningRate = config.GetRaw("learning_rate") ?? config.GetRaw("lr");
                if (learningRate is JsonObject)
                {
                    throw new NotSupportedException($"compile_config: the learning-rate schedule {learningRate.ToJsonString()} is not supported; this library's optimizers take a number.");
                }

                var rate = (double?)(learningRate as JsonValue)?.GetValue<double>();
                foreach (var key in new[] { "weight_decay", "clipnorm", "global_clipnorm", "clipvalue", "ema_overwrite_frequency", "loss_scale_factor", "gradient_accumulation_steps" })
                {
                    config.RequireDefault(key, null);
                }

                config.RequireDefault("use_ema", false);
                config.RequireDefault("decay", 0.0);
                config.Ignore("ema_momentum", "jit_compile", "is_legacy_optimizer");
                Optimizer optimizer = className.ToLowerInvariant() switch
                {
                    "adam" => ReadAdam(config, rate),
                    "sgd" => new SGD(rate ?? 0.01, config.GetDouble("momentum", 0), config.GetBool("nesterov", false)),
                    "rmsprop" => ReadRmsprop(config, rate),
                    _ => throw new NotSupportedException($"compile_config: the optimizer '{className}' is not supported; this library has Adam, SGD and RMSprop."),
                };
                var unknown = config.UnreadKeys;
                return unknown.Count == 0 ? optimizer
                    : throw new FormatException($"compile_config: unknown argument{(unknown.Count > 1 ? "s" : string.Empty)} {string.Join(", ", unknown.Select(k => $"'{k}'"))} for the optimizer {className}.");
            default:
                throw new FormatException($"compile_config: the optimizer must be a name or a serialized optimizer, got {node?.ToJsonString() ?? "null"}.");
        }
    }

    private static Adam ReadAdam(LayerConfig config, double? rate)
    {
        return new Adam(rate ?? 0.001, config.GetDouble("beta_1", 0.9), config.GetDouble("beta_2", 0.999), config.GetDouble("epsilon", 1e-7), config.GetBool("amsgrad", false));
    }

    private static RMSprop ReadRmsprop(LayerConfig config, double? rate)
    {
        return new RMSprop(rate ?? 0.001, config.GetDouble("rho", 0.9), config.GetDouble("epsilon", 1e-7), config.GetDouble("momentum", 0), config.GetBool("centered", false));
    }

    private static string NameOf(JsonObject obj) =>
        obj["config"]?["name"] is JsonValue v && v.TryGetValue<string>(out var name) ? name : obj["class_name"]?.ToJsonString() ?? "optimizer";

    /// <summary>A loss given by name, as a serialized function or as a loss class; per-output lists must repeat one loss.</summary>
    private static Loss ReadLoss(JsonNode? node)
    {
        var names = LossNamesOf(node).Distinct(StringComparer.Ordinal).ToList();
        return names.Count switch
        {
            1 => LossNames.Create(names[0]),
            0 => throw new NotSupportedException("compile_config: the model was compiled without a loss, which this library does not support."),
            _ => throw new NotSupportedException($"compile_config: different losses per output ({string.Join(", ", names)}) are not supported; this library applies one loss to every output."),
        };
    }

    private static IEnumerable<string> LossNamesOf(JsonNode? node) => node switch
    {
        null => Array.Empty<string>(),
        JsonValue value when value.TryGetValue<string>(out var name) => new[] { name },
        JsonArray list => list.SelectMany(LossNamesOf),
        JsonObject obj when obj["class_name"] is JsonValue c && c.TryGetValue<string>(out var cls) => new[] { SerializedName(obj, cls, "loss") },
        JsonObject map => map.SelectMany(kv => LossNamesOf(kv.Value)),
        _ => throw new FormatException($"compile_config: cannot read the loss {node.ToJsonString()}."),
    };

    private static string[] ReadMetrics(JsonNode? node)
    {
        var names = new List<string>();
        void Collect(JsonNode? item)
        {
            switch (item)
            {
                case null:
                    break;
                case JsonValue value when value.TryGetValue<string>(out var name):
                    names.Add(name);
                    break;
                case JsonArray list:
                    list.ToList().ForEach(Collect);
                    break;
                case JsonObject obj when obj["class_name"] is JsonValue c && c.TryGetValue<string>(out var cls):
                    names.Add(SerializedName(obj, cls, "metric"));
                    break;
                case JsonObject map:
                    map.ToList().ForEach(kv => Collect(kv.Value));
                    break;
                default:
                    throw new FormatException($"compile_config: cannot read the metric {item.ToJsonString()}.");
            }
        }

        Collect(node);
        // Per-output lists that repeat the same metrics become one list, as this library applies metrics to every output.
        return names.Distinct(StringComparer.Ordinal).ToArray();
    }

    /// <summary>
    /// The arguments of the loss and metric classes whose values this library computes only at Keras' defaults, with
    /// those defaults (tf.keras 2 writes <c>reduction: "auto"</c>, the same as Keras 3's <c>sum_over_batch_size</c>).
    /// </summary>
    private static readonly Dictionary<string, JsonNode?> ArgumentDefaults = new(StringComparer.Ordinal)
    {
        ["from_logits"] = false, ["label_smoothing"] = 0.0, ["axis"] = -1, ["ignore_class"] = null,
        ["curve"] = "ROC", ["summation_method"] = "interpolation", ["num_thresholds"] = 200, ["thresholds"] = null,
        ["multi_label"] = false, ["num_labels"] = null, ["label_weights"] = null, ["top_k"] = null, ["class_id"] = null,
        ["threshold"] = 0.5,
    };

    /// <summary>
    /// Refuses a serialized loss or metric class whose arguments are not Keras' defaults (a label smoothing, a PR
    /// curve, a threshold...), or that has an argument this library does not know: computing it with the defaults
    /// would give other numbers than Keras, silently.
    /// </summary>
    /// <exception cref="NotSupportedException">Names the class, the argument and its value.</exception>
    private static void RefuseArguments(JsonObject obj, string className, string what)
    {
        foreach (var (key, value) in obj["config"] as JsonObject ?? new JsonObject())
        {
            var accepted = key switch
            {
                "name" => true,
                "dtype" => LayerConfig.DTypeName(value) is null or "float32",
                "reduction" => value is JsonValue r && r.TryGetValue<string>(out var reduction) && reduction is "sum_over_batch_size" or "auto" or "mean",
                "fn" => true,
                _ => ArgumentDefaults.TryGetValue(key, out var defaultValue) && (JsonNode.DeepEquals(value, defaultValue)
                    || (value is JsonValue a && defaultValue is JsonValue b && a.TryGetValue<double>(out var x) && b.TryGetValue<double>(out var y) && x == y)),
            };
            if (!accepted)
            {
                throw new NotSupportedException($"compile_config: the {what} {className} with {key}={value?.ToJsonString() ?? "null"} is not supported by this library (it computes {className} with Keras' defaults only), so the model cannot be compiled from this config; load it with compile: false.");
            }
        }
    }

    /// <summary>The Keras name of a serialized loss or metric: a function (<c>config</c> holds its name) or a class (snake_case).</summary>
    private static string SerializedName(JsonObject obj, string className, string what)
    {
        if (className == "function")
        {
            return obj["config"] is JsonValue v && v.TryGetValue<string>(out var name) ? name
                : throw new FormatException($"compile_config: cannot read the {what} {obj.ToJsonString()}.");
        }

        RefuseArguments(obj, className, what);
        return NameScope.ToSnakeCase(className);
    }
}
