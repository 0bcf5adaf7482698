using Google.Protobuf;
using KerasStyle.Saving.Onnx.Proto;

namespace KerasStyle.Saving.Onnx;

/// <summary>A graph input or output of an ONNX file: its name, element type and dimensions (a name for a dynamic one, such as <c>batch</c>).</summary>
/// <param name="Name">The value's name, e.g. <c>input_layer</c> or <c>dense</c>.</param>
/// <param name="ElementType">The ONNX element type's name: <c>float32</c>, <c>int32</c>, <c>int64</c>, <c>bool</c>, or <c>type N</c>.</param>
/// <param name="Dimensions">Each dimension: its size, or its symbolic name when dynamic.</param>
public sealed record OnnxValueInfo(string Name, string ElementType, IReadOnlyList<string> Dimensions)
{
    /// <inheritdoc/>
    public override string ToString() => $"{Name} {ElementType} ({string.Join(", ", Dimensions)})";
}

/// <summary>
/// What an ONNX file declares: IR version, operator set, producer, graph inputs and outputs, and node count, read
/// with the same protobuf schema the exporter writes (<see cref="Models.Model.Export"/>).
/// </summary>
/// <param name="IrVersion">The ONNX IR version (8 for this library's files).</param>
/// <param name="Opset">The ai.onnx operator set version (17 for this library's files).</param>
/// <param name="Producer">The producer name and version.</param>
/// <param name="Inputs">The graph inputs (initializers excluded).</param>
/// <param name="Outputs">The graph outputs.</param>
/// <param name="NodeCount">The number of nodes in the main graph.</param>
/// <param name="Operators">The operator types the main graph uses, each once, in order of first use (a <c>Scan</c>'s body not included).</param>
public sealed record OnnxFileInfo(long IrVersion, long Opset, string Producer, IReadOnlyList<OnnxValueInfo> Inputs, IReadOnlyList<OnnxValueInfo> Outputs, int NodeCount,
    IReadOnlyList<string> Operators)
{
    /// <summary>Reads the declarations of an ONNX file.</summary>
    /// <param name="path">The file.</param>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="KerasFileException">The file is not an ONNX model (not protobuf, or no graph).</exception>
    public static OnnxFileInfo Read(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"ONNX file '{path}' does not exist.", path);
        }

        ModelProto model;
        try
        {
            using var stream = File.OpenRead(path);
            model = ModelProto.Parser.ParseFrom(stream);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new KerasFileException(path, $"not an ONNX model: {e.Message}", e);
        }

        if (model.Graph is not { } graph)
        {
            throw new KerasFileException(path, "not an ONNX model: it has no graph.");
        }

        var initializers = graph.Initializer.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var opset = model.OpsetImport.FirstOrDefault(o => string.IsNullOrEmpty(o.Domain) || o.Domain == "ai.onnx")?.Version ?? 0;
        return new OnnxFileInfo(model.IrVersion, opset, $"{model.ProducerName} {model.ProducerVersion}".Trim(),
            graph.Input.Where(i => !initializers.Contains(i.Name)).Select(Describe).ToArray(), graph.Output.Select(Describe).ToArray(), graph.Node.Count,
            graph.Node.Select(n => n.OpType).Distinct(StringComparer.Ordinal).ToArray());
    }

    private static OnnxValueInfo Describe(ValueInfoProto value)
    {
        var tensor = value.Type?.TensorType;
        var type = tensor?.ElemType switch
        {
            OnnxGraph.Float => "float32",
            OnnxGraph.Int32 => "int32",
            OnnxGraph.Int64 => "int64",
            OnnxGraph.Bool => "bool",
            int other => $"type {other}",
            null => "unknown",
        };
        var dims = tensor?.Shape?.Dim.Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? d.DimValue.ToString(System.Globalization.CultureInfo.InvariantCulture)
            : d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam ? d.DimParam : "?").ToArray() ?? Array.Empty<string>();
        return new OnnxValueInfo(value.Name, type, dims);
    }
}
