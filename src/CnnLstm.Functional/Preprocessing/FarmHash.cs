using System.Buffers.Binary;
using System.Numerics;

namespace KerasStyle.Preprocessing;

/// <summary>
/// FarmHash's <c>Fingerprint64</c> (google/farmhash, src/farmhash.cc: <c>farmhashna::Hash64</c>), the hash behind
/// TensorFlow's <c>Fingerprint64</c> and <c>tf.strings.to_hash_bucket_fast</c>, which Keras' <c>Hashing</c> layer
/// uses without a salt. Portable and fixed forever by its authors: the same bytes give the same value on every
/// platform. Checked against farmhash's own self-test values.
/// </summary>
public static class FarmHash
{
    private const ulong K0 = 0xc3a5c85c97cb3127UL;
    private const ulong K1 = 0xb492b66fbe98f273UL;
    private const ulong K2 = 0x9ae16a3b2f90404fUL;

    /// <summary>FarmHash <c>Fingerprint64</c> of <paramref name="data"/>.</summary>
    /// <param name="data">The bytes to hash (for a string, its UTF-8 bytes, as TensorFlow hashes them).</param>
    /// <returns>The 64-bit fingerprint.</returns>
    public static ulong Fingerprint64(ReadOnlySpan<byte> data)
    {
        var len = data.Length;
        if (len <= 16)
        {
            return HashLen0To16(data);
        }

        if (len <= 32)
        {
            return HashLen17To32(data);
        }

        if (len <= 64)
        {
            return HashLen33To64(data);
        }

        // Over 64 bytes: 56 bytes of state (v, w, x, y, z) over 64-byte blocks, then the last 64 bytes.
        const ulong seed = 81;
        var x = seed;
        var y = unchecked(seed * K1 + 113);
        var z = unchecked(ShiftMix(y * K2 + 113) * K2);
        (ulong First, ulong Second) v = (0, 0);
        (ulong First, ulong Second) w = (0, 0);
        unchecked
        {
            x = x * K2 + Fetch64(data, 0);
            var end = ((len - 1) / 64) * 64;
            var last64 = end + ((len - 1) & 63) - 63;
            var s = 0;
            do
            {
                x = Rotate(x + y + v.First + Fetch64(data, s + 8), 37) * K1;
                y = Rotate(y + v.Second + Fetch64(data, s + 48), 42) * K1;
                x ^= w.Second;
                y += v.First + Fetch64(data, s + 40);
                z = Rotate(z + w.First, 33) * K1;
                v = WeakHashLen32WithSeeds(data, s, v.Second * K1, x + w.First);
                w = WeakHashLen32WithSeeds(data, s + 32, z + w.Second, y + Fetch64(data, s + 16));
                (z, x) = (x, z);
                s += 64;
            }
            while (s != end);

            var mul = K1 + ((z & 0xff) << 1);
            s = last64;
            w.First += (ulong)((len - 1) & 63);
            v.First += w.First;
            w.First += v.First;
            x = Rotate(x + y + v.First + Fetch64(data, s + 8), 37) * mul;
            y = Rotate(y + v.Second + Fetch64(data, s + 48), 42) * mul;
            x ^= w.Second * 9;
            y += v.First * 9 + Fetch64(data, s + 40);
            z = Rotate(z + w.First, 33) * mul;
            v = WeakHashLen32WithSeeds(data, s, v.Second * mul, x + w.First);
            w = WeakHashLen32WithSeeds(data, s + 32, z + w.Second, y + Fetch64(data, s + 16));
            (z, x) = (x, z);
            return HashLen16(HashLen16(v.First, w.First, mul) + ShiftMix(y) * K0 + z, HashLen16(v.Second, w.Second, mul) + x, mul);
        }
    }

    private static ulong Fetch64(ReadOnlySpan<byte> data, int at) => BinaryPrimitives.ReadUInt64LittleEndian(data.Slice(at, 8));

    private static ulong Fetch32(ReadOnlySpan<byte> data, int at) => BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(at, 4));

    private static ulong Rotate(ulong value, int shift) => BitOperations.RotateRight(value, shift);

    private static ulong ShiftMix(ulong value) => value ^ (value >> 47);

    private static ulong HashLen16(ulong u, ulong v, ulong mul)
    {
        unchecked
        {
            var a = (u ^ v) * mul;
            a ^= a >> 47;
            var b = (v ^ a) * mul;
            b ^= b >> 47;
            return b * mul;
        }
    }

    private static ulong HashLen0To16(ReadOnlySpan<byte> s)
    {
        var len = s.Length;
        unchecked
        {
            if (len >= 8)
            {
                var mul = K2 + (ulong)len * 2;
                var a = Fetch64(s, 0) + K2;
                var b = Fetch64(s, len - 8);
                var c = Rotate(b, 37) * mul + a;
                var d = (Rotate(a, 25) + b) * mul;
                return HashLen16(c, d, mul);
            }

            if (len >= 4)
            {
                var mul = K2 + (ulong)len * 2;
                var a = Fetch32(s, 0);
                return HashLen16((ulong)len + (a << 3), Fetch32(s, len - 4), mul);
            }

            if (len > 0)
            {
                uint a = s[0];
                uint b = s[len >> 1];
                uint c = s[len - 1];
                var y = a + (b << 8);
                var z = (uint)len + (c << 2);
                return ShiftMix(y * K2 ^ z * K0) * K2;
            }

            return K2;
        }
    }

    private static ulong HashLen17To32(ReadOnlySpan<byte> s)
    {
        var len = s.Length;
        unchecked
        {
            var mul = K2 + (ulong)len * 2;
            var a = Fetch64(s, 0) * K1;
            var b = Fetch64(s, 8);
            var c = Fetch64(s, len - 8) * mul;
            var d = Fetch64(s, len - 16) * K2;
            return HashLen16(Rotate(a + b, 43) + Rotate(c, 30) + d, a + Rotate(b + K2, 18) + c, mul);
        }
    }

    private static ulong HashLen33To64(ReadOnlySpan<byte> s)
    {
        var len = s.Length;
        unchecked
        {
            var mul = K2 + (ulong)len * 2;
            var a = Fetch64(s, 0) * K2;
            var b = Fetch64(s, 8);
            var c = Fetch64(s, len - 8) * mul;
            var d = Fetch64(s, len - 16) * K2;
            var y = Rotate(a + b, 43) + Rotate(c, 30) + d;
            var z = HashLen16(y, a + Rotate(b + K2, 18) + c, mul);
            var e = Fetch64(s, 16) * mul;
            var f = Fetch64(s, 24);
            var g = (y + Fetch64(s, len - 32)) * mul;
            var h = (z + Fetch64(s, len - 24)) * mul;
            return HashLen16(Rotate(e + f, 43) + Rotate(g, 30) + h, e + Rotate(f + a, 18) + g, mul);
        }
    }

    private static (ulong, ulong) WeakHashLen32WithSeeds(ReadOnlySpan<byte> s, int at, ulong a, ulong b)
    {
        unchecked
        {
            var w = Fetch64(s, at);
            var x = Fetch64(s, at + 8);
            var y = Fetch64(s, at + 16);
            var z = Fetch64(s, at + 24);
            a += w;
            b = Rotate(b + a + z, 21);
            var c = a;
            a += x;
            a += y;
            b += Rotate(a, 44);
            return (a + z, b + c);
        }
    }
}
