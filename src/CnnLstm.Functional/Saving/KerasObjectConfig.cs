using System.Text.Json.Nodes;

namespace KerasStyle.Saving;

/// <summary>
/// What Keras' small serializable objects (regularizers, constraints, initializers) share in configs: Keras 3.16's serialized form
/// (<c>{"module", "class_name", "config", "registered_name"}</c>), the identifiers <c>keras.*.get</c> accepts (null, a
/// name, Keras 3's or tf.keras 2's object), and the checks of their arguments. <c>kind</c> names the family in errors
/// ("Regularizer", "Constraint", "Initializer").
/// </summary>
internal static class KerasObjectConfig
{
    /// <summary>Keras 3.16's serialized form of an object of <paramref name="module"/>.</summary>
    public static JsonObject Serialize(string module, string className, JsonObject config) => new()
    {
        ["module"] = module,
        ["class_name"] = className,
        ["config"] = config,
        ["registered_name"] = null,
    };

    /// <summary>Keras' <c>get</c>: null gives null; a name is created with an empty config; an object by its class name and config.</summary>
    /// <exception cref="FormatException">Neither a name nor an object with a class name, or a config that is not an object.</exception>
    public static T? Get<T>(JsonNode? identifier, string kind, Func<string, JsonObject, T> create)
        where T : class
    {
        switch (identifier)
        {
            case null:
                return null;
            case JsonValue value when value.TryGetValue<string>(out var name):
                return create(name, new JsonObject());
            case JsonObject obj when obj["class_name"] is JsonValue cls && cls.TryGetValue<string>(out var className):
                var config = obj["config"] ?? new JsonObject();
                return config is JsonObject arguments
                    ? create(className, arguments)
                    : throw new FormatException($"{kind} '{className}': 'config' must be an object, got {config.ToJsonString()}.");
            default:
                throw new FormatException($"Could not interpret {kind.ToLowerInvariant()} identifier: {identifier.ToJsonString()}.");
        }
    }

    /// <summary>A number argument, or <paramref name="fallback"/> when absent.</summary>
    /// <exception cref="FormatException">The value is not a number.</exception>
    public static double Number(JsonObject config, string kind, string name, string key, double fallback)
    {
        var node = config[key];
        if (node is null)
        {
            return fallback;
        }

        return node is JsonValue v && v.TryGetValue<double>(out var d) ? d
            : throw new FormatException($"{kind} '{name}': '{key}' must be a number, got {node.ToJsonString()}.");
    }

    /// <summary>Refuses any argument but <paramref name="keys"/>.</summary>
    /// <exception cref="FormatException">An unknown argument, named with the ones that are taken.</exception>
    public static void OnlyKeys(JsonObject config, string kind, string name, params string[] keys)
    {
        var unknown = config.Select(p => p.Key).Where(k => !keys.Contains(k)).ToArray();
        if (unknown.Length > 0)
        {
            throw new FormatException($"{kind} '{name}': unknown argument{(unknown.Length > 1 ? "s" : string.Empty)} {string.Join(", ", unknown.Select(k => $"'{k}'"))}; it takes {(keys.Length == 0 ? "none" : string.Join(", ", keys.Select(k => $"'{k}'")))}.");
        }
    }
}
