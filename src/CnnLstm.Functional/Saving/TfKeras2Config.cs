using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Training.Optimizers;

namespace KerasStyle.Saving;

/// <summary>
/// Turns the Keras 3 configs this library writes into the form tf.keras 2.11 writes into a full-model <c>.h5</c>
/// (<c>model_config</c> and <c>training_config</c>), which tf.keras 2.x reads and Keras 3 reads through its legacy
/// loader. Followed: tf.keras 2.11's <c>get_config</c> of each layer, <c>functional.get_network_config</c>,
/// <c>saving_utils.model_metadata</c> and <c>optimizer_experimental</c>'s <c>get_config</c>
/// (keras-team/keras at tag v2.11.0). The differences from Keras 3: plain dtype strings instead of DTypePolicy
/// objects, <c>{"class_name", "config"}</c> objects without <c>module</c> / <c>registered_name</c> /
/// <c>build_config</c>, <c>batch_input_shape</c>, <c>inbound_nodes</c> as <c>[[["layer", node, tensor, {}]]]</c>,
/// and per-layer arguments that exist in only one of the two versions, which each layer class declares with
/// <see cref="Keras3OnlyArgumentAttribute"/>, <see cref="TfKeras2OnlyArgumentAttribute"/> and
/// <see cref="TfKeras2RenamedArgumentAttribute"/>.
/// </summary>
internal static class TfKeras2Config
{
    /// <summary>The version written to <c>keras_version</c>: the config and optimizer layouts are tf.keras 2.11's.</summary>
    public const string KerasVersion = "2.11.0";

    /// <summary>The <c>model_config</c> attribute: <c>{"class_name": "Functional" | "Sequential", "config": ...}</c>.</summary>
    /// <param name="keras3">The model as <c>ToJson</c> writes it.</param>
    /// <exception cref="NotSupportedException">A layer argument tf.keras 2 cannot express (named with its value).</exception>
    public static JsonObject Model(JsonObject keras3)
    {
        var className = (string)keras3["class_name"]!;
        var config = (JsonObject)keras3["config"]!;
        var layers = new JsonArray();
        // tf.keras 2 numbers a nested model's calls from 1 (node 0 is its own graph) everywhere; Keras 3 only a
        // functional model's, and only in input_layers/output_layers.
        var nested = ((JsonArray)config["layers"]!).Cast<JsonObject>().Where(e => (string?)e["class_name"] is "Functional" or "Sequential")
            .ToDictionary(e => (string)e["name"]!, e => (string)e["class_name"]!, StringComparer.Ordinal);
        foreach (var entry in ((JsonArray)config["layers"]!).Cast<JsonObject>())
        {
            // A model used as a layer is written as tf.keras 2 writes a model, inside the layer list.
            var layer = (string?)entry["class_name"] is "Functional" or "Sequential" ? Model(entry) : Layer(entry);
            if (className != "Sequential")
            {
                layer["name"] = entry["name"]!.DeepClone();
                layer["inbound_nodes"] = new JsonArray(((JsonArray)entry["inbound_nodes"]!).Select(node => (JsonNode)InboundNode((JsonObject)node!, (string)entry["name"]!, nested, (string?)entry["class_name"])).ToArray());
            }

            layers.Add(layer);
        }

        var result = new JsonObject { ["name"] = config["name"]!.DeepClone(), ["layers"] = layers };
        if (className != "Sequential")
        {
            result["input_layers"] = Renumbered(config["input_layers"]!, nested);
            result["output_layers"] = Renumbered(config["output_layers"]!, nested);
        }

        return new JsonObject { ["class_name"] = className, ["config"] = result };
    }

