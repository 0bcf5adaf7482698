using System.Buffers.Binary;
using Google.Protobuf;

namespace KerasStyle.Tests.Training.Callbacks;

/// <summary>
/// Reads a TensorBoard event file for the tests, independently of the library's writer: the TFRecord framing is
/// parsed by hand and both checksums are recomputed with TorchSharp's CRC-32C (native code from LibTorchSharp, not the
/// .NET intrinsics the library uses), and events are decoded at the wire level with the field numbers of TensorBoard's
/// <c>event.proto</c>, <c>summary.proto</c> and <c>tensor.proto</c>, not with the library's generated classes.
/// </summary>
internal static class TensorBoardEventFile
{
    /// <summary>A decoded event: wall time, step, and either the file version or one summary value.</summary>
    internal sealed record Event(double WallTime, long Step, string? FileVersion, string? Tag, string? Plugin, byte[]? PluginContent, int DataType, int[]? Shape, float? Value, string? Text)
    {
        public override string ToString() => FileVersion is not null ? $"version {FileVersion}" : $"{Tag}@{Step}={Value?.ToString("R", System.Globalization.CultureInfo.InvariantCulture) ?? "text"}";
    }

    /// <summary>TensorFlow's mask of a CRC: rotate right by 15 bits, add 0xa282ead8.</summary>
    public static uint MaskedCrc(byte[] data) => Mask(TorchSharp.Utils.CRC32C.process(data));

    public static uint Mask(uint crc) => ((crc >> 15) | (crc << 17)) + 0xa282ead8u;

