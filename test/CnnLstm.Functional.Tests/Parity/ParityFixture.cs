using System.Runtime.InteropServices;
using System.Text.Json;
using KerasStyle.Layers;

namespace KerasStyle.Tests.Parity;

/// <summary>A tensor stored in a fixture: its shape and its little-endian float32 (or int32) values.</summary>
internal sealed class StoredTensor
{
    public StoredTensor(int[] shape, string dtype, float[]? floats, int[]? ints)
    {
        Shape = shape;
        DType = dtype;
        Floats = floats;
        Ints = ints;
    }

    public int[] Shape { get; }

    public string DType { get; }

    public float[]? Floats { get; }

    public int[]? Ints { get; }

    public static StoredTensor Read(JsonElement element)
    {
        var shape = element.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray();
        var dtype = element.GetProperty("dtype").GetString()!;
        var bytes = Convert.FromBase64String(element.GetProperty("data").GetString()!);
        var count = shape.Aggregate(1, (a, d) => a * d);
        if (bytes.Length != count * 4)
        {
            throw new InvalidDataException($"tensor of shape ({string.Join(", ", shape)}) holds {bytes.Length} bytes, expected {count * 4}.");
        }

        return dtype == "int32"
            ? new StoredTensor(shape, dtype, null, MemoryMarshal.Cast<byte, int>(bytes).ToArray())
            : new StoredTensor(shape, dtype, MemoryMarshal.Cast<byte, float>(bytes).ToArray(), null);
    }

    /// <summary>The values as a C# array of the tensor's rank (float[,,], int[,], ...), as the public API takes them.</summary>
    public Array ToArray()
    {
        var result = Array.CreateInstance(Ints is null ? typeof(float) : typeof(int), Shape);
        if (Ints is not null)
        {
            Buffer.BlockCopy(Ints, 0, result, 0, Ints.Length * sizeof(int));
        }
        else
        {
            Buffer.BlockCopy(Floats!, 0, result, 0, Floats!.Length * sizeof(float));
        }

        return result;
    }
}

/// <summary>One weight of a fixture, in Keras order and layout.</summary>
internal sealed record StoredWeight(string Layer, string Name, int[] Shape, float[] Data)
{
    public WeightArray ToWeightArray() => new(Shape, Data);
}

/// <summary>
/// A parity fixture written by tools/parity/generate.js from TensorFlow.js: the graph (Keras configuration), the
/// weights in Keras order, inputs and expected outputs, and optionally training steps.
/// </summary>
internal sealed class ParityFixture
{
    private ParityFixture(string name, JsonElement root)
    {
        Name = name;
        Root = root;
        if (root.GetProperty("format").GetString() != "kerasstyle-parity/1")
        {
            throw new InvalidDataException($"{name}: unknown fixture format.");
        }

        Graph = root.GetProperty("graph");
        Weights = ReadWeights(root);
    }

    public static string Folder => Path.Combine(AppContext.BaseDirectory, "Parity", "Fixtures");

    public string Name { get; }

    public JsonElement Root { get; }

    public JsonElement Graph { get; }

    public IReadOnlyList<StoredWeight> Weights { get; }

    public string ReferenceVersion => Root.GetProperty("reference").GetProperty("version").GetString()!;

    public bool HasTraining => Root.GetProperty("training").ValueKind == JsonValueKind.Object;

    public JsonElement Training => Root.GetProperty("training");

    public JsonElement? Factory => Root.GetProperty("factory").ValueKind == JsonValueKind.Object ? Root.GetProperty("factory") : null;

    /// <summary>The case names listed in index.json, in generation order.</summary>
    public static IReadOnlyList<string> CaseNames()
    {
        using var index = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "index.json")));
        return index.RootElement.GetProperty("cases").EnumerateArray().Select(c => c.GetProperty("name").GetString()!).ToArray();
    }

    public static ParityFixture Load(string name)
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("The fixtures store little-endian float32 values.");
        }

        var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, name + ".json")));
        return new ParityFixture(name, document.RootElement);
    }

    private static List<StoredWeight> ReadWeights(JsonElement root)
    {
        var result = new List<StoredWeight>();
        Mulberry32? stream = null;
        foreach (var w in root.GetProperty("weights").EnumerateArray())
        {
            var layer = w.GetProperty("layer").GetString()!;
            var name = w.GetProperty("name").GetString()!;
            var shape = w.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray();
            var count = shape.Aggregate(1, (a, d) => a * d);
            float[] data;
            if (w.GetProperty("data").ValueKind == JsonValueKind.String)
            {
                data = MemoryMarshal.Cast<byte, float>(Convert.FromBase64String(w.GetProperty("data").GetString()!)).ToArray();
            }
            else
            {
                // Not stored (full-size model): regenerate from the case's stream, exactly as generate.js does, and
                // check the first values and the sum the generator recorded.
                stream ??= new Mulberry32(root.GetProperty("prng").GetProperty("seed").GetUInt32());
                data = stream.NextUniformFloats(count, w.GetProperty("scale").GetDouble());
                var first = w.GetProperty("first").EnumerateArray().Select(v => v.GetSingle()).ToArray();
                var sum = data.Sum(v => (double)v);
                if (!data.Take(first.Length).SequenceEqual(first) || sum != w.GetProperty("sum").GetDouble())
                {
                    throw new InvalidDataException($"{layer}/{name}: regenerated weights differ from the generator's (first {string.Join(", ", data.Take(4))}, sum {sum:R}).");
                }
            }

            if (data.Length != count)
            {
                throw new InvalidDataException($"{layer}/{name}: {data.Length} values for shape ({string.Join(", ", shape)}).");
            }

            result.Add(new StoredWeight(layer, name, shape, data));
        }

        return result;
    }
}

/// <summary>
/// mulberry32, as in tools/parity/generate.js: the stream that made the fixtures' weights, re-implemented so the
/// full-size sentiment fixture need not store 2.6 million values.
/// </summary>
internal sealed class Mulberry32
{
    private uint state;

    public Mulberry32(uint seed)
    {
        state = seed;
    }

    public double Next()
    {
        unchecked
        {
            state += 0x6D2B79F5u;
            var t = (state ^ (state >> 15)) * (1u | state);
            t = (t + ((t ^ (t >> 7)) * (61u | t))) ^ t;
            return (t ^ (t >> 14)) / 4294967296.0;
        }
    }

    /// <summary>fround((2u - 1) * scale) for each element, as the generator draws weights.</summary>
    public float[] NextUniformFloats(int count, double scale)
    {
        var values = new float[count];
        for (var i = 0; i < count; i++)
        {
            values[i] = (float)(0 + ((2 * Next()) - 1) * scale);
        }

        return values;
    }
}
