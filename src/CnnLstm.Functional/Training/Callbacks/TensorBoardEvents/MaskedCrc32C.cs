using System.Buffers.Binary;
using System.Numerics;

namespace KerasStyle.Training.Callbacks.TensorBoardEvents;

/// <summary>
/// The checksums of TensorFlow's record format (TFRecord): CRC-32C (Castagnoli), masked as TensorFlow masks it
/// (rotated right by 15 bits, plus <c>0xa282ead8</c>) so that a CRC stored inside checksummed data stays distinct.
/// The CRC steps are .NET's <see cref="BitOperations.Crc32C(uint, ulong)"/> (SSE4.2 or ARM instructions, with the
/// runtime's own software fallback); only the standard framing (start from all ones, invert at the end) is added here.
/// </summary>
internal static class MaskedCrc32C
{
    /// <summary>The CRC-32C of <paramref name="data"/>; <c>"123456789"</c> gives <c>0xE3069283</c>.</summary>
    public static uint Crc(ReadOnlySpan<byte> data)
    {
        var crc = uint.MaxValue;
        while (data.Length >= sizeof(ulong))
        {
            // The 8-byte step consumes the bytes in memory order, i.e. the little-endian value.
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[sizeof(ulong)..];
        }

        foreach (var b in data)
        {
            crc = BitOperations.Crc32C(crc, b);
        }

        return ~crc;
    }

    /// <summary>The masked CRC-32C that a TFRecord stores after the length and after the data.</summary>
    public static uint Masked(ReadOnlySpan<byte> data) => Mask(Crc(data));

    /// <summary>TensorFlow's mask of a CRC (<c>tensorflow/core/lib/hash/crc32c.h</c>).</summary>
    public static uint Mask(uint crc) => BitOperations.RotateRight(crc, 15) + 0xa282ead8u;
}
