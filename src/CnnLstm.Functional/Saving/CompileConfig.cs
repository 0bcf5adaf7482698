using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Training;
using KerasStyle.Training.Losses;
using KerasStyle.Training.Metrics;
using KerasStyle.Training.Optimizers;
using KerasStyle.Training.Schedules;

namespace KerasStyle.Saving;

/// <summary>
/// What <c>Compile</c> was given, as Keras 3 stores it in <c>compile_config</c> (optimizer, loss, metrics), and the
/// <c>training_config</c> of Keras 2 full-model <c>.h5</c> files.
/// </summary>
internal static class CompileConfig
{
    /// <summary>The Keras 3 <c>compile_config</c>.</summary>
    public static JsonObject Serialize(Optimizer optimizer, Loss loss, IReadOnlyList<Metric> metrics, IReadOnlyList<Metric> weightedMetrics) => new()
    {
        ["optimizer"] = optimizer.Serialize(),
        ["loss"] = loss.Serialize(),
        ["loss_weights"] = null,
        ["metrics"] = metrics.Count == 0 ? null : new JsonArray(metrics.Select(m => (JsonNode?)m.Serialize()).ToArray()),
        ["weighted_metrics"] = weightedMetrics.Count == 0 ? null : new JsonArray(weightedMetrics.Select(m => (JsonNode?)m.Serialize()).ToArray()),
        ["run_eagerly"] = false,
        ["steps_per_execution"] = 1,
        ["jit_compile"] = false,
    };

    /// <summary>
    /// Reads a Keras 3 <c>compile_config</c>. Without an <c>optimizer</c> key the model is compiled with Keras'
    /// default, <c>"rmsprop"</c> (<c>Trainer.compile(optimizer="rmsprop", ...)</c>, which <c>compile_from_config</c> calls
    /// with the config's keys).
    /// </summary>
    /// <param name="config">The config.</param>
    /// <param name="skipped">Null: a metric that cannot be restored is refused. Otherwise (loading a file, as Keras'
    /// loaders do) it is left out and described here.</param>
    /// <param name="writtenByKeras2">Whether the file was written by Keras 2 / tf.keras 2 (<c>Model.ComputesAsKeras2</c>),
    /// which decides RMSprop's update (<see cref="RMSprop.Keras2Update"/>).</param>
    public static (Optimizer Optimizer, Loss Loss, Metric[] Metrics, Metric[] WeightedMetrics) Deserialize(JsonObject config, List<string>? skipped = null, bool writtenByKeras2 = false)
    {
        if (config["loss_weights"] is not null)
        {
            throw new NotSupportedException($"compile_config: 'loss_weights' = {config["loss_weights"]!.ToJsonString()} is not supported by this library.");
        }

        var optimizer = config.ContainsKey("optimizer") ? config["optimizer"] : JsonValue.Create("rmsprop");
        return (ReadOptimizer(optimizer, writtenByKeras2), ReadLoss(config["loss"]), ReadMetrics(config["metrics"], skipped), ReadMetrics(config["weighted_metrics"], skipped));
    }

    /// <summary>Reads a Keras 2 <c>training_config</c> (<c>optimizer_config</c>, <c>loss</c>, <c>metrics</c>).</summary>
    /// <param name="config">The config.</param>
    /// <param name="skipped">As for <see cref="Deserialize"/>.</param>
    /// <param name="writtenByKeras2">As for <see cref="Deserialize"/> (Keras 3 also writes <c>training_config</c> into
    /// its <c>.h5</c> files).</param>
    public static (Optimizer Optimizer, Loss Loss, Metric[] Metrics, Metric[] WeightedMetrics) DeserializeKeras2(JsonObject config, List<string>? skipped = null, bool writtenByKeras2 = false)
    {
        if (config["loss_weights"] is not null || config["sample_weight_mode"] is not null)
        {
            throw new NotSupportedException("training_config: loss_weights and sample_weight_mode are not supported by this library.");
        }

        return (ReadOptimizer(config["optimizer_config"], writtenByKeras2), ReadLoss(config["loss"]), ReadMetrics(config["metrics"], skipped), ReadMetrics(config["weighted_metrics"], skipped));
    }