    /// <summary>Every record of the file, failing the test on a framing or checksum error.</summary>
    public static List<byte[]> Records(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var records = new List<byte[]>();
        var at = 0;
        while (at < bytes.Length)
        {
            Assert.That(bytes.Length - at, Is.GreaterThanOrEqualTo(12), $"{path}: a record header is cut at byte {at}");
            var header = bytes.AsSpan(at, 8).ToArray();
            var length = BinaryPrimitives.ReadUInt64LittleEndian(header);
            Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 8)), Is.EqualTo(MaskedCrc(header)), $"{path}: masked CRC of the length at byte {at}");
            Assert.That((ulong)(bytes.Length - at - 12), Is.GreaterThanOrEqualTo(length + 4), $"{path}: the record at byte {at} is cut");
            var data = bytes.AsSpan(at + 12, (int)length).ToArray();
            Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 12 + (int)length)), Is.EqualTo(MaskedCrc(data)), $"{path}: masked CRC of the data at byte {at}");
            records.Add(data);
            at += 12 + (int)length + 4;
        }

        return records;
    }

    /// <summary>Every event of the file, in order.</summary>
    public static List<Event> Read(string path) => Records(path).Select(Decode).ToList();

    /// <summary>Decodes an <c>Event</c>: 1 wall_time (double), 2 step (int64), 3 file_version, 5 summary.</summary>
    public static Event Decode(byte[] data)
    {
        double wallTime = 0;
        long step = 0;
        string? version = null;
        Event? value = null;
        var input = new CodedInputStream(data);
        for (uint tag; (tag = input.ReadTag()) != 0;)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1: wallTime = input.ReadDouble(); break;
                case 2: step = input.ReadInt64(); break;
                case 3: version = input.ReadString(); break;
                case 5: value = DecodeSummary(input.ReadBytes().ToByteArray()); break;
                default: input.SkipLastField(); break;
            }
        }

        return value is null
            ? new Event(wallTime, step, version, null, null, null, 0, null, null, null)
            : value with { WallTime = wallTime, Step = step };
    }

    /// <summary><c>Summary</c>: 1 repeated Value; the library writes one value per event, as TensorFlow 2 does.</summary>
    private static Event DecodeSummary(byte[] data)
    {
        var values = new List<Event>();
        var input = new CodedInputStream(data);
        for (uint tag; (tag = input.ReadTag()) != 0;)
        {
            if (WireFormat.GetTagFieldNumber(tag) == 1)
            {
                values.Add(DecodeValue(input.ReadBytes().ToByteArray()));
            }
            else
            {
                input.SkipLastField();
            }
        }

        Assert.That(values, Has.Count.EqualTo(1), "one summary value per event");
        return values[0];
    }

    /// <summary><c>Summary.Value</c>: 1 tag, 9 metadata (1 plugin_data: 1 plugin_name, 2 content), 8 tensor.</summary>
    private static Event DecodeValue(byte[] data)
    {
        string? tagName = null, plugin = null, text = null;
        byte[]? content = null;
        int dtype = 0;
        int[]? shape = null;
        float? scalar = null;
        var input = new CodedInputStream(data);
        for (uint tag; (tag = input.ReadTag()) != 0;)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1: tagName = input.ReadString(); break;
                case 2: scalar = input.ReadFloat(); break; // simple_value (not written by the library)
                case 9:
                    var metadata = new CodedInputStream(input.ReadBytes().ToByteArray());
                    for (uint m; (m = metadata.ReadTag()) != 0;)
                    {
                        if (WireFormat.GetTagFieldNumber(m) != 1)
                        {
                            metadata.SkipLastField();
                            continue;
                        }

                        var pluginData = new CodedInputStream(metadata.ReadBytes().ToByteArray());
                        plugin ??= string.Empty;
                        for (uint p; (p = pluginData.ReadTag()) != 0;)
                        {
                            switch (WireFormat.GetTagFieldNumber(p))
                            {
                                case 1: plugin = pluginData.ReadString(); break;
                                case 2: content = pluginData.ReadBytes().ToByteArray(); break;
                                default: pluginData.SkipLastField(); break;
                            }
                        }
                    }

                    break;
                case 8:
                    (dtype, shape, scalar, text) = DecodeTensor(input.ReadBytes().ToByteArray());
                    break;
                default: input.SkipLastField(); break;
            }
        }

        return new Event(0, 0, null, tagName, plugin, content ?? Array.Empty<byte>(), dtype, shape, scalar, text);
    }

    /// <summary><c>TensorProto</c>: 1 dtype (1 = DT_FLOAT, 7 = DT_STRING), 2 tensor_shape (2 repeated dim: 1 size), 4 tensor_content, 5 float_val, 8 string_val.</summary>
    private static (int DType, int[] Shape, float? Value, string? Text) DecodeTensor(byte[] data)
    {
        int dtype = 0;
        var shape = new List<int>();
        float? value = null;
        string? text = null;
        var input = new CodedInputStream(data);
        for (uint tag; (tag = input.ReadTag()) != 0;)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1: dtype = input.ReadEnum(); break;
                case 2:
                    var dims = new CodedInputStream(input.ReadBytes().ToByteArray());
                    for (uint d; (d = dims.ReadTag()) != 0;)
                    {
                        if (WireFormat.GetTagFieldNumber(d) == 2)
                        {
                            var dim = new CodedInputStream(dims.ReadBytes().ToByteArray());
                            for (uint s; (s = dim.ReadTag()) != 0;)
                            {
                                if (WireFormat.GetTagFieldNumber(s) == 1)
                                {
                                    shape.Add((int)dim.ReadInt64());
                                }
                                else
                                {
                                    dim.SkipLastField();
                                }
                            }
                        }
                        else
                        {
                            dims.SkipLastField();
                        }
                    }

                    break;
                case 4:
                    var bytes = input.ReadBytes().ToByteArray();
                    Assert.That(bytes, Has.Length.EqualTo(4), "a float32 scalar's tensor_content is 4 bytes");
                    value = BinaryPrimitives.ReadSingleLittleEndian(bytes);
                    break;
                case 8: text = input.ReadBytes().ToStringUtf8(); break;
                default: input.SkipLastField(); break;
            }
        }

        return (dtype, shape.ToArray(), value, text);
    }
}
