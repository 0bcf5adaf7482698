using static TorchSharp.torch;

namespace KerasStyle.Engine;

/// <summary>Keras activation functions by name, computed with TorchSharp.</summary>
public static class Activations
{
    private static readonly Dictionary<string, Func<Tensor, Tensor>> Functions = new(StringComparer.Ordinal)
    {
        ["linear"] = x => x.alias(),
        ["relu"] = x => nn.functional.relu(x),
        ["sigmoid"] = x => x.sigmoid(),
        ["tanh"] = x => x.tanh(),
        ["softmax"] = x => x.softmax(-1),
        // Keras 2: clip(0.2 * x + 0.5, 0, 1).
        ["hard_sigmoid"] = x => (x * 0.2 + 0.5).clamp(0.0, 1.0),
        ["elu"] = x => nn.functional.elu(x, 1.0),
        ["selu"] = x => nn.functional.selu(x),
        ["softplus"] = x => nn.functional.softplus(x),
        ["softsign"] = x => nn.functional.softsign(x),
        ["exponential"] = x => x.exp(),
    };

    /// <summary>The names this library knows, in alphabetical order.</summary>
    public static IReadOnlyList<string> Names { get; } = Functions.Keys.Order(StringComparer.Ordinal).ToArray();

    /// <summary>Whether <paramref name="name"/> is a known activation.</summary>
    /// <param name="name">A Keras activation name such as <c>relu</c>.</param>
    public static bool IsKnown(string? name) => name is not null && Functions.ContainsKey(name);

    /// <summary>
    /// Checks an activation name given to a layer constructor; null means linear, as in Keras.
    /// </summary>
    /// <param name="name">The name given.</param>
    /// <param name="layerClass">The class of the layer being built, for the message.</param>
    /// <param name="argument">The argument name, for the message.</param>
    /// <returns>The name to use.</returns>
    public static string Validate(string? name, string layerClass, string argument)
    {
        name ??= "linear";
        if (!Functions.ContainsKey(name))
        {
            throw new ArgumentException(
                $"{layerClass}: unknown activation '{name}' for {argument}; known activations are {string.Join(", ", Names)}.", argument);
        }

        return name;
    }

    /// <summary>Applies the named activation.</summary>
    /// <param name="name">A known activation name.</param>
    /// <param name="x">The input.</param>
    internal static Tensor Apply(string name, Tensor x) => Functions[name](x);
}
