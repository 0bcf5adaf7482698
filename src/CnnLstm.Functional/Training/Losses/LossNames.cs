namespace KerasStyle.Training.Losses;

/// <summary>Creates losses from their Keras names.</summary>
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
    };

    /// <summary>The known names.</summary>
    public static IReadOnlyList<string> Known { get; } = Factories.Keys.ToArray();

    /// <summary>A loss for a Keras name such as <c>mse</c>.</summary>
    /// <param name="name">The name.</param>
    public static Loss Create(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return Factories.TryGetValue(name, out var factory)
            ? factory()
            : throw new ArgumentException($"Compile: unknown loss '{name}'; known losses are {string.Join(", ", Known)} (or pass a Loss object).", "loss");
    }
}