    /// <summary>Whether an exception from reading or applying a compile config means "this piece cannot be restored".</summary>
    public static bool IsUnrestorable(Exception e) => e is NotSupportedException or ArgumentException or FormatException or InvalidOperationException or KeyNotFoundException;

    private static Optimizer ReadOptimizer(JsonNode? node, bool writtenByKeras2)
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
                // A schedule (Keras 3's {"module": "keras.optimizers.schedules", ...} or tf.keras 2's {"class_name", "config"}) replaces the rate once built.
                var schedule = learningRate is JsonObject serialized ? LearningRateSchedule.Deserialize(serialized) : null;
                var rate = schedule is null ? (double?)(learningRate as JsonValue)?.GetValue<double>() : null;
                var adamW = className.Equals("adamw", StringComparison.OrdinalIgnoreCase);
                // tf.keras 2.11-2.15 read a config without "is_legacy_optimizer" as the legacy (OptimizerV2) optimizer
                // (keras/optimizers/__init__.py deserialize at v2.11.0); only their new optimizers write it, as false.
                var legacy = writtenByKeras2 && config.GetBool("is_legacy_optimizer", true);
                if (writtenByKeras2)
                {
                    // tf.keras 2.11+ (optimizer_experimental/optimizer.py at v2.11.0, tf_keras/src/optimizers/optimizer.py):
                    // _clip_gradients (clip_by_norm per gradient, clip_by_global_norm, clip_by_value) and _apply_weight_decay
                    // (p -= p·wd·lr before the update) compute as Keras 3 does, so they are read. Its EMA starts the average
                    // at the weights and mixes in the first step (Keras 3 takes the weights as they are after it), so a
                    // file with use_ema loads uncompiled, as one with the legacy optimizers' clipping (not compared) does.
                    // loss_scale_factor and gradient_accumulation_steps do not exist in tf.keras 2.
                    var refused = (legacy ? (adamW ? Array.Empty<string>() : new[] { "weight_decay" }).Concat(new[] { "clipnorm", "global_clipnorm", "clipvalue" }) : Array.Empty<string>())
                        .Concat(new[] { "ema_overwrite_frequency", "loss_scale_factor", "gradient_accumulation_steps" });
                    foreach (var key in refused)
                    {
                        config.RequireDefault(key, null);
                    }

                    if (config.GetBool("use_ema", false))
                    {
                        throw new NotSupportedException($"compile_config: {className} with 'use_ema' = true written by tf.keras 2 is not supported: tf.keras 2 starts the moving average at the weights and mixes the first step into it (tf_keras/src/optimizers/optimizer.py _update_model_variables_moving_average), Keras 3 takes the weights after the first step as the average, so training it here would not compute as tf.keras 2 did.");
                    }

                    if (legacy && className.Equals("nadam", StringComparison.OrdinalIgnoreCase))
                    {
                        // tf_keras/src/optimizers/legacy/nadam.py: schedule_decay (written as "decay", default 0.004) in
                        // u_t = β1 (1 - ½·0.96^(decay·t)) and a saved momentum_cache; Keras 3's Nadam has 0.96^t.
                        throw new NotSupportedException($"compile_config: the tf.keras 2 legacy (OptimizerV2) Nadam is not supported: its momentum schedule is β1·(1 - 0.5·0.96^(schedule_decay·t)) with schedule_decay = {config.GetRaw("decay")?.ToJsonString() ?? "0.004"} (Keras 3's Nadam uses 0.96^t), so training it here would not compute as tf.keras 2 did.");
                    }
                }

