namespace KerasStyle.Training.Optimizers;

/// <summary>Creates optimizers from their Keras names, with Keras defaults.</summary>
public static class OptimizerNames
{
    private static readonly Dictionary<string, Func<Optimizer>> Factories = new(StringComparer.Ordinal)
    {
        ["adam"] = () => new Adam(),
        ["sgd"] = () => new SGD(),
        ["rmsprop"] = () => new RMSprop(),
        ["adamw"] = () => new AdamW(),
        ["nadam"] = () => new Nadam(),
        ["adamax"] = () => new Adamax(),
        ["adagrad"] = () => new Adagrad(),
        ["adadelta"] = () => new Adadelta(),
        ["lion"] = () => new Lion(),
        ["ftrl"] = () => new Ftrl(),
    };

    /// <summary>Whether <paramref name="className"/> is one of the library's optimizer classes (any case, as Keras reads them).</summary>
    internal static bool IsBuiltInClass(string className) => Factories.ContainsKey(className.ToLowerInvariant());

    /// <summary>The known names.</summary>
    public static IReadOnlyList<string> Known { get; } = Factories.Keys.ToArray();

    /// <summary>A new optimizer for a Keras name such as <c>adam</c>.</summary>
    /// <param name="name">The name.</param>
    public static Optimizer Create(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return Factories.TryGetValue(name, out var factory)
            ? factory()
            : throw new ArgumentException($"Compile: unknown optimizer '{name}'; known optimizers are {string.Join(", ", Known)} (or pass an Optimizer object).", "optimizer");
    }
}
