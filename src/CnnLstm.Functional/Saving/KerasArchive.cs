using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace KerasStyle.Saving;

/// <summary>
/// The Keras 3 <c>.keras</c> file: a zip archive holding <c>metadata.json</c> (<c>keras_version</c>,
/// <c>date_saved</c>), <c>config.json</c> (the serialized model with its compile config) and <c>model.weights.h5</c>
/// (the Keras 3 weights layout, see <see cref="Keras3WeightsH5"/>).
/// </summary>
internal static class KerasArchive
{
    /// <summary>The Keras release whose <c>.keras</c> layout the writer follows, recorded as <c>keras_version</c>.</summary>
    public const string KerasVersion = "3.16.0";

    private const string MetadataEntry = "metadata.json";
    private const string ConfigEntry = "config.json";
    private const string WeightsEntry = "model.weights.h5";

    /// <summary>
    /// Writes the archive atomically. The config and then the weights are produced while the temporary file is
    /// open, so a failure at any point leaves the previous file as it was.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="config">Makes config.json.</param>
    /// <param name="writeWeights">Writes model.weights.h5.</param>
    /// <param name="assets">Files under <c>assets/</c> (Keras' <c>save_assets</c>: a text layer's vocabulary.txt), by path inside assets/.</param>
    public static void Write(string path, Func<string> config, Action<Stream> writeWeights, IReadOnlyList<(string Path, string Text)>? assets = null) => AtomicFile.Write(path, stream =>
    {
        using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
        var metadata = new JsonObject
        {
            ["keras_version"] = KerasVersion,
            ["date_saved"] = DateTime.Now.ToString("yyyy-MM-dd@HH:mm:ss", CultureInfo.InvariantCulture),
            ["producer"] = $"KerasStyle {typeof(KerasArchive).Assembly.GetName().Version?.ToString(3)}",
        };
        WriteEntry(zip, MetadataEntry, s => s.Write(Encoding.UTF8.GetBytes(metadata.ToJsonString())));
        WriteEntry(zip, ConfigEntry, s => s.Write(Encoding.UTF8.GetBytes(config())));
        // HDF5 needs a seekable stream; zip entries are not.
        using var weights = new MemoryStream();
        writeWeights(weights);
        weights.Position = 0;
        WriteEntry(zip, WeightsEntry, weights.CopyTo);
        foreach (var (assetPath, text) in assets ?? Array.Empty<(string, string)>())
        {
            WriteEntry(zip, AssetsDirectory + assetPath, s => s.Write(Encoding.UTF8.GetBytes(text)));
        }
    });

    /// <summary>Where Keras' <c>save_assets</c> files go in the archive (saving_lib's <c>_ASSETS_DIRNAME</c>).</summary>
    public const string AssetsDirectory = "assets/";

    /// <summary>
    /// Opens an archive for reading. An archive with two entries of one name is refused. Each entry is read at most
    /// once, refused before reading when it declares more bytes than allowed, cut off when it inflates to more than it
    /// declared, and checked against its CRC-32 (zip's only integrity check: a flipped bit inside a stored weight
    /// loaded silently before). Anything missing, ambiguous or damaged throws a <see cref="KerasFileException"/>
    /// naming the file.
    /// </summary>
    public static Reader OpenRead(string path) => new(path);

    /// <summary>What a model file holds, by its content (its first bytes), whatever its name says.</summary>
    public enum Content
    {
        /// <summary>Neither a zip archive nor an HDF5 file.</summary>
        Unknown,

        /// <summary>A zip archive (a <c>.keras</c> file): it starts with a local file header or an empty archive's end record.</summary>
        Zip,

        /// <summary>An HDF5 file (a Keras <c>.h5</c> file): the HDF5 signature at offset 0, 512, 1024, 2048, ...</summary>
        Hdf5,
    }