    /// <summary>
    /// The <c>training_config</c> attribute: the loss and metrics as compiled, and the optimizer as tf.keras 2.11+'s
    /// (non-legacy) optimizers serialize themselves (<c>get_config</c> in tf_keras/src/optimizers/optimizer.py: name,
    /// weight_decay, clipnorm, global_clipnorm, clipvalue, use_ema, ema_momentum, ema_overwrite_frequency,
    /// <c>jit_compile</c>, <c>is_legacy_optimizer: false</c>, then the class's own arguments; a schedule as
    /// <c>{"class_name", "config"}</c>). tf.keras 2 passes every key to the constructor and refuses unknown ones, so
    /// Keras 3's <c>loss_scale_factor</c> and <c>gradient_accumulation_steps</c> are left out.
    /// </summary>
    /// <param name="compile">The Keras 3 compile config the library writes.</param>
    /// <param name="legacy">The optimizer is an RMSprop or Adagrad with <c>Keras2Update</c>: written as tf.keras 2's
    /// legacy <c>OptimizerV2</c> serializes itself (name, learning_rate, decay, then its own arguments; no
    /// <c>is_legacy_optimizer</c>), which tf.keras 2.11-2.15 read as the legacy optimizer and this library as that update.</param>
    /// <param name="name">The optimizer's name when it was given (<see cref="Training.Optimizers.Optimizer.Name"/>), written as
    /// tf.keras 2 writes a given name; null: tf.keras 2's default name, the class name (<c>Adam</c>).</param>
    /// <exception cref="NotSupportedException">An optimizer argument tf.keras 2 has not or computes otherwise (named):
    /// <c>loss_scale_factor</c> or <c>gradient_accumulation_steps</c> set, <c>use_ema</c> (tf.keras 2 mixes the first
    /// step into the average, Keras 3 does not), or any base option on a legacy optimizer.</exception>
    public static JsonObject Training(JsonObject compile, bool legacy = false, string? name = null)
    {
        var optimizer = (JsonObject)compile["optimizer"]!;
        var className = (string)optimizer["class_name"]!;
        var config = (JsonObject)optimizer["config"]!.DeepClone();
        config["name"] = name ?? className;
        foreach (var key in new[] { "loss_scale_factor", "gradient_accumulation_steps" })
        {
            if (config.TryGetPropertyValue(key, out var value) && value is not null)
            {
                throw new NotSupportedException($"the optimizer {className}: {key}={value.ToJsonString()} has no tf.keras 2 equivalent (Keras 3 only), so the model cannot be saved in the tf.keras 2 form; save it as .keras or in the Keras 3 .h5 form.");
            }

            config.Remove(key);
        }

        if (config["use_ema"] is JsonValue ema && ema.TryGetValue<bool>(out var useEma) && useEma)
        {
            throw new NotSupportedException($"the optimizer {className}: use_ema=true is computed otherwise by tf.keras 2 (its average starts at the weights and mixes in the first step; Keras 3's is the weights after the first step), so the model cannot be saved in the tf.keras 2 form; save it as .keras or in the Keras 3 .h5 form.");
        }

        if (config["learning_rate"] is JsonObject schedule)
        {
            // tf.keras 2's learning_rate_schedule.serialize: {"class_name", "config"}, without Keras 3's module / registered_name.
            if (schedule["module"] is not JsonValue module || (string?)module != "keras.optimizers.schedules")
            {
                throw new NotSupportedException($"the optimizer {className}: the learning-rate schedule {schedule["class_name"]?.ToJsonString()} is not one of Keras' own, so the model cannot be saved in the tf.keras 2 form; save it as .keras.");
            }

            config["learning_rate"] = new JsonObject { ["class_name"] = schedule["class_name"]!.DeepClone(), ["config"] = schedule["config"]!.DeepClone() };
        }

        if (legacy)
        {
            foreach (var key in new[] { "weight_decay", "clipnorm", "global_clipnorm", "clipvalue" })
            {
                if (config[key] is { } value)
                {
                    throw new NotSupportedException($"the optimizer {className} with tf.keras 2's legacy update: {key}={value.ToJsonString()} is not written in the legacy (OptimizerV2) form, so the model cannot be saved in the tf.keras 2 form; save it as .keras.");
                }
            }

            var own = className == "RMSprop" ? new[] { "rho", "momentum", "epsilon", "centered" } : new[] { "initial_accumulator_value", "epsilon" };
            var legacyConfig = new JsonObject { ["name"] = name ?? className, ["learning_rate"] = config["learning_rate"]?.DeepClone(), ["decay"] = 0.0 };
            foreach (var key in own)
            {
                legacyConfig[key] = config[key]?.DeepClone();
            }

            config = legacyConfig;
        }
        else
        {
            config["jit_compile"] = true;
            config["is_legacy_optimizer"] = false;
        }

        return new JsonObject
        {
            ["loss"] = compile["loss"]?.DeepClone(),
            ["metrics"] = compile["metrics"]?.DeepClone(),
            ["weighted_metrics"] = null,
            ["loss_weights"] = null,
            ["optimizer_config"] = new JsonObject { ["class_name"] = className, ["config"] = config },
        };
    }

