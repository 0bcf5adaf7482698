using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Google.Protobuf;
using KerasStyle.Training.Callbacks.TensorBoardEvents.Proto;

namespace KerasStyle.Training.Callbacks.TensorBoardEvents;

/// <summary>
/// One TensorBoard event file, written as TensorFlow 2's summary writer writes it: a TFRecord per <c>Event</c> (the
/// little-endian uint64 length, the masked CRC-32C of those 8 bytes, the serialized event, the masked CRC-32C of the
/// event), the first event holding the file version <c>brain.Event:2</c>, and scalars as float32 tensors tagged with
/// the <c>scalars</c> plugin. The file is named <c>events.out.tfevents.&lt;Unix seconds&gt;.&lt;host&gt;.&lt;process
/// id&gt;.&lt;counter&gt;.v2</c>. Events are appended: the file is opened for each group of records and closed
/// again, so nothing stays open between callbacks (a Fit that throws leaves no open handle). A process killed during
/// an append can leave a partial last record, which TensorBoard's reader treats as not yet written.
/// </summary>
internal sealed class EventFileWriter
{
    private static int counter;

    /// <summary>Creates the directory if needed, and a new event file in it holding the version event.</summary>
    /// <param name="directory">The run directory, e.g. <c>logs/train</c>.</param>
    public EventFileWriter(string directory)
    {
        Directory.CreateDirectory(directory);
        var now = DateTimeOffset.UtcNow;
        var name = string.Create(CultureInfo.InvariantCulture,
            $"events.out.tfevents.{now.ToUnixTimeSeconds():D10}.{HostName()}.{Environment.ProcessId}.{Interlocked.Increment(ref counter)}.v2");
        FilePath = Path.Combine(directory, name);
        var version = new Event { WallTime = Seconds(now), FileVersion = "brain.Event:2", SourceMetadata = new SourceMetadata { Writer = "KerasStyle.Training.Callbacks.TensorBoard" } };
        using var stream = new FileStream(FilePath, FileMode.CreateNew, FileAccess.Write);
        stream.Write(Record(version));
    }

    /// <summary>The event file.</summary>
    public string FilePath { get; }

    /// <summary>A scalar event as <c>tf.summary.scalar</c> writes it: a float32 tensor of shape () with the <c>scalars</c> plugin.</summary>
    /// <param name="tag">The tag, e.g. <c>epoch_loss</c>.</param>
    /// <param name="value">The value; stored as float32, as <c>tf.summary.scalar</c> casts it.</param>
    /// <param name="step">The step (the epoch, or the global batch count).</param>
    public static Event Scalar(string tag, double value, long step)
    {
        var bytes = new byte[sizeof(float)];
        BinaryPrimitives.WriteSingleLittleEndian(bytes, (float)value);
        var tensor = new TensorProto { Dtype = DataType.DtFloat, TensorShape = new TensorShapeProto(), TensorContent = ByteString.CopyFrom(bytes) };
        return Summary(step, new Summary.Types.Value { Tag = tag, Metadata = Plugin("scalars", ByteString.Empty), Tensor = tensor });
    }

    /// <summary>
    /// The model summary Keras writes with <c>write_graph</c>: the model's JSON as a string tensor tagged <c>keras</c>
    /// for TensorBoard's <c>graph_keras_model</c> plugin (content <c>"1"</c>, its version), at step 0.
    /// </summary>
    /// <param name="json">The model's JSON configuration.</param>
    public static Event KerasModel(string json)
    {
        var tensor = new TensorProto { Dtype = DataType.DtString, TensorShape = new TensorShapeProto(), StringVal = { ByteString.CopyFromUtf8(json) } };
        return Summary(0, new Summary.Types.Value { Tag = "keras", Metadata = Plugin("graph_keras_model", ByteString.CopyFromUtf8("1")), Tensor = tensor });
    }

    /// <summary>Appends events to the file, all in one write.</summary>
    /// <param name="events">The events, in order.</param>
    public void Append(IEnumerable<Event> events)
    {
        using var buffer = new MemoryStream();
        foreach (var e in events)
        {
            buffer.Write(Record(e));
        }

        if (buffer.Length == 0)
        {
            return;
        }

        using var stream = new FileStream(FilePath, FileMode.Append, FileAccess.Write);
        buffer.WriteTo(stream);
    }

    /// <summary>One TFRecord: length, masked CRC of the length, data, masked CRC of the data (all little-endian).</summary>
    internal static byte[] Record(Event e)
    {
        var data = e.ToByteArray();
        var record = new byte[8 + 4 + data.Length + 4];
        BinaryPrimitives.WriteUInt64LittleEndian(record, (ulong)data.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(8), MaskedCrc32C.Masked(record.AsSpan(0, 8)));
        data.CopyTo(record, 12);
        BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(12 + data.Length), MaskedCrc32C.Masked(data));
        return record;
    }

    private static Event Summary(long step, Summary.Types.Value value) =>
        new() { WallTime = Seconds(DateTimeOffset.UtcNow), Step = step, Summary = new Summary { Value = { value } } };

    private static SummaryMetadata Plugin(string name, ByteString content) =>
        new() { PluginData = new SummaryMetadata.Types.PluginData { PluginName = name, Content = content } };

    /// <summary>Seconds since the Unix epoch, with the clock's fraction (TensorBoard's <c>wall_time</c>).</summary>
    private static double Seconds(DateTimeOffset time) => (time - DateTimeOffset.UnixEpoch).TotalSeconds;

    private static string HostName()
    {
        try
        {
            return Dns.GetHostName();
        }
        catch (SocketException)
        {
            return Environment.MachineName;
        }
    }
}
