namespace KerasStyle.Datasets;

/// <summary>
/// MT19937 with the two seedings and shuffles Keras' data utilities draw from: NumPy's legacy
/// <c>np.random.RandomState(seed).shuffle</c> (<c>index_directory</c>, <c>timeseries_dataset_from_array</c>; NumPy's
/// <c>mt19937_seed</c> and <c>random_interval</c>) and Python's <c>random.seed(seed); random.shuffle</c>
/// (<c>split_dataset</c>'s tf.data path; CPython's <c>init_by_array</c> and <c>_randbelow</c>). Same seed, same order.
/// </summary>
internal sealed class MersenneTwister
{
    private const int N = 624;
    private const int M = 397;
    private readonly uint[] state = new uint[N];
    private int position = N;

    private MersenneTwister()
    {
    }

    /// <summary>NumPy's <c>RandomState(seed)</c> for an integer seed (<c>mt19937_seed</c>: Knuth's init_genrand).</summary>
    public static MersenneTwister NumPy(uint seed)
    {
        var mt = new MersenneTwister();
        mt.InitGenrand(seed);
        return mt;
    }

    /// <summary>Python's <c>random.seed(seed)</c> for an integer seed (<c>init_by_array</c> over |seed|'s 32-bit words).</summary>
    public static MersenneTwister Python(long seed)
    {
        var magnitude = seed == long.MinValue ? (ulong)long.MaxValue + 1 : (ulong)Math.Abs(seed);
        var key = magnitude >> 32 == 0 ? new[] { (uint)magnitude } : new[] { (uint)magnitude, (uint)(magnitude >> 32) };
        var mt = new MersenneTwister();
        mt.InitGenrand(19650218u);
        int i = 1, j = 0;
        for (var k = Math.Max(N, key.Length); k > 0; k--)
        {
            mt.state[i] = (mt.state[i] ^ ((mt.state[i - 1] ^ (mt.state[i - 1] >> 30)) * 1664525u)) + key[j] + (uint)j;
            i++;
            j++;
            if (i >= N)
            {
                mt.state[0] = mt.state[N - 1];
                i = 1;
            }

            if (j >= key.Length)
            {
                j = 0;
            }
        }

        for (var k = N - 1; k > 0; k--)
        {
            mt.state[i] = (mt.state[i] ^ ((mt.state[i - 1] ^ (mt.state[i - 1] >> 30)) * 1566083941u)) - (uint)i;
            i++;
            if (i >= N)
            {
                mt.state[0] = mt.state[N - 1];
                i = 1;
            }
        }

        mt.state[0] = 0x80000000u;
        return mt;
    }

    /// <summary>The next 32-bit output (genrand_int32).</summary>
    public uint NextUInt32()
    {
        if (position >= N)
        {
            for (var k = 0; k < N; k++)
            {
                var y = (state[k] & 0x80000000u) | (state[(k + 1) % N] & 0x7fffffffu);
                state[k] = state[(k + M) % N] ^ (y >> 1) ^ ((y & 1u) != 0 ? 0x9908b0dfu : 0u);
            }

            position = 0;
        }

        var x = state[position++];
        x ^= x >> 11;
        x ^= (x << 7) & 0x9d2c5680u;
        x ^= (x << 15) & 0xefc60000u;
        x ^= x >> 18;
        return x;
    }

    /// <summary>NumPy's legacy <c>RandomState.shuffle</c> of a list: for i from n - 1 down to 1, swap i with <c>random_interval(i)</c>.</summary>
    public void NumPyShuffle<T>(IList<T> items)
    {
        for (var i = items.Count - 1; i > 0; i--)
        {
            var j = NumPyInterval((uint)i);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    /// <summary>Python's <c>random.shuffle</c>: for i from n - 1 down to 1, swap i with <c>_randbelow(i + 1)</c>.</summary>
    public void PythonShuffle<T>(IList<T> items)
    {
        for (var i = items.Count - 1; i > 0; i--)
        {
            var j = PythonBelow((uint)i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    /// <summary>NumPy's <c>random_interval(max)</c> for max below 2^32: masked draws until one is at most max.</summary>
    private int NumPyInterval(uint max)
    {
        var mask = max;
        mask |= mask >> 1;
        mask |= mask >> 2;
        mask |= mask >> 4;
        mask |= mask >> 8;
        mask |= mask >> 16;
        uint value;
        while ((value = NextUInt32() & mask) > max)
        {
        }

        return (int)value;
    }

    /// <summary>CPython's <c>_randbelow_with_getrandbits(n)</c>: k = n.bit_length(), getrandbits(k) until below n.</summary>
    private int PythonBelow(uint n)
    {
        var k = 32 - System.Numerics.BitOperations.LeadingZeroCount(n);
        uint r;
        while ((r = NextUInt32() >> (32 - k)) >= n)
        {
        }

        return (int)r;
    }

    private void InitGenrand(uint seed)
    {
        state[0] = seed;
        for (var i = 1; i < N; i++)
        {
            state[i] = (1812433253u * (state[i - 1] ^ (state[i - 1] >> 30))) + (uint)i;
        }

        position = N;
    }
}