                double? Number(string key) => config.Has(key) ? config.GetDouble(key, 0) : null;
                // AdamW's weight_decay is a number (default 0.004), the base option's is optional.
                var weightDecay = adamW ? ReadWeightDecay(config, obj["config"] as JsonObject) : Number("weight_decay");
                var (clipnorm, globalClipnorm, clipvalue) = (Number("clipnorm"), Number("global_clipnorm"), Number("clipvalue"));
                var (useEma, emaMomentum) = (config.GetBool("use_ema", false), config.GetDouble("ema_momentum", 0.99));
                var (emaOverwriteFrequency, lossScaleFactor) = (config.GetNullableInt("ema_overwrite_frequency"), Number("loss_scale_factor"));
                var gradientAccumulationSteps = config.GetNullableInt("gradient_accumulation_steps");
                config.RequireDefault("decay", 0.0);
                if (writtenByKeras2)
                {
                    // tf.keras 2.11+'s optimizers write jit_compile in every config (tf_keras/src/optimizers/optimizer.py
                    // get_config). It only chooses whether tf.keras 2 compiled the update with XLA: the update, and so the
                    // numbers, are the same either way, so it is read and has no effect here. Keras 3's optimizers have no
                    // such argument and refuse it ("Argument(s) not recognized"), as the unknown keys below are.
                    config.Ignore("jit_compile");
                }

                // Keras' name (keras/src/optimizers/base_optimizer.py): given back to the optimizer; null or absent: a new one.
                var givenName = config.GetNullableString("name");
                Optimizer optimizer = className.ToLowerInvariant() switch
                {
                    "adam" => ReadAdam(config, rate, givenName),
                    "sgd" => new SGD(rate ?? 0.01, ReadSgdMomentum(config, writtenByKeras2), config.GetBool("nesterov", false), givenName),
                    "rmsprop" => ReadRmsprop(config, rate, legacy, givenName),
                    "adamw" => new AdamW(rate ?? 0.001, weightDecay!.Value, config.GetDouble("beta_1", 0.9), config.GetDouble("beta_2", 0.999), config.GetDouble("epsilon", 1e-7), config.GetBool("amsgrad", false), givenName),
                    "nadam" => new Nadam(rate ?? 0.001, config.GetDouble("beta_1", 0.9), config.GetDouble("beta_2", 0.999), config.GetDouble("epsilon", 1e-7), givenName),
                    "adamax" => new Adamax(rate ?? 0.001, config.GetDouble("beta_1", 0.9), config.GetDouble("beta_2", 0.999), config.GetDouble("epsilon", 1e-7), givenName),
                    "adagrad" => new Adagrad(rate ?? 0.001, config.GetDouble("initial_accumulator_value", 0.1), config.GetDouble("epsilon", 1e-7), keras2Update: legacy, name: givenName),
                    "adadelta" => new Adadelta(rate ?? 0.001, config.GetDouble("rho", 0.95), config.GetDouble("epsilon", 1e-7), givenName),
                    "lion" => new Lion(rate ?? 0.001, config.GetDouble("beta_1", 0.9), config.GetDouble("beta_2", 0.99), givenName),
                    "ftrl" => new Ftrl(rate ?? 0.001, config.GetDouble("learning_rate_power", -0.5), config.GetDouble("initial_accumulator_value", 0.1),
                        config.GetDouble("l1_regularization_strength", 0), config.GetDouble("l2_regularization_strength", 0),
                        config.GetDouble("l2_shrinkage_regularization_strength", 0), config.GetDouble("beta", 0), givenName),
                    _ when CustomObjects.Optimizer(className) is { } factory => CustomObjects.Create(factory, config, "optimizer"),
                    _ => throw new NotSupportedException($"compile_config: the optimizer '{className}' is not supported; this library has {string.Join(", ", OptimizerNames.Known)} (register your own with CustomObjects.Register)."),
                };
                if (givenName is not null && (!optimizer.NameGiven || optimizer.Name != givenName))
                {
                    // A user's factory need not read the name: the config's name is the optimizer's, as Keras' from_config passes it.
                    optimizer.SetName(givenName);
                }

