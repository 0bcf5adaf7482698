using KerasStyle.Engine;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Engine;

/// <summary>
/// The dropout mask (Engine/DropoutMask.cs) draws element k's keep/drop from SplitMix64 at position k / 2 of the
/// seed's stream (low half for even k, high half for odd), whatever the vector width, length or thread split: the
/// same seed gives the same mask on every CPU.
/// </summary>
public class DropoutMaskTests
{
    private static float Expected(ulong seed, long k, uint threshold, float scale)
    {
        var z = seed + (((ulong)(k >> 1) + 1) * 0x9E3779B97F4A7C15UL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        var draw = (k & 1) == 0 ? (uint)z : (uint)(z >> 32);
        return draw >= threshold ? scale : 0f;
    }

    [TestCase(1, 0.25)]
    [TestCase(7, 0.5)]
    [TestCase(8, 0.25)]
    [TestCase(17, 0.25)]
    [TestCase(33, 0.1)]
    [TestCase(100_003, 0.25)]
    public void Apply_AnyLength_EqualsTheScalarStream(int n, double rate)
    {
        const ulong seed = 0x1234_5678_9ABC_DEF0UL;
        using var scope = NewDisposeScope();
        var mask = DropoutMask.Apply(ones(n), rate, seed).data<float>().ToArray();
        var threshold = (uint)Math.Round(rate * 4294967296.0);
        var scale = (float)(1 / (1 - rate));
        var expected = Enumerable.Range(0, n).Select(k => Expected(seed, k, threshold, scale)).ToArray();
        Assert.That(mask, Is.EqualTo(expected));

        // Sanity of the draw itself: about rate of the elements dropped.
        if (n > 10_000)
        {
            Assert.That(mask.Count(v => v == 0) / (double)n, Is.EqualTo(rate).Within(0.01));
        }
    }
}
