using System.IO.Compression;
using PureHDF.Filters;

namespace KerasStyle.Saving;

/// <summary>
/// HDF5's deflate filter (id 1) with its output bounded by the chunk size. PureHDF's own inflates into a growing
/// buffer, so a chunk of a few kilobytes that inflates to gigabytes (a zip bomb) was decoded whole; a genuine chunk
/// never inflates to more than its declared size. Registered with PureHDF in place of its own, process-wide (PureHDF
/// keeps one registry); compression is left to PureHDF's filter unchanged.
/// </summary>
internal sealed class BoundedDeflate : IH5Filter
{
    private static readonly DeflateFilter Unbounded = new();

    /// <inheritdoc/>
    public ushort FilterId => DeflateFilter.Id;

    /// <inheritdoc/>
    public string Name => Unbounded.Name;

    /// <summary>Puts this filter in PureHDF's registry in place of its deflate filter.</summary>
    public static void Register() => H5Filter.Register(new BoundedDeflate());

    /// <inheritdoc/>
    public Memory<byte> Filter(FilterInfo info)
    {
        if (!info.Flags.HasFlag(H5FilterFlags.Decompress))
        {
            return Unbounded.Filter(info);
        }

        var output = new byte[info.ChunkSize];
        using var source = new ZLibStream(new MemoryStream(info.Buffer.ToArray(), writable: false), CompressionMode.Decompress);
        var length = 0;
        int read;
        while (length < output.Length && (read = source.Read(output, length, output.Length - length)) > 0)
        {
            length += read;
        }

        if (source.ReadByte() >= 0)
        {
            throw new InvalidDataException($"a deflate-compressed chunk inflates to more than its declared {info.ChunkSize} bytes.");
        }

        return output.AsMemory(0, length);
    }

    /// <inheritdoc/>
    public uint[] GetParameters(uint[] chunkDimensions, uint typeSize, Dictionary<string, object>? options) =>
        Unbounded.GetParameters(chunkDimensions, typeSize, options);
}
