using System.Globalization;
using KerasStyle.Layers;
using PureHDF;
using PureHDF.VOL.Native;

namespace KerasStyle.Saving;

/// <summary>
/// One dataset of an HDF5 file: its path, shape and kind, known from its header, and its values, decoded only when
/// first asked for, so that a caller compares the declared shape with the weight it is for before anything is
/// decoded (a dataset declared as billions of values but never written took 4 GB before its shape was looked at).
/// </summary>
internal sealed class H5Array
{
    private readonly Lazy<Array> values;

    /// <summary>A dataset whose values <paramref name="read"/> decodes: float[] when <paramref name="isFloat"/>, else long[].</summary>
    public H5Array(string path, int[] shape, bool isFloat, Func<Array> read)
    {
        Path = path;
        Shape = shape;
        IsFloat = isFloat;
        values = new Lazy<Array>(read);
    }

    /// <summary>Values already in memory (e.g. a learning rate taken from a config).</summary>
    public H5Array(string path, int[] shape, float[] floats)
        : this(path, shape, isFloat: true, () => floats)
    {
    }

    /// <summary>The dataset's path in the file, for messages.</summary>
    public string Path { get; }

    /// <summary>The shape; empty for a scalar.</summary>
    public int[] Shape { get; }

    /// <summary>Whether the dataset is floating point (float64 is narrowed); otherwise it holds integers (step counters).</summary>
    public bool IsFloat { get; }

    /// <summary>The values of a floating-point dataset, else null; decoded on first use.</summary>
    public float[]? Floats => IsFloat ? (float[])values.Value : null;

    /// <summary>The values of an integer dataset, else null; decoded on first use.</summary>
    public long[]? Integers => IsFloat ? null : (long[])values.Value;

    /// <summary>The shape as Keras prints it.</summary>
    public string ShapeText => WeightArray.ShapeText(Shape);

    /// <summary>The value as a weight; the caller has checked it is floating point and of the weight's shape.</summary>
    public WeightArray ToWeight() => new(Shape, Floats!);
}

/// <summary>
/// Reading helpers over PureHDF that turn any failure into a <see cref="KerasFileException"/> naming the file. Every
/// file is first checked by <see cref="HdfStructure"/> (no soft or external links, no external or virtual storage, no
/// cycles), and what is decoded is bounded: a dataset's chunks by its declared size, deflate by the chunk size.
/// </summary>
internal static class HdfReader
{
    /// <summary>The largest chunk allowed beyond a dataset's own size (h5py's automatic chunks are at most 1 MiB).</summary>
    private const long MaxChunkSlackBytes = 1 << 20;

    static HdfReader() => BoundedDeflate.Register();

    /// <summary>Opens an HDF5 file on disk, after checking its structure.</summary>
    public static NativeFile Open(string path) => Open(File.OpenRead(path), path);

    /// <summary>Opens HDF5 content held in a seekable stream (e.g. <c>model.weights.h5</c> of a <c>.keras</c> archive), after checking its structure.</summary>
    public static NativeFile Open(Stream stream, string path)
    {
        try
        {
            HdfStructure.Check(stream, path);
            stream.Position = 0;
            return H5File.Open(stream, leaveOpen: false);
        }
        catch (Exception e)
        {
            stream.Dispose();
            throw e as KerasFileException ?? new KerasFileException(path, $"not a readable HDF5 file ({e.Message}).", e);
        }
    }

    /// <summary>Runs a read, turning PureHDF's errors (truncated or corrupted content) into a <see cref="KerasFileException"/>.</summary>
    public static T Guard<T>(string path, string what, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (Exception e) when (e is not KerasFileException)
        {
            throw new KerasFileException(path, $"cannot read {what}: the file is truncated, corrupted or not a Keras file ({e.GetType().Name}: {e.Message}).", e);
        }
    }

    /// <summary>Every dataset below <paramref name="group"/>, keyed by path relative to the file root (e.g. <c>layers/dense/vars/0</c>).</summary>
    public static Dictionary<string, H5Array> ReadAll(IH5Group group, string prefix, string path)
    {
        var result = new Dictionary<string, H5Array>(StringComparer.Ordinal);
        Guard(path, $"group '{(prefix.Length == 0 ? "/" : prefix)}'", () =>
        {
            Collect(group, prefix, path, result);
            return 0;
        });
        return result;
    }

