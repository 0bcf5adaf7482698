using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json.Nodes;
using KerasStyle.Layers;

namespace KerasStyle.Saving;

/// <summary>
/// Names the Keras class of a <see cref="Layer"/> subclass, as Keras' <c>@keras_export</c> /
/// <c>@register_keras_serializable</c>: configs name the layer by it (<see cref="Layer.ClassName"/>), and
/// <see cref="LayerRegistry"/> builds the layer back through the class's static <c>FromConfig(LayerConfig)</c>. The
/// library's own layers carry it and are found by reflection; a user's layer is registered with
/// <see cref="LayerRegistry.Register{T}"/>.
/// </summary>
/// <example>
/// <code>
/// [KerasLayer("Scale")]
/// public sealed class Scale : Layer
/// {
///     public static Scale FromConfig(LayerConfig config) => new(config.GetDouble("factor", 1), config.Name);
///     ...
/// }
/// LayerRegistry.Register&lt;Scale&gt;();
/// </code>
/// </example>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class KerasLayerAttribute : Attribute
{
    private static readonly ConcurrentDictionary<Type, string> Names = new();

    /// <summary>Names the Keras class of the layer.</summary>
    /// <param name="className">The Keras class name written as <c>class_name</c>, e.g. <c>Dense</c>.</param>
    /// <exception cref="ArgumentException"><paramref name="className"/> is null, empty or white space.</exception>
    public KerasLayerAttribute(string className)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(className);
        ClassName = className;
    }

    /// <summary>The Keras class name.</summary>
    public string ClassName { get; }

    /// <summary>
    /// Whether the layer reads its own <c>dtype</c> argument (<see cref="InputLayer"/>, which declares int64 inputs);
    /// default false: a config's <c>dtype</c> must then be float32, as this library computes in float32.
    /// </summary>
    public bool OwnsDType { get; init; }

    /// <summary>
    /// Whether the layer takes integer ids as they are (Keras' <c>Embedding</c>): an input layer that feeds it directly
    /// in a loaded config is read as int64, and a Keras 2 Sequential that starts with it gets an int64 input.
    /// Default false.
    /// </summary>
    public bool TakesIntegerIds { get; init; }

    /// <summary>
    /// Whether Keras 3 also has an operation of this class name (<c>keras.ops</c>' <c>Concatenate</c>), which
    /// legacy <c>.h5</c> configs write without a module: an entry of this name whose config has no <c>trainable</c>
    /// and whose nodes are in the Keras 3 form is that operation (it computes a mask), not the layer. Default false.
    /// </summary>
    public bool SharesNameWithOperation { get; init; }

    /// <summary>The Keras class name of <paramref name="type"/>: its attribute's, else the C# class name.</summary>
    internal static string ClassNameOf(Type type) =>
        Names.GetOrAdd(type, t => t.GetCustomAttribute<KerasLayerAttribute>()?.ClassName ?? t.Name);
}

/// <summary>A config argument that exists in only one of Keras 3 and tf.keras 2.11, with the value that means "as the other version does".</summary>
internal abstract class OneVersionArgumentAttribute : Attribute
{
    private protected OneVersionArgumentAttribute(string key, object? value)
    {
        Key = key;
        Value = TfKeras2Arguments.Json(value);
    }

    /// <summary>The argument.</summary>
    public string Key { get; }

    /// <summary>The value that computes as the other version does.</summary>
    public JsonNode? Value { get; }
}

/// <summary>
/// A Keras 3 argument of the layer that tf.keras 2.11 does not have, and the value that means "as tf.keras 2 does":
/// saving in the tf.keras 2 form drops it at that value and refuses any other.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
internal sealed class Keras3OnlyArgumentAttribute : OneVersionArgumentAttribute
{
    /// <param name="key">The Keras 3 argument, e.g. <c>seed</c>.</param>
    /// <param name="tfKeras2Value">Its value that tf.keras 2 computes (null, a bool, an int or a string).</param>
    public Keras3OnlyArgumentAttribute(string key, object? tfKeras2Value)
        : base(key, tfKeras2Value)
    {
    }
}

