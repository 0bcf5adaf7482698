using System.Text;
using KerasStyle.Layers;

namespace KerasStyle.Saving;

/// <summary>
/// The library's own weights file (<c>.ksw</c>): for each layer with weights, in model order, its name and its
/// weights (name, Keras shape, little-endian float32 values). Used until Keras' HDF5 formats are supported.
/// </summary>
internal static class WeightsFile
{
    private const string Magic = "KSWEIGHT";
    private const int Version = 1;

    public static void Save(string path, IReadOnlyList<Layer> layers)
    {
        var withWeights = layers.Where(l => l.Weights.Count > 0).ToArray();
        var values = withWeights.Select(l => l.GetWeights()).ToArray();
        AtomicFile.Write(path, stream =>
        {
            using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
            writer.Write(Encoding.ASCII.GetBytes(Magic));
            writer.Write(Version);
            writer.Write(withWeights.Length);
            for (var l = 0; l < withWeights.Length; l++)
            {
                writer.Write(withWeights[l].Name);
                writer.Write(values[l].Count);
                for (var w = 0; w < values[l].Count; w++)
                {
                    writer.Write(withWeights[l].Weights[w].Name);
                    writer.Write(values[l][w].Shape.Count);
                    foreach (var d in values[l][w].Shape)
                    {
                        writer.Write(d);
                    }

                    foreach (var v in values[l][w].Data)
                    {
                        writer.Write(v);
                    }
                }
            }
        });
    }

    /// <summary>Reads every layer's weights, checks them all against the model, then assigns them.</summary>
    public static void Load(string path, IReadOnlyList<Layer> layers)
    {
        var withWeights = layers.Where(l => l.Weights.Count > 0).ToArray();
        List<(string Layer, List<WeightArray> Values)> stored;
        try
        {
            stored = Read(path);
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"Weights file '{path}' is truncated.", e);
        }

        if (stored.Count != withWeights.Length)
        {
            throw new InvalidDataException(
                $"Weights file '{path}' holds weights for {stored.Count} layers ({string.Join(", ", stored.Select(s => s.Layer))}), but the model has {withWeights.Length} layers with weights ({string.Join(", ", withWeights.Select(l => l.Name))}).");
        }

        for (var i = 0; i < withWeights.Length; i++)
        {
            try
            {
                withWeights[i].CheckWeights(stored[i].Values, 0, stored[i].Values.Count);
            }
            catch (ArgumentException e)
            {
                throw new InvalidDataException($"Weights file '{path}', stored layer '{stored[i].Layer}': {e.Message}", e);
            }
        }

        for (var i = 0; i < withWeights.Length; i++)
        {
            withWeights[i].AssignWeights(stored[i].Values, 0);
        }
    }

    private static List<(string Layer, List<WeightArray> Values)> Read(string path)
    {
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream, Encoding.UTF8);
        var magic = Encoding.ASCII.GetString(reader.ReadBytes(Magic.Length));
        if (magic != Magic)
        {
            throw new InvalidDataException($"'{path}' is not a KerasStyle weights file (it does not start with {Magic}).");
        }

        var version = reader.ReadInt32();
        if (version != Version)
        {
            throw new InvalidDataException($"Weights file '{path}' has version {version}; this library reads version {Version}.");
        }

        var layerCount = reader.ReadInt32();
        var result = new List<(string, List<WeightArray>)>();
        for (var l = 0; l < layerCount; l++)
        {
            var name = reader.ReadString();
            var count = reader.ReadInt32();
            var values = new List<WeightArray>();
            for (var w = 0; w < count; w++)
            {
                reader.ReadString();
                var rank = reader.ReadInt32();
                var shape = Enumerable.Range(0, rank).Select(_ => reader.ReadInt32()).ToArray();
                var length = shape.Aggregate(1L, (a, d) => a * d);
                if (rank < 0 || shape.Any(d => d < 0) || length > stream.Length)
                {
                    throw new InvalidDataException($"Weights file '{path}' is corrupted at layer '{name}'.");
                }

                var data = new float[length];
                for (var i = 0; i < data.Length; i++)
                {
                    data[i] = reader.ReadSingle();
                }

                values.Add(new WeightArray(shape, data));
            }

            result.Add((name, values));
        }

        return result;
    }
}
