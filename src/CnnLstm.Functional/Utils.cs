using TorchSharp;

namespace KerasStyle;

/// <summary>Utilities, as Keras' <c>keras.utils</c>.</summary>
public static class Utils
{
    /// <summary>
    /// Seeds every random source the library uses (weight initialisers, dropout), as Keras'
    /// <c>keras.utils.set_random_seed</c>.
    /// </summary>
    /// <param name="seed">The seed.</param>
    public static void SetRandomSeed(int seed) => torch.random.manual_seed(seed);
}
