using TorchSharp;

namespace KerasStyle;

/// <summary>Utilities, as Keras' <c>keras.utils</c>.</summary>
public static class Utils
{
    /// <summary>
    /// Seeds every random source the library uses, as Keras' <c>keras.utils.set_random_seed</c>: torch's global
    /// generator, and the seed stream of the calling thread (and the tasks it starts afterwards) from which each layer
    /// and model created there draws its own generator (initial weights, dropout masks, shuffling). So a seeded run
    /// gives the same weights alone or beside another run on another thread.
    /// </summary>
    /// <param name="seed">The seed.</param>
    public static void SetRandomSeed(int seed)
    {
        torch.random.manual_seed(seed);
        Engine.RandomStreams.Seed(seed);
    }
}
