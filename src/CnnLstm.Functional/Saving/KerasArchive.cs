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
    public const string KerasVersion = "3.5.0";

    private const string MetadataEntry = "metadata.json";
    private const string ConfigEntry = "config.json";
    private const string WeightsEntry = "model.weights.h5";

    /// <summary>
    /// Writes the archive atomically. The config and then the weights are produced while the temporary file is
    /// open, so a failure at any point leaves the previous file as it was.
    /// </summary>
    public static void Write(string path, Func<string> config, Action<Stream> writeWeights) => AtomicFile.Write(path, stream =>
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
    });

    /// <summary>Reads the config and the weights file of an archive; anything missing or damaged names the file.</summary>
    public static (JsonNode Config, MemoryStream Weights) Read(string path)
    {
        using var file = File.OpenRead(path);
        try
        {
            using var zip = new ZipArchive(file, ZipArchiveMode.Read);
            var configEntry = zip.GetEntry(ConfigEntry)
                ?? throw new KerasFileException(path, $"the archive has no {ConfigEntry}, so it is not a Keras 3 .keras file (entries: {string.Join(", ", zip.Entries.Select(e => e.FullName))}).");
            JsonNode config;
            using (var reader = new StreamReader(configEntry.Open(), Encoding.UTF8))
            {
                config = JsonNode.Parse(reader.ReadToEnd()) ?? throw new KerasFileException(path, $"{ConfigEntry} is empty.");
            }

            var weightsEntry = zip.GetEntry(WeightsEntry)
                ?? throw new KerasFileException(path, $"the archive has no {WeightsEntry} (only the h5 weights format is supported).");
            var weights = new MemoryStream();
            using (var source = weightsEntry.Open())
            {
                source.CopyTo(weights);
            }

            weights.Position = 0;
            return (config, weights);
        }
        catch (Exception e) when (e is InvalidDataException or JsonException or EndOfStreamException or IOException and not FileNotFoundException)
        {
            throw new KerasFileException(path, $"not a readable .keras archive: it is truncated, corrupted or not a zip file ({e.Message}).", e);
        }
    }

    private static void WriteEntry(ZipArchive zip, string name, Action<Stream> write)
    {
        using var entry = zip.CreateEntry(name, CompressionLevel.NoCompression).Open();
        write(entry);
    }
}