    private static JsonObject Layer(JsonObject entry)
    {
        var className = (string)entry["class_name"]!;
        var config = (JsonObject)Plain(entry["config"])!;
        var name = config["name"] is JsonValue n ? (string)n! : className;
        var arguments = LayerRegistry.Find(className)?.TfKeras2 ?? TfKeras2Arguments.None;
        foreach (var (key, keras2Default) in arguments.Keras3Only)
        {
            if (config.TryGetPropertyValue(key, out var value))
            {
                if (!JsonNode.DeepEquals(value, keras2Default))
                {
                    throw new NotSupportedException($"layer '{name}' ({className}): {key}={value?.ToJsonString() ?? "null"} has no tf.keras 2 equivalent, so the model cannot be saved in the tf.keras 2 form; save it as .keras or in the Keras 3 .h5 form.");
                }

                config.Remove(key);
            }
        }

        foreach (var (key, differing) in arguments.Differs)
        {
            if (config.TryGetPropertyValue(key, out var value) && JsonNode.DeepEquals(value, differing))
            {
                throw new NotSupportedException($"layer '{name}' ({className}): {key}={value?.ToJsonString() ?? "null"} is computed otherwise by tf.keras 2, so the model cannot be saved in the tf.keras 2 form; save it as .keras or in the Keras 3 .h5 form.");
            }
        }

        foreach (var (key, value) in arguments.TfKeras2Only)
        {
            if (!config.ContainsKey(key))
            {
                config[key] = value?.DeepClone();
            }
        }

        foreach (var key in new[] { "activation", "recurrent_activation" }.Where(config.ContainsKey))
        {
            // The same name can mean another function in tf.keras 2 (hard_sigmoid).
            config[key] = Activations.ToTfKeras2(entry["config"]![key], name, key);
        }

        // tf.keras 2's RNN.get_config writes zero_output_for_mask only when it is set.
        if (config["zero_output_for_mask"] is JsonValue zero && zero.TryGetValue<bool>(out var set) && !set)
        {
            config.Remove("zero_output_for_mask");
        }

        foreach (var key in new[] { "layer", "backward_layer", "cell" })
        {
            // A wrapper's inner layer and an RNN's cell get the same per-class rules.
            if (entry["config"]?[key] is JsonObject inner && inner.ContainsKey("class_name"))
            {
                config[key] = Layer(inner);
            }
        }

        if (entry["config"]?["cells"] is JsonArray cells)
        {
            // StackedRNNCells: each cell too.
            config["cells"] = new JsonArray(cells.Select(cell => (JsonNode)Layer((JsonObject)cell!)).ToArray());
        }

        foreach (var (keras3Key, tfKeras2Key) in arguments.Renamed.Where(r => config.ContainsKey(r.Keras3Key)))
        {
            var value = config[keras3Key];
            config.Remove(keras3Key);
            config[tfKeras2Key] = value;
        }

        return new JsonObject { ["class_name"] = className, ["config"] = config };
    }

    /// <summary>
    /// A Keras 3 node (<c>{"args": [keras tensors], "kwargs": {}}</c>, or <c>{"initial_state": [...]}</c>) as tf.keras 2's list of
    /// <c>[layer, node_index, tensor_index, kwargs]</c>, one per inbound tensor in call order.
    /// </summary>
    /// <summary>A Keras 3 <c>input_layers</c>/<c>output_layers</c> list with a nested Sequential's calls numbered from 1.</summary>
    private static JsonNode Renumbered(JsonNode references, Dictionary<string, string> nested)
    {
        var copy = references.DeepClone();
        foreach (var reference in (copy is JsonArray { Count: > 0 } list && list[0] is JsonValue ? new[] { list } : ((JsonArray)copy).OfType<JsonArray>()))
        {
            if (nested.GetValueOrDefault((string)reference[0]!) == "Sequential")
            {
                reference[1] = (int)reference[1]! + 1;
            }
        }

        return copy;
    }

