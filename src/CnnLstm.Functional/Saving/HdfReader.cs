using KerasStyle.Layers;
using PureHDF;
using PureHDF.VOL.Native;

namespace KerasStyle.Saving;

/// <summary>One dataset read from an HDF5 file: its path, shape and values (floats, or integers for step counters).</summary>
/// <param name="Path">The dataset's path in the file, for messages.</param>
/// <param name="Shape">The shape; empty for a scalar.</param>
/// <param name="Floats">The values of a floating-point dataset (float64 is narrowed), else null.</param>
/// <param name="Integers">The values of an integer dataset, else null.</param>
internal sealed record H5Array(string Path, int[] Shape, float[]? Floats, long[]? Integers)
{
    /// <summary>The shape as Keras prints it.</summary>
    public string ShapeText => WeightArray.ShapeText(Shape);

    /// <summary>The value as a weight; the caller has checked it is floating point.</summary>
    public WeightArray ToWeight() => new(Shape, Floats!);
}

/// <summary>Reading helpers over PureHDF that turn any failure into a <see cref="KerasFileException"/> naming the file.</summary>
internal static class HdfReader
{
    /// <summary>Opens an HDF5 file on disk.</summary>
    public static NativeFile Open(string path)
    {
        try
        {
            return H5File.OpenRead(path);
        }
        catch (Exception e) when (e is not FileNotFoundException and not DirectoryNotFoundException and not UnauthorizedAccessException)
        {
            throw new KerasFileException(path, $"not a readable HDF5 file ({e.Message}).", e);
        }
    }

    /// <summary>Opens HDF5 content held in a seekable stream (e.g. <c>model.weights.h5</c> of a <c>.keras</c> archive).</summary>
    public static NativeFile Open(Stream stream, string path)
    {
        try
        {
            return H5File.Open(stream, leaveOpen: false);
        }
        catch (Exception e)
        {
            throw new KerasFileException(path, $"not a readable HDF5 file ({e.Message}).", e);
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

    /// <summary>Reads one dataset as floats or integers.</summary>
    public static H5Array ReadDataset(IH5Dataset dataset, string datasetPath, string path) => Guard(path, $"dataset '{datasetPath}'", () =>
    {
        var shape = dataset.Space.Type == H5DataspaceType.Scalar ? Array.Empty<int>() : dataset.Space.Dimensions.Select(d => checked((int)d)).ToArray();
        var type = dataset.Type;
        return (type.Class, type.Size) switch
        {
            (H5DataTypeClass.FloatingPoint, 4) => new H5Array(datasetPath, shape, ReadValues<float>(dataset, shape), null),
            (H5DataTypeClass.FloatingPoint, 8) => new H5Array(datasetPath, shape, ReadValues<double>(dataset, shape).Select(v => (float)v).ToArray(), null),
            (H5DataTypeClass.FixedPoint, 8) => new H5Array(datasetPath, shape, null, ReadValues<long>(dataset, shape)),
            (H5DataTypeClass.FixedPoint, 4) => new H5Array(datasetPath, shape, null, ReadValues<int>(dataset, shape).Select(v => (long)v).ToArray()),
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
