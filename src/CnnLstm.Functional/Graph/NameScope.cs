using System.Text.RegularExpressions;

namespace KerasStyle.Graph;

/// <summary>
/// Hands out default layer and model names, counting per prefix: Keras 2's (<c>conv1d_1</c>, <c>conv1d_2</c>, ...)
/// or, under <see cref="ConsoleStyle.Keras3"/>, Keras 3's (<c>conv1d</c>, <c>conv1d_1</c>, ...; <c>input_layer</c>
/// for inputs, <c>functional</c> for models; keras/src/utils/naming.py). <see cref="Backend.ClearSession"/> resets
/// the counters, as Keras' <c>clear_session()</c> does.
/// </summary>
internal static partial class NameScope
{
    private static readonly Dictionary<string, int> Counters = new(StringComparer.Ordinal);
    private static readonly Lock Gate = new();

    /// <summary>
    /// The next name for <paramref name="prefix"/>: <c>prefix_1</c>, then <c>prefix_2</c>, ...; under Keras 3 names
    /// <see cref="UniqueKeras3Name"/> of Keras 3's prefix (<c>input</c> is <c>input_layer</c>, <c>model</c> is
    /// <c>functional</c>).
    /// </summary>
    public static string UniqueName(string prefix)
    {
        if (Backend.ConsoleStyle == ConsoleStyle.Keras3)
        {
            return UniqueKeras3Name(prefix switch { "input" => "input_layer", "model" => "functional", _ => prefix });
        }

        lock (Gate)
        {
            Counters.TryGetValue(prefix, out var count);
            Counters[prefix] = count + 1;
            return $"{prefix}_{count + 1}";
        }
    }

    /// <summary>
    /// Keras 3's <c>auto_name</c> for objects without a given name (metrics, and layers and models under Keras 3
    /// names): <c>prefix</c>, then <c>prefix_1</c>, <c>prefix_2</c>... counted apart from Keras 2 layer names.
    /// </summary>
    public static string UniqueKeras3Name(string prefix)
    {
        lock (Gate)
        {
            var key = "keras3:" + prefix;
            Counters.TryGetValue(key, out var count);
            Counters[key] = count + 1;
            return count == 0 ? prefix : $"{prefix}_{count}";
        }
    }

    public static void Reset()
    {
        lock (Gate)
        {
            Counters.Clear();
        }
    }

    /// <summary>
    /// Keras' <c>to_snake_case</c>: <c>MaxPooling1D</c> becomes <c>max_pooling1d</c>, and (digits count as lower case)
    /// <c>ConvLSTM2D</c> becomes <c>conv_lst_m2d</c>.
    /// </summary>
    public static string ToSnakeCase(string name)
    {
        var intermediate = FirstCap().Replace(name, "$1_$2");
        return LowerUpper().Replace(intermediate, "$1_$2").ToLowerInvariant();
    }

    /// <summary>
    /// Keras 3's <c>to_snake_case</c> (keras/src/utils/naming.py), where digits do not count as lower case:
    /// <c>ConvLSTM2D</c> becomes <c>conv_lstm2d</c> (the other library classes come out as with <see cref="ToSnakeCase"/>).
    /// Keras 3 names a layer's group in a weights file with it.
    /// </summary>
    public static string ToKeras3SnakeCase(string name)
    {
        var intermediate = FirstCapKeras3().Replace(name, "$1_$2");
        return LowerUpper().Replace(intermediate, "$1_$2").ToLowerInvariant();
    }

    [GeneratedRegex("(.)([A-Z][a-z]+)")]
    private static partial Regex FirstCapKeras3();

    [GeneratedRegex("(.)([A-Z][a-z0-9]+)")]
    private static partial Regex FirstCap();

    [GeneratedRegex("([a-z])([A-Z])")]
    private static partial Regex LowerUpper();
}