    private static JsonArray InboundNode(JsonObject node, string layer, Dictionary<string, string> nested, string? className)
    {
        var kwargs = node["kwargs"] as JsonObject ?? new JsonObject();
        if (className == "MultiHeadAttention")
        {
            // tf.keras 2 writes the query as the entry and value, key and attention_mask as [layer, node, tensor] keyword arguments.
            JsonArray Reference(JsonNode? tensor)
            {
                var history = (JsonArray)tensor!["config"]!["keras_history"]!;
                var skippedNodes = nested.ContainsKey((string)history[0]!) ? 1 : 0;
                return new JsonArray(history[0]!.DeepClone(), (int)history[1]! + skippedNodes, history[2]!.DeepClone());
            }

            var args = (JsonArray)node["args"]!;
            var named = new JsonObject { ["value"] = Reference(args[1]) };
            foreach (var (key, value) in kwargs)
            {
                named[key] = value is JsonObject ? Reference(value) : value?.DeepClone();
            }

            var query = Reference(args[0]);
            query.Add(named);
            return new JsonArray(query);
        }

        // Other call arguments (Attention's use_causal_mask) are plain values that tf.keras 2 keeps with each tensor.
        var arguments = kwargs.Where(kv => kv.Key != "initial_state").ToArray();
        if (arguments.Any(kv => kv.Value is JsonObject or JsonArray))
        {
            throw new NotSupportedException($"layer '{layer}': call arguments {kwargs.ToJsonString()} cannot be written in the tf.keras 2 form.");
        }

        var tensors = new JsonArray();
        void Collect(JsonNode? arg)
        {
            switch (arg)
            {
                case JsonArray list:
                    list.ToList().ForEach(Collect);
                    break;
                case JsonObject { } obj when (string?)obj["class_name"] == "__keras_tensor__":
                    var history = (JsonArray)obj["config"]!["keras_history"]!;
                    var skipped = nested.ContainsKey((string)history[0]!) ? 1 : 0;
                    tensors.Add(new JsonArray(history[0]!.DeepClone(), (int)history[1]! + skipped, history[2]!.DeepClone(),
                        new JsonObject(arguments.Select(kv => KeyValuePair.Create(kv.Key, kv.Value?.DeepClone())))));
                    break;
                default:
                    throw new NotSupportedException($"layer '{layer}': the call argument {arg?.ToJsonString() ?? "null"} cannot be written in the tf.keras 2 form.");
            }
        }

        // tf.keras 2 lists an initial state after the input, in the same node.
        Collect(node["args"]);
        Collect(kwargs["initial_state"] ?? new JsonArray());
        return tensors;
    }

    /// <summary>
    /// A config value without Keras 3's serialization wrappers: DTypePolicy objects become their dtype name, and
    /// other serialized objects (initializers) keep only <c>class_name</c> and <c>config</c>, dropping Keras 3's
    /// unset <c>input_axes</c> / <c>output_axes</c>.
    /// </summary>
    private static JsonNode? Plain(JsonNode? node)
    {
        switch (node)
        {
            // A serialized function (an activation) has a string config; the caller converts it.
            case JsonObject obj when obj.ContainsKey("class_name") && obj["config"] is JsonObject:
                if ((string?)obj["class_name"] == "DTypePolicy")
                {
                    return obj["config"]!["name"]!.DeepClone();
                }

                var inner = (JsonObject?)Plain(obj["config"]) ?? new JsonObject();
                foreach (var key in new[] { "input_axes", "output_axes" })
                {
                    if (inner.TryGetPropertyValue(key, out var value) && value is null)
                    {
                        inner.Remove(key);
                    }
                }

                return new JsonObject { ["class_name"] = obj["class_name"]!.DeepClone(), ["config"] = inner };
            case JsonObject obj:
                return new JsonObject(obj.Select(kv => KeyValuePair.Create(kv.Key, Plain(kv.Value))));
            case JsonArray list:
                return new JsonArray(list.Select(Plain).ToArray());
            default:
                return node?.DeepClone();
        }
    }
}
