using static TorchSharp.torch;

namespace KerasStyle.Engine;

/// <summary>
/// Where layers and models get their random generators. Each layer and each model has its own generator (as Keras 3
/// gives each layer a seed generator), seeded from the seed stream of the calling thread (or async flow) when
/// <c>Utils.SetRandomSeed</c> was called there, else from torch's global generator. So a seeded run draws the same
/// initial weights, dropout masks and shuffles alone or beside another seeded run on another thread; with one global
/// generator, two identical concurrent runs differed in 2,421 of 22,791 weights (issue 12).
/// </summary>
internal static class RandomStreams
{
    private static readonly AsyncLocal<Stream?> Current = new();

    /// <summary>Starts this thread's (and flow's) seed stream at <paramref name="seed"/>.</summary>
    public static void Seed(int seed) => Current.Value = new Stream(seed);

    /// <summary>A new generator: the next seed of this flow's stream, or a draw from torch's global generator.</summary>
    public static Generator NewGenerator() => new(Current.Value is { } stream ? stream.Next() : NextSeed(null));

    /// <summary>
    /// A 64-bit draw from a generator, or from torch's global generator when null (a seed for a new generator, or for
    /// the library's own kernels, such as the dropout mask).
    /// </summary>
    public static ulong NextSeed(Generator? generator)
    {
        using var draw = randint(long.MaxValue, new long[] { 1 }, dtype: ScalarType.Int64, generator: generator);
        return (ulong)draw.item<long>();
    }

    private sealed class Stream(int seed)
    {
        private long counter;

        // SplitMix64 of (seed, counter): well-spread, distinct seeds for consecutive generators.
        public ulong Next()
        {
            var z = ((ulong)(uint)seed << 32) + (ulong)Interlocked.Increment(ref counter);
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }
}