    /// <summary>
    /// Reads the content's kind from the file's signature: HDF5's <c>\x89HDF\r\n\x1a\n</c> at offset 0 or, after a
    /// user block, at 512, 1024, 2048, ... (where the HDF5 specification searches for the superblock), or a zip's
    /// <c>PK\x03\x04</c> (<c>PK\x05\x06</c> for an empty archive) at offset 0.
    /// </summary>
    public static Content Sniff(string path)
    {
        ReadOnlySpan<byte> hdf5 = [0x89, (byte)'H', (byte)'D', (byte)'F', (byte)'\r', (byte)'\n', 0x1a, (byte)'\n'];
        using var file = File.OpenRead(path);
        Span<byte> head = stackalloc byte[8];
        for (long offset = 0; offset + head.Length <= file.Length; offset = offset == 0 ? 512 : offset * 2)
        {
            file.Position = offset;
            file.ReadExactly(head);
            if (head.SequenceEqual(hdf5))
            {
                return Content.Hdf5;
            }

            if (offset == 0 && head[0] == (byte)'P' && head[1] == (byte)'K' && ((head[2] == 3 && head[3] == 4) || (head[2] == 5 && head[3] == 6)))
            {
                return Content.Zip;
            }
        }

        return Content.Unknown;
    }

    private static void WriteEntry(ZipArchive zip, string name, Action<Stream> write)
    {
        using var entry = zip.CreateEntry(name, CompressionLevel.NoCompression).Open();
        write(entry);
    }

    /// <summary>An open <c>.keras</c> archive; see <see cref="OpenRead"/>.</summary>
    public sealed class Reader : IDisposable
    {
        /// <summary>The largest config.json read: a model config of thousands of layers is a few megabytes.</summary>
        public const long MaxConfigBytes = 64L << 20;

        /// <summary>The largest metadata.json read: Keras writes three short keys.</summary>
        private const long MaxMetadataBytes = 1L << 20;

        private readonly string path;
        private readonly FileStream file;
        private readonly ZipArchive zip;

        internal Reader(string path)
        {
            this.path = path;
            file = File.OpenRead(path);
            try
            {
                zip = new ZipArchive(file, ZipArchiveMode.Read);
            }
            catch (Exception e) when (e is InvalidDataException or EndOfStreamException or IOException)
            {
                file.Dispose();
                throw new KerasFileException(path, $"not a readable .keras archive: it is truncated, corrupted or not a zip file ({e.Message}).", e);
            }

            // Keras (Python's zipfile) reads the last of two entries with one name, .NET's GetEntry the first: such
            // an archive is two models at once, so it is refused whatever the entry.
            var duplicates = zip.Entries.GroupBy(e => e.FullName, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => $"'{g.Key}' ({g.Count()} times)").ToList();
            if (duplicates.Count > 0)
            {
                Dispose();
                throw new KerasFileException(path, $"the archive holds several entries of one name: {string.Join(", ", duplicates)}; Keras would read the last of them and this library the first, so the file is ambiguous and refused.");
            }
        }

        /// <summary>The parsed config.json.</summary>
        public JsonNode ReadConfig()
        {
            using var bytes = ReadEntry(ConfigEntry, MaxConfigBytes, "a model config");
            try
            {
                return JsonNode.Parse(bytes, documentOptions: ModelConfig.JsonOptions) ?? throw new KerasFileException(path, $"{ConfigEntry} is empty.");
            }
            catch (JsonException e)
            {
                throw new KerasFileException(path, $"{ConfigEntry} is not valid JSON ({e.Message}).", e);
            }
        }