    /// <summary>
    /// One dataset's header: shape, type and chunking are checked now; its values are decoded when first asked for
    /// (see <see cref="H5Array"/>), with any failure then a <see cref="KerasFileException"/> too.
    /// </summary>
    public static H5Array ReadDataset(IH5Dataset dataset, string datasetPath, string path) => Guard(path, $"dataset '{datasetPath}'", () =>
    {
        var dims = dataset.Space.Type == H5DataspaceType.Scalar ? Array.Empty<ulong>() : dataset.Space.Dimensions;
        if (Array.Find(dims, d => d > int.MaxValue) is var huge and > 0)
        {
            throw new KerasFileException(path, string.Create(CultureInfo.InvariantCulture,
                $"dataset '{datasetPath}' declares a dimension of {huge:N0}, more than any weight can have; refused before reading."));
        }

        var shape = dims.Select(d => (int)d).ToArray();
        var type = dataset.Type;
        if (dataset.Layout.Class == H5DataLayoutClass.Chunked)
        {
            // A chunk is decoded whole: one declared far larger than the dataset would be allocated as declared.
            var declared = (double)type.Size * shape.Aggregate(1.0, (a, d) => a * d);
            var chunk = (double)type.Size * dataset.Layout.Chunks.Aggregate(1.0, (a, d) => a * d);
            if (chunk > Math.Max(declared, MaxChunkSlackBytes))
            {
                throw new KerasFileException(path, string.Create(CultureInfo.InvariantCulture,
                    $"dataset '{datasetPath}' of shape {WeightArray.ShapeText(shape)} declares chunks of {chunk:N0} bytes, more than its {declared:N0} bytes of values; refused before reading."));
            }
        }

        Array Read<T>(Func<T[], Array> convert)
            where T : unmanaged => Guard(path, $"dataset '{datasetPath}'", () => convert(ReadValues<T>(dataset, shape)));
        return (type.Class, type.Size) switch
        {
            (H5DataTypeClass.FloatingPoint, 4) => new H5Array(datasetPath, shape, true, () => Read<float>(v => v)),
            (H5DataTypeClass.FloatingPoint, 8) => new H5Array(datasetPath, shape, true, () => Read<double>(v => v.Select(x => (float)x).ToArray())),
            (H5DataTypeClass.FixedPoint, 8) => new H5Array(datasetPath, shape, false, () => Read<long>(v => v)),
            (H5DataTypeClass.FixedPoint, 4) => new H5Array(datasetPath, shape, false, () => Read<int>(v => v.Select(x => (long)x).ToArray())),
            _ => throw new KerasFileException(path, $"dataset '{datasetPath}' has HDF5 type {type.Class} of {type.Size} bytes; weights must be float32 or float64 (step counters integers)."),
        };
    });

    /// <summary>
    /// A list-of-strings attribute as Keras writes it (fixed-length byte strings or variable-length strings), including
    /// Keras' chunked form <c>name0</c>, <c>name1</c>, ... for long lists; null when absent.
    /// </summary>
    public static string[]? ReadStrings(IH5Object obj, string name, string path, string where) => Guard(path, $"attribute '{name}' of {where}", () =>
    {
        if (obj.AttributeExists(name))
        {
            return ReadStringAttribute(obj.Attribute(name));
        }

        if (!obj.AttributeExists(name + "0"))
        {
            return null;
        }

        var parts = new List<string>();
        for (var chunk = 0; obj.AttributeExists($"{name}{chunk}"); chunk++)
        {
            parts.AddRange(ReadStringAttribute(obj.Attribute($"{name}{chunk}")));
        }

        return parts.ToArray();
    });

    /// <summary>A single-string attribute (e.g. <c>model_config</c>); null when absent.</summary>
    public static string? ReadString(IH5Object obj, string name, string path) => Guard(path, $"attribute '{name}'", () =>
    {
        if (!obj.AttributeExists(name))
        {
            return null;
        }

        return ReadStringAttribute(obj.Attribute(name)).FirstOrDefault();
    });

    private static string[] ReadStringAttribute(IH5Attribute attribute)
    {
        // Fixed-length strings are class String; h5py's default (and so real Keras files) is a variable-length string.
        var isString = attribute.Type.Class == H5DataTypeClass.String
            || (attribute.Type.Class == H5DataTypeClass.VariableLength
                && attribute.Type.VariableLength.BaseType is { } element
                && (element.Class == H5DataTypeClass.String || (element.Class == H5DataTypeClass.FixedPoint && element.Size == 1)));
        if (!isString || attribute.Space.Dimensions.Aggregate(1UL, (a, d) => a * d) == 0)
        {
            return Array.Empty<string>();
        }

        var values = attribute.Space.Type == H5DataspaceType.Scalar ? new[] { attribute.Read<string>() } : attribute.Read<string[]>();
        return values.Select(s => s.TrimEnd('\0')).ToArray();
    }

    private static T[] ReadValues<T>(IH5Dataset dataset, int[] shape)
        where T : unmanaged
    {
        var values = dataset.Read<T[]>();
        var expected = shape.Aggregate(1L, (a, d) => a * d);
        return values.Length == expected ? values : throw new InvalidDataException($"expected {expected} values for shape {WeightArray.ShapeText(shape)}, read {values.Length}.");
    }

    private static void Collect(IH5Group group, string prefix, string path, Dictionary<string, H5Array> result)
    {
        foreach (var child in group.Children())
        {
            var childPath = prefix.Length == 0 ? child.Name : $"{prefix}/{child.Name}";
            switch (child)
            {
                case IH5Group inner:
                    Collect(inner, childPath, path, result);
                    break;
                case IH5Dataset dataset:
                    result[childPath] = ReadDataset(dataset, childPath, path);
                    break;
            }
        }
    }
}