/// <summary>
/// A tf.keras 2.11 argument of the layer that Keras 3 does not write, and the value that means "as Keras 3 does":
/// saving in the tf.keras 2 form writes it with that value.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
internal sealed class TfKeras2OnlyArgumentAttribute : OneVersionArgumentAttribute
{
    /// <param name="key">The tf.keras 2 argument, e.g. <c>time_major</c>.</param>
    /// <param name="keras3Value">Its value that computes as Keras 3 does (null, a bool, an int or a string).</param>
    public TfKeras2OnlyArgumentAttribute(string key, object? keras3Value)
        : base(key, keras3Value)
    {
    }
}

/// <summary>A Keras 3 argument of the layer that tf.keras 2.11 writes under another name (InputLayer's <c>batch_shape</c>, <c>batch_input_shape</c> there).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
internal sealed class TfKeras2RenamedArgumentAttribute : Attribute
{
    /// <param name="keras3Key">The Keras 3 name.</param>
    /// <param name="tfKeras2Key">The tf.keras 2 name.</param>
    public TfKeras2RenamedArgumentAttribute(string keras3Key, string tfKeras2Key)
    {
        Keras3Key = keras3Key;
        TfKeras2Key = tfKeras2Key;
    }

    /// <summary>The Keras 3 name.</summary>
    public string Keras3Key { get; }

    /// <summary>The tf.keras 2 name.</summary>
    public string TfKeras2Key { get; }
}

/// <summary>
/// A value of an argument both versions have that tf.keras 2 computes otherwise (Resizing's <c>bicubic</c>: TensorFlow's
/// kernel is not torch's): saving in the tf.keras 2 form refuses it, so no file says a thing tf.keras 2 would compute
/// differently.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
internal sealed class TfKeras2DiffersAttribute : OneVersionArgumentAttribute
{
    /// <param name="key">The argument.</param>
    /// <param name="value">Its value that tf.keras 2 computes otherwise.</param>
    public TfKeras2DiffersAttribute(string key, object? value)
        : base(key, value)
    {
    }
}

/// <summary>How a layer class's config differs between Keras 3 and tf.keras 2.11, read from its attributes.</summary>
/// <param name="Keras3Only">Keras 3 arguments tf.keras 2 lacks, with the value meaning "as tf.keras 2 does".</param>
/// <param name="TfKeras2Only">tf.keras 2 arguments Keras 3 does not write, with the value meaning "as Keras 3 does".</param>
/// <param name="Renamed">Keras 3 arguments tf.keras 2 names otherwise.</param>
/// <param name="Differs">Argument values tf.keras 2 computes otherwise.</param>
internal sealed record TfKeras2Arguments(
    IReadOnlyList<(string Key, JsonNode? Value)> Keras3Only,
    IReadOnlyList<(string Key, JsonNode? Value)> TfKeras2Only,
    IReadOnlyList<(string Keras3Key, string TfKeras2Key)> Renamed,
    IReadOnlyList<(string Key, JsonNode? Value)> Differs)
{
    /// <summary>No differences (a layer without the attributes).</summary>
    public static readonly TfKeras2Arguments None = new(Array.Empty<(string, JsonNode?)>(), Array.Empty<(string, JsonNode?)>(), Array.Empty<(string, string)>(), Array.Empty<(string, JsonNode?)>());

    /// <summary>The differences <paramref name="type"/> declares.</summary>
    public static TfKeras2Arguments Of(Type type) => new(
        type.GetCustomAttributes<Keras3OnlyArgumentAttribute>().Select(a => (a.Key, a.Value)).ToArray(),
        type.GetCustomAttributes<TfKeras2OnlyArgumentAttribute>().Select(a => (a.Key, a.Value)).ToArray(),
        type.GetCustomAttributes<TfKeras2RenamedArgumentAttribute>().Select(a => (a.Keras3Key, a.TfKeras2Key)).ToArray(),
        type.GetCustomAttributes<TfKeras2DiffersAttribute>().Select(a => (a.Key, a.Value)).ToArray());

    /// <summary>An attribute argument (a constant) as JSON.</summary>
    internal static JsonNode? Json(object? value) => value switch
    {
        null => null,
        bool flag => JsonValue.Create(flag),
        int number => JsonValue.Create(number),
        string text => JsonValue.Create(text),
        _ => throw new ArgumentException($"an argument value must be null, a bool, an int or a string, got {value.GetType().Name}.", nameof(value)),
    };
}