                optimizer.SetBaseArguments(weightDecay, clipnorm, globalClipnorm, clipvalue, useEma, emaMomentum, emaOverwriteFrequency, lossScaleFactor, gradientAccumulationSteps);
                if (schedule is not null)
                {
                    optimizer.Schedule = schedule;
                }

                var unknown = config.UnreadKeys;
                return unknown.Count == 0 ? optimizer
                    : throw new FormatException($"compile_config: unknown argument{(unknown.Count > 1 ? "s" : string.Empty)} {string.Join(", ", unknown.Select(k => $"'{k}'"))} for the optimizer {className} (Keras: \"Argument(s) not recognized\").");
            default:
                throw new FormatException($"compile_config: the optimizer must be a name or a serialized optimizer, got {node?.ToJsonString() ?? "null"}.");
        }
    }

    /// <summary>AdamW's <c>weight_decay</c>: a number (default 0.004); Keras refuses None.</summary>
    private static double ReadWeightDecay(LayerConfig config, JsonObject? raw) =>
        raw is not null && raw.TryGetPropertyValue("weight_decay", out var value) && value is null
            ? throw new ArgumentException("compile_config: AdamW's weight_decay must be a float (Keras: \"Argument `weight_decay` must be a float. Received: weight_decay=None\").")
            : config.GetDouble("weight_decay", 0.004);

    private static Adam ReadAdam(LayerConfig config, double? rate, string? name)
    {
        return new Adam(rate ?? 0.001, config.GetDouble("beta_1", 0.9), config.GetDouble("beta_2", 0.999), config.GetDouble("epsilon", 1e-7), config.GetBool("amsgrad", false), name);
    }

    /// <summary>
    /// SGD's <c>momentum</c>. Keras 3's SGD refuses one that is not a Python float (keras/src/optimizers/sgd.py:
    /// <c>not isinstance(momentum, float)</c>), so a Keras 3 config's JSON integer (<c>0</c>, <c>1</c>) is refused as
    /// Keras refuses it; tf.keras 2's SGD accepts ints and writes the value it was given, so its files may hold one.
    /// </summary>
    private static double ReadSgdMomentum(LayerConfig config, bool writtenByKeras2)
    {
        var raw = config.GetRaw("momentum");
        if (!writtenByKeras2 && raw is JsonValue value && value.GetValueKind() == System.Text.Json.JsonValueKind.Number && IsJsonInteger(value))
        {
            throw new ArgumentException($"compile_config: SGD's momentum must be a float between [0, 1] (Keras: \"`momentum` must be a float between [0, 1].\"); got the integer {value.ToJsonString()}.");
        }

        return config.GetDouble("momentum", 0);
    }

    /// <summary>Whether a JSON number is written without a fraction or exponent (Python's <c>json.loads</c> reads it as an int).</summary>
    private static bool IsJsonInteger(JsonValue value)
    {
        var text = value.ToJsonString();
        return !text.Contains('.', StringComparison.Ordinal) && !text.Contains('e', StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// RMSprop; <paramref name="keras2Update"/> for Keras 2.0-2.3's and tf.keras 2.0-2.10's (legacy) optimizer, whose
    /// update without momentum adds ε outside the square root (<see cref="RMSprop.Keras2Update"/>). Their defaults are
    /// Keras 3's (rho 0.9; ε 1e-7: Keras 2.2's <c>K.epsilon()</c>, tf.keras 2's 1e-7; Keras 2.0 to 2.1.2 defaulted to 1e-8
    /// but always wrote it).
    /// </summary>
    private static RMSprop ReadRmsprop(LayerConfig config, double? rate, bool keras2Update, string? name)
    {
        return new RMSprop(rate ?? 0.001, config.GetDouble("rho", 0.9), config.GetDouble("epsilon", 1e-7), config.GetDouble("momentum", 0), config.GetBool("centered", false),
            keras2Update, name);
    }

    private static string NameOf(JsonObject obj) =>
        obj["config"]?["name"] is JsonValue v && v.TryGetValue<string>(out var name) ? name
        : obj["class_name"] is JsonValue c && c.TryGetValue<string>(out var className) ? className : "optimizer";

    /// <summary>A loss given by name, as a serialized function or as a loss class with its arguments; per-output lists must repeat one loss.</summary>
    private static Loss ReadLoss(JsonNode? node)
    {
        var losses = LossesOf(node).DistinctBy(l => l.Serialize().ToJsonString()).ToList();
        return losses.Count switch
        {
            1 => losses[0],
            0 => throw new NotSupportedException("compile_config: the model was compiled without a loss, which this library does not support."),
            _ => throw new NotSupportedException($"compile_config: different losses per output ({string.Join(", ", losses.Select(l => l.Serialize().ToJsonString()))}) are not supported; this library applies one loss to every output."),
        };
    }

    private static IEnumerable<Loss> LossesOf(JsonNode? node) => node switch
    {
        null => Array.Empty<Loss>(),
        JsonValue value when value.TryGetValue<string>(out var name) => new[] { LossNames.Create(name) },
        JsonArray list => list.SelectMany(LossesOf),
        JsonObject obj when obj["class_name"] is JsonValue c && c.TryGetValue<string>(out var cls) => new[]
        {
            cls == "function" ? LossNames.Create(FunctionName(obj, "loss")) : LossNames.FromConfig(cls, ConfigOf(obj, cls)),
        },
        JsonObject map => map.SelectMany(kv => LossesOf(kv.Value)),
        _ => throw new FormatException($"compile_config: cannot read the loss {node.ToJsonString()}."),
    };

    private static Metric[] ReadMetrics(JsonNode? node, List<string>? skipped)
    {
        var metrics = new List<Metric>();
        void Collect(JsonNode? item)
        {
            switch (item)
            {
                case null:
                    break;
                case JsonValue value when value.TryGetValue<string>(out var name):
                    Add(item, () => Metric.IsKnownName(name) ? (Metric)name
                        : throw new ArgumentException($"Compile: unknown metric '{name}'; known metrics are {string.Join(", ", Metric.Known)}.", "metrics"));
                    break;
                case JsonArray list:
                    list.ToList().ForEach(Collect);
                    break;
                case JsonObject obj when obj["class_name"] is JsonValue c && c.TryGetValue<string>(out var cls):
                    Add(item, () => ReadMetric(obj, cls));
                    break;
                case JsonObject map:
                    map.ToList().ForEach(kv => Collect(kv.Value));
                    break;
                default:
                    throw new FormatException($"compile_config: cannot read the metric {item.ToJsonString()}.");
            }
        }

        void Add(JsonNode item, Func<Metric> read)
        {
            if (skipped is null)
            {
                metrics.Add(read());
                return;
            }

            try
            {
                metrics.Add(read());
            }
            catch (Exception e) when (IsUnrestorable(e))
            {
                skipped.Add($"the metric {item.ToJsonString()} ({e.Message})");
            }
        }

        Collect(node);
        // Per-output lists that repeat the same metrics become one list, as this library applies metrics to every output.
        return metrics.DistinctBy(m => m.Serialize().ToJsonString()).ToArray();
    }

    /// <summary>
    /// A serialized metric: a function (its name), a class with arguments this library implements (AUC, Precision,
    /// Recall, BinaryAccuracy), or another known class with only a name and dtype, logged under its name.
    /// </summary>
    /// <exception cref="NotSupportedException">A class whose arguments this library does not implement, or Keras'
    /// <c>Accuracy</c> (exact equality, not the shape-dependent <c>"accuracy"</c>).</exception>
    private static Metric ReadMetric(JsonObject obj, string className)
    {
        if (className == "function")
        {
            return FunctionName(obj, "metric");
        }

        var values = ConfigOf(obj, className);
        var config = new LayerConfig(className, "metric", values);
        switch (className)
        {
            case "AUC":
                return AUC.FromConfig(config);
            case "Precision":
                return Precision.FromConfig(config);
            case "Recall":
                return Recall.FromConfig(config);
            case "BinaryAccuracy":
                var name = config.GetNullableString("name") ?? "binary_accuracy";
                var threshold = config.GetDouble("threshold", 0.5);
                RefuseArguments(values, className, "metric", "threshold");
                return new BinaryAccuracy(name, threshold);
            case "MeanMetricWrapper":
                // tf.keras 2 writes a metric given by name as its resolved function wrapped in a mean, logged under
                // the name the user gave ({"name": "accuracy", "fn": "binary_accuracy"}); Keras 3 reads it as that function.
                var fn = values["fn"] switch
                {
                    JsonValue v when v.TryGetValue<string>(out var text) => text,
                    JsonObject f when f["class_name"] is JsonValue fc && fc.TryGetValue<string>(out var fcls) && fcls == "function" => FunctionName(f, "metric function"),
                    var other => throw new FormatException($"compile_config: the MeanMetricWrapper's 'fn' must name a function, got {other?.ToJsonString() ?? "null"}."),
                };
                if (!Metric.Known.Contains(fn) && CustomObjects.Metric(fn) is { } wrapped)
                {
                    // A user's MeanMetricWrapper, written with its function's name: the factory registered under that name.
                    return CustomObjects.Create(wrapped, config, "metric");
                }

                if (!Metric.Known.Contains(fn))
                {
                    throw new ArgumentException($"Compile: unknown metric function '{fn}' (in a MeanMetricWrapper); known metrics are {string.Join(", ", Metric.Known)}.", "metrics");
                }

                RefuseArguments(values, className, "metric", "fn");
                return new NamedMetric(fn, config.GetNullableString("name") ?? fn, className);
            case var _ when MetricClasses.FromConfig(className, config) is { } known:
                return known;
            case var _ when !Metric.IsBuiltInClass(className) && CustomObjects.Metric(className) is { } factory:
                return CustomObjects.Create(factory, config, "metric");
            default:
                var function = NameScope.ToSnakeCase(className);
                if (!Metric.Known.Contains(function))
                {
                    throw new ArgumentException($"Compile: unknown metric class '{className}'; known metrics are {string.Join(", ", Metric.Known)}.", "metrics");
                }

                RefuseArguments(values, className, "metric");

                return new NamedMetric(function, config.GetNullableString("name") ?? function, className);
        }
    }

    /// <summary>The <c>config</c> of a serialized class (empty when absent).</summary>
    private static JsonObject ConfigOf(JsonObject obj, string className) => obj["config"] switch
    {
        null => new JsonObject(),
        JsonObject config => config,
        var other => throw new FormatException($"compile_config: the config of {className} must be an object, got {other.ToJsonString()}."),
    };

    /// <summary>
    /// Refuses a serialized metric class with an argument this library does not implement (anything but name, dtype
    /// float32 and <paramref name="implemented"/>): computing it without would give other numbers than Keras, silently.
    /// </summary>
    /// <exception cref="NotSupportedException">Names the class, the argument and its value.</exception>
    private static void RefuseArguments(JsonObject config, string className, string what, params string[] implemented)
    {
        foreach (var (key, value) in config)
        {
            var accepted = key switch
            {
                "name" => true,
                "dtype" => LayerConfig.DTypeName(value) is null or "float32",
                _ => implemented.Contains(key),
            };
            if (!accepted)
            {
                throw new NotSupportedException($"compile_config: the {what} {className} with {key}={value?.ToJsonString() ?? "null"} is not supported by this library.");
            }
        }
    }

    /// <summary>The name of a serialized function (<c>{"class_name": "function", "config": "mse"}</c>).</summary>
    private static string FunctionName(JsonObject obj, string what) =>
        obj["config"] is JsonValue v && v.TryGetValue<string>(out var name) ? name
        : throw new FormatException($"compile_config: cannot read the {what} {obj.ToJsonString()}.");
}
