using System.Buffers.Binary;
using System.Numerics;

namespace KerasStyle.Preprocessing;

/// <summary>
/// SipHash-2-4 with a 64-bit output (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012; reference
/// implementation github.com/veorq/SipHash), the keyed hash behind TensorFlow's <c>tf.strings.to_hash_bucket_strong</c>
/// (highwayhash's <c>SipHash</c>), which Keras' <c>Hashing</c> layer uses when given a salt. The 128-bit key is two
/// 64-bit words, <c>k0</c> and <c>k1</c> (a 16-byte key read as two little-endian words). Checked against the
/// reference implementation's test vectors.
/// </summary>
public static class SipHash
{
    /// <summary>SipHash-2-4 of <paramref name="data"/> under the key (<paramref name="k0"/>, <paramref name="k1"/>).</summary>
    /// <param name="k0">The key's first 64-bit word (bytes 0-7 of a 16-byte key, little-endian; TensorFlow's <c>key[0]</c>).</param>
    /// <param name="k1">The key's second 64-bit word (bytes 8-15; TensorFlow's <c>key[1]</c>).</param>
    /// <param name="data">The bytes to hash (for a string, its UTF-8 bytes).</param>
    /// <returns>The 64-bit hash, as the reference's 8 output bytes read little-endian.</returns>
    public static ulong Hash24(ulong k0, ulong k1, ReadOnlySpan<byte> data)
    {
        unchecked
        {
            var v0 = k0 ^ 0x736f6d6570736575UL;
            var v1 = k1 ^ 0x646f72616e646f6dUL;
            var v2 = k0 ^ 0x6c7967656e657261UL;
            var v3 = k1 ^ 0x7465646279746573UL;
            var blocks = data.Length / 8;
            for (var i = 0; i < blocks; i++)
            {
                var m = BinaryPrimitives.ReadUInt64LittleEndian(data.Slice(i * 8, 8));
                v3 ^= m;
                Round(ref v0, ref v1, ref v2, ref v3);
                Round(ref v0, ref v1, ref v2, ref v3);
                v0 ^= m;
            }

            var last = (ulong)data.Length << 56;
            var tail = data[(blocks * 8)..];
            for (var i = 0; i < tail.Length; i++)
            {
                last |= (ulong)tail[i] << (8 * i);
            }

            v3 ^= last;
            Round(ref v0, ref v1, ref v2, ref v3);
            Round(ref v0, ref v1, ref v2, ref v3);
            v0 ^= last;
            v2 ^= 0xff;
            for (var i = 0; i < 4; i++)
            {
                Round(ref v0, ref v1, ref v2, ref v3);
            }

            return v0 ^ v1 ^ v2 ^ v3;
        }
    }

    private static void Round(ref ulong v0, ref ulong v1, ref ulong v2, ref ulong v3)
    {
        unchecked
        {
            v0 += v1;
            v1 = BitOperations.RotateLeft(v1, 13);
            v1 ^= v0;
            v0 = BitOperations.RotateLeft(v0, 32);
            v2 += v3;
            v3 = BitOperations.RotateLeft(v3, 16);
            v3 ^= v2;
            v0 += v3;
            v3 = BitOperations.RotateLeft(v3, 21);
            v3 ^= v0;
            v2 += v1;
            v1 = BitOperations.RotateLeft(v1, 17);
            v1 ^= v2;
            v2 = BitOperations.RotateLeft(v2, 32);
        }
    }
}