        /// <summary>
        /// The <c>keras_version</c> of metadata.json (e.g. <c>3.16.0</c>, or <c>2.15.0</c> for tf.keras 2.13 to 2.15's
        /// <c>.keras</c> files); null when the archive has no metadata.json or it records no version (Keras' loader
        /// does not need it either). A metadata.json that is not valid JSON throws a <see cref="KerasFileException"/>.
        /// </summary>
        public string? ReadKerasVersion()
        {
            if (zip.GetEntry(MetadataEntry) is null)
            {
                return null;
            }

            using var bytes = ReadEntry(MetadataEntry, MaxMetadataBytes, "a metadata.json");
            try
            {
                return JsonNode.Parse(bytes) is JsonObject metadata && metadata["keras_version"] is JsonValue v && v.TryGetValue<string>(out var version) ? version : null;
            }
            catch (JsonException e)
            {
                throw new KerasFileException(path, $"{MetadataEntry} is not valid JSON ({e.Message}).", e);
            }
        }

        /// <summary>model.weights.h5, refused when it declares more than <paramref name="maxBytes"/>.</summary>
        /// <param name="maxBytes">What the declared model's weights and optimizer state can need.</param>
        public MemoryStream ReadWeights(long maxBytes) => ReadEntry(WeightsEntry, maxBytes, "the model's weights and optimizer state");

        /// <inheritdoc/>
        public void Dispose()
        {
            zip.Dispose();
            file.Dispose();
        }

        /// <summary>A text file under <c>assets/</c> (UTF-8), or null when the archive has none at that path.</summary>
        /// <param name="assetPath">The path inside assets/, e.g. <c>layers/text_vectorization/vocabulary.txt</c>.</param>
        /// <param name="maxBytes">The most bytes the file may declare.</param>
        public string? ReadAsset(string assetPath, long maxBytes)
        {
            if (zip.GetEntry(AssetsDirectory + assetPath) is null)
            {
                return null;
            }

            using var bytes = ReadEntry(AssetsDirectory + assetPath, maxBytes, "a vocabulary");
            return Encoding.UTF8.GetString(bytes.ToArray());
        }

        private MemoryStream ReadEntry(string name, long maxBytes, string what)
        {
            var entry = zip.GetEntry(name) ?? throw new KerasFileException(path, name == ConfigEntry
                ? $"the archive has no {ConfigEntry}, so it is not a Keras 3 .keras file (entries: {string.Join(", ", zip.Entries.Select(e => e.FullName))})."
                : $"the archive has no {name} (only the h5 weights format is supported).");
            if (entry.Length > maxBytes)
            {
                throw new KerasFileException(path, string.Create(CultureInfo.InvariantCulture,
                    $"{name} declares {entry.Length:N0} bytes, more than {what} can need ({maxBytes:N0} bytes); refused before reading."));
            }

            var result = new MemoryStream();
            try
            {
                var crc = new System.IO.Hashing.Crc32();
                var buffer = new byte[81920];
                using (var source = entry.Open())
                {
                    int read;
                    while ((read = source.Read(buffer, 0, buffer.Length)) > 0)
                    {
                        if (result.Length + read > entry.Length)
                        {
                            throw new KerasFileException(path, string.Create(CultureInfo.InvariantCulture,
                                $"{name} inflates to more than the {entry.Length:N0} bytes it declares; the archive is corrupted or crafted."));
                        }

                        crc.Append(buffer.AsSpan(0, read));
                        result.Write(buffer, 0, read);
                    }
                }

                var actual = crc.GetCurrentHashAsUInt32();
                if (result.Length != entry.Length || actual != entry.Crc32)
                {
                    throw new KerasFileException(path, string.Create(CultureInfo.InvariantCulture,
                        $"{name} is corrupted: {result.Length:N0} bytes with CRC-32 {actual:x8}, where the archive records {entry.Length:N0} bytes with CRC-32 {entry.Crc32:x8}."));
                }

                result.Position = 0;
                return result;
            }
            catch (Exception e) when (e is InvalidDataException or EndOfStreamException or IOException)
            {
                result.Dispose();
                throw new KerasFileException(path, $"cannot read {name}: the archive is truncated or corrupted ({e.Message}).", e);
            }
            catch
            {
                result.Dispose();
                throw;
            }
        }
    }
}
