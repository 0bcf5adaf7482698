using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Saving.Onnx.Proto;

namespace KerasStyle.Saving.Onnx;

/// <summary>
/// What a layer written outside this library uses to state its ONNX form (<see cref="Layer"/>'s
/// <c>ExportOnnx(OnnxBuilder)</c>): the names of one call's inputs, and nodes of standard ONNX operators (opset 17)
/// added over them, the layer's weights and constants. Values are named uniquely after the layer.
/// </summary>
/// <example>A layer computing <c>x * gamma</c>: <c>return new[] { onnx.Node("Mul", onnx.Inputs[0], onnx.Weight(gamma)) };</c></example>
public sealed class OnnxBuilder
{
    private readonly OnnxGraph graph;
    private readonly Layer layer;
    private readonly OnnxCall call;

    internal OnnxBuilder(OnnxGraph graph, Layer layer, OnnxCall call)
    {
        this.graph = graph;
        this.layer = layer;
        this.call = call;
    }

    /// <summary>The names of the call's inputs (float32 unless the model input is integer), in call order.</summary>
    public IReadOnlyList<string> Inputs => call.Inputs.Select(v => v.Name).ToArray();

    /// <summary>The Keras shapes of the call's inputs, batch axis first (unknown: null).</summary>
    public IReadOnlyList<Shape> InputShapes => call.Inputs.Select(v => v.Shape).ToArray();

    /// <summary>The name of a float32 initializer holding <paramref name="weight"/>'s value in Keras layout.</summary>
    /// <param name="weight">A weight of the layer.</param>
    /// <exception cref="ArgumentException">The weight belongs to another layer.</exception>
    public string Weight(LayerWeight weight)
    {
        ArgumentNullException.ThrowIfNull(weight);
        return weight.Layer == layer ? graph.Weight(weight)
            : throw new ArgumentException($"ONNX export: {layer.ClassName} '{layer.Name}' asked for the weight '{weight.FullName}' of another layer.", nameof(weight));
    }

    /// <summary>The name of a float32 constant of shape <paramref name="dims"/> (a scalar when none).</summary>
    /// <param name="values">The values, row-major.</param>
    /// <param name="dims">The shape.</param>
    /// <exception cref="ArgumentException">The values do not fill the shape.</exception>
    public string Constant(float[] values, params long[] dims)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(dims);
        return dims.Aggregate(1L, (a, d) => a * d) == values.Length ? graph.Floats($"{layer.Name}/const", values, dims)
            : throw new ArgumentException($"ONNX export: {layer.ClassName} '{layer.Name}': a constant of shape ({string.Join(", ", dims)}) needs {dims.Aggregate(1L, (a, d) => a * d)} values, got {values.Length}.", nameof(values));
    }

    /// <summary>Adds a node of one output and returns its name.</summary>
    /// <param name="op">The ONNX operator, e.g. <c>Mul</c>.</param>
    /// <param name="inputs">The names of its inputs.</param>
    public string Node(string op, params string[] inputs) => Node(op, inputs, Array.Empty<(string, object)>());

    /// <summary>Adds a node of one output with attributes and returns its name.</summary>
    /// <param name="op">The ONNX operator, e.g. <c>Softmax</c>.</param>
    /// <param name="inputs">The names of its inputs.</param>
    /// <param name="attributes">Its attributes: a <see cref="long"/> or <see cref="int"/>, a <see cref="float"/>, a
    /// <see cref="string"/>, or a <see cref="long"/>[] each, e.g. <c>("axis", -1L)</c>.</param>
    /// <exception cref="ArgumentException">An attribute of another type.</exception>
    public string Node(string op, IEnumerable<string> inputs, params (string Name, object Value)[] attributes)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(op);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(attributes);
        return graph.Add(op, layer.Name, inputs, attributes.Select(a => Attribute(a.Name, a.Value)).ToArray());
    }

    private AttributeProto Attribute(string name, object value) => value switch
    {
        long number => OnnxGraph.Attr(name, number),
        int number => OnnxGraph.Attr(name, (long)number),
        float number => OnnxGraph.Attr(name, number),
        string text => OnnxGraph.Attr(name, text),
        long[] numbers => OnnxGraph.Ints(name, numbers),
        _ => throw new ArgumentException($"ONNX export: {layer.ClassName} '{layer.Name}': the attribute '{name}' is a {value?.GetType().Name ?? "null"}; expected a long, an int, a float, a string or a long[].", nameof(value)),
    };
}
