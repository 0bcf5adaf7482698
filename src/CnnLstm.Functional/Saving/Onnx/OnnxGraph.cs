using KerasStyle.Engine;
using Google.Protobuf;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Saving.Onnx.Proto;
using static TorchSharp.torch;

namespace KerasStyle.Saving.Onnx;

/// <summary>A value in the ONNX graph being written: its name, its Keras shape (batch axis first) and its mask's name (bool, (batch, steps)), if any.</summary>
internal sealed record OnnxValue(string Name, Shape Shape, string? Mask = null);

/// <summary>One call of a layer being exported: the inputs (the initial states last) and the Keras shapes of the outputs.</summary>
internal sealed record OnnxCall(IReadOnlyList<OnnxValue> Inputs, IReadOnlyList<Shape> OutputShapes, int InitialStates = 0)
{
    /// <summary>The first input.</summary>
    public OnnxValue Input => Inputs[0];

    /// <summary>The initial states given to a recurrent layer (empty when none).</summary>
    public IReadOnlyList<OnnxValue> States => Inputs.Skip(Inputs.Count - InitialStates).ToArray();
}

/// <summary>
/// Builds one ONNX graph (the model's, or a <c>Scan</c> body inside it) with unique value names. Weights become float32
/// initializers of the outermost graph, one per weight and layout, so shared layers and bodies refer to the same one.
/// </summary>
internal sealed class OnnxGraph
{
    /// <summary>The element types of ONNX's <c>TensorProto.DataType</c> that the exporter writes.</summary>
    public const int Float = 1;
    public const int Int32 = 6;
    public const int Int64 = 7;
    public const int Bool = 9;

    private readonly OnnxGraph root;
    private readonly HashSet<string> names;
    private readonly Dictionary<(LayerWeight Weight, string Layout), string> weights = new();
    private readonly Dictionary<string, string> constants = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string[]> nodes = new(StringComparer.Ordinal);

    public OnnxGraph(string name)
    {
        root = this;
        names = new HashSet<string>(StringComparer.Ordinal);
        Proto = new GraphProto { Name = name };
    }

    private OnnxGraph(OnnxGraph parent, string name)
    {
        root = parent.root;
        // One name space for the whole model: ONNX forbids a body value from shadowing an outer one.
        names = parent.names;
        Proto = new GraphProto { Name = Unique(name) };
    }

    /// <summary>The graph written so far.</summary>
    public GraphProto Proto { get; }

    /// <summary>A graph for a <c>Scan</c> body; its weights and constants are initializers of the outermost graph.</summary>
    public OnnxGraph Subgraph(string name) => new(this, name);

    /// <summary>A name not used yet in the model, from <paramref name="hint"/>.</summary>
    public string Unique(string hint)
    {
        if (names.Add(hint))
        {
            return hint;
        }

        for (var i = 1; ; i++)
        {
            var candidate = $"{hint}_{i}";
            if (names.Add(candidate))
            {
                return candidate;
            }
        }
    }

    /// <summary>Adds a node with one output and returns the output's name.</summary>
    public string Add(string op, string hint, IEnumerable<string> inputs, params AttributeProto[] attributes) =>
        AddMulti(op, hint, inputs, 1, attributes)[0];

    /// <summary>
    /// Adds a node with <paramref name="outputs"/> outputs and returns their names. A node identical to one already in
    /// this graph (operator, inputs, attributes) is not added again: its outputs are returned, so that a value two
    /// layer methods ask for (a layer's output and its mask from the same ids, say) is computed once.
    /// </summary>
    public string[] AddMulti(string op, string hint, IEnumerable<string> inputs, int outputs, params AttributeProto[] attributes)
    {
        var given = inputs.ToArray();
        // Bodies (Scan's) are never shared, so nodes that carry one are not compared.
        var key = attributes.Any(a => a.G is not null) ? null
            : string.Join('\u0001', new[] { op, outputs.ToString(System.Globalization.CultureInfo.InvariantCulture) }.Concat(given).Concat(attributes.Select(a => a.ToString())));
        if (key is not null && nodes.TryGetValue(key, out var existing))
        {
            return existing;
        }

        var node = new NodeProto { OpType = op, Name = Unique($"{hint}/{op}") };
        node.Input.AddRange(given);
        var results = Enumerable.Range(0, outputs).Select(i => Unique(outputs == 1 ? $"{hint}/{op}:0" : $"{hint}/{op}:{i}")).ToArray();
        node.Output.AddRange(results);
        node.Attribute.AddRange(attributes);
        Proto.Node.Add(node);
        if (key is not null)
        {
            nodes[key] = results;
        }

        return results;
    }

    /// <summary>Declares a graph input or output (<paramref name="input"/> false) with its element type and Keras shape (dynamic batch).</summary>
    public void Declare(string name, int elementType, Shape shape, bool input)
    {
        var info = ValueInfo(name, elementType, shape.Select((d, i) => i == 0 ? "batch" : d is null ? $"{name}_dim{i}" : null).ToArray(), shape.ToArray());
        (input ? Proto.Input : Proto.Output).Add(info);
    }

    /// <summary>Declares a body input or output of a known element type and rank, with dimensions left open.</summary>
    public void DeclareOpen(string name, int elementType, int rank, bool input)
    {
        var info = ValueInfo(name, elementType, new string?[rank], new int?[rank]);
        (input ? Proto.Input : Proto.Output).Add(info);
    }

    private static ValueInfoProto ValueInfo(string name, int elementType, string?[] symbols, int?[] dims)
    {
        var shape = new TensorShapeProto();
        for (var i = 0; i < dims.Length; i++)
        {
            shape.Dim.Add(symbols[i] is { } symbol ? new TensorShapeProto.Types.Dimension { DimParam = symbol }
                : dims[i] is int d ? new TensorShapeProto.Types.Dimension { DimValue = d }
                : new TensorShapeProto.Types.Dimension());
        }

        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = elementType, Shape = shape } },
        };
    }

    /// <summary>The initializer holding a weight in Keras layout.</summary>
    public string Weight(LayerWeight weight) => Weight(weight, "keras", t => t);

    /// <summary>
    /// The initializer holding a weight changed by <paramref name="layout"/> (a permutation, a gate reordering, a
    /// slice) from its Keras layout; <paramref name="key"/> names the change, so each weight and change is stored once.
    /// </summary>
    public string Weight(LayerWeight weight, string key, Func<Tensor, Tensor> layout)
    {
        if (root != this)
        {
            return root.Weight(weight, key, layout);
        }

        if (weights.TryGetValue((weight, key), out var existing))
        {
            return existing;
        }

        using var scope = NewDisposeScope();
        var value = weight.Get();
        var changed = layout(tensor(value.Data, value.Shape.Select(d => (long)d).ToArray())).contiguous();
        var name = Unique(key == "keras" ? $"{weight.Layer.Name}/{weight.Name}" : $"{weight.Layer.Name}/{weight.Name}/{key}");
        Proto.Initializer.Add(FloatTensor(name, changed.data<float>().ToArray(), changed.shape));
        weights[(weight, key)] = name;
        return name;
    }

    /// <summary>A float32 initializer (zeros for an unused bias, a scalar for arithmetic).</summary>
    public string Floats(string hint, float[] values, params long[] dims)
    {
        if (root != this)
        {
            return root.Floats(hint, values, dims);
        }

        var key = $"f:{string.Join(',', dims)}:{string.Join(',', values.Select(v => BitConverter.SingleToInt32Bits(v)))}";
        if (constants.TryGetValue(key, out var existing))
        {
            return existing;
        }

        var name = Unique(hint);
        Proto.Initializer.Add(FloatTensor(name, values, dims));
        constants[key] = name;
        return name;
    }

    /// <summary>A float32 scalar initializer.</summary>
    public string Scalar(float value) => Floats($"const_{value}", new[] { value });

    /// <summary>A 1-D int64 initializer (shapes, axes, pads, slice bounds), stored once per value.</summary>
    public string Int64s(params long[] values)
    {
        if (root != this)
        {
            return root.Int64s(values);
        }

        var key = $"i:{string.Join(',', values)}";
        if (constants.TryGetValue(key, out var existing))
        {
            return existing;
        }

        var name = Unique($"const_i64_{string.Join('_', values.Take(4)).Replace('-', 'm')}");
        var proto = new TensorProto { Name = name, DataType = Int64 };
        proto.Dims.Add(values.Length);
        proto.Int64Data.AddRange(values);
        Proto.Initializer.Add(proto);
        constants[key] = name;
        return name;
    }

    private static TensorProto FloatTensor(string name, float[] values, long[] dims)
    {
        var proto = new TensorProto { Name = name, DataType = Float };
        proto.Dims.AddRange(dims);
        var bytes = new byte[values.Length * sizeof(float)];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("ONNX raw_data is little-endian; big-endian hosts are not supported.");
        }

        proto.RawData = ByteString.CopyFrom(bytes);
        return proto;
    }

    // Attributes.
    public static AttributeProto Attr(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Attr(string name, float value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    public static AttributeProto Attr(string name, string value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    public static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    public static AttributeProto Strings(string name, params string[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Strings };
        attribute.Strings.AddRange(values.Select(ByteString.CopyFromUtf8));
        return attribute;
    }

    public static AttributeProto Attr(string name, GraphProto body) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Graph, G = body };

    /// <summary>
    /// <paramref name="count"/> (a 1-D int64 of one element) samples of zeros of <paramref name="elementType"/>, each
    /// shaped as a sample of <paramref name="like"/>.
    /// </summary>
    public string ZeroSamples(string like, string count, int elementType, string hint) =>
        Add("ConstantOfShape", hint, new[] { ConcatShapes(hint, count, ShapeOf(like, hint, 1)) }, FillValue(elementType, elementType switch
        {
            Int64 => BitConverter.GetBytes(0L),
            Int32 => BitConverter.GetBytes(0),
            _ => BitConverter.GetBytes(0f),
        }));

    /// <summary>A <c>ConstantOfShape</c> value attribute: one element of the given type.</summary>
    private static AttributeProto FillValue(int elementType, byte[] littleEndian)
    {
        var value = new TensorProto { DataType = elementType, RawData = ByteString.CopyFrom(littleEndian) };
        value.Dims.Add(1);
        return new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = value };
    }

    // Operations the layers use often.

    /// <summary>
    /// Runs <paramref name="operation"/> on a channels-last value with <paramref name="spatialAxes"/> spatial axes
    /// (Keras' layout) as channels first (the layout of ONNX's Conv and pooling), between the Transposes there and back.
    /// </summary>
    public string ChannelsFirst(string x, int spatialAxes, string hint, Func<string, string> operation)
    {
        var toFirst = new long[] { 0, spatialAxes + 1 }.Concat(Enumerable.Range(1, spatialAxes).Select(a => (long)a)).ToArray();
        var toLast = new long[] { 0 }.Concat(Enumerable.Range(2, spatialAxes).Select(a => (long)a)).Append(1L).ToArray();
        return Transpose(operation(Transpose(x, hint, toFirst)), hint, toLast);
    }

    /// <summary>ONNX's Conv of a channels-first value with a kernel in ONNX layout and an optional bias weight.</summary>
    public string Conv(string x, string kernel, LayerWeight? bias, string hint, params AttributeProto[] attributes) =>
        Add("Conv", hint, bias is null ? new[] { x, kernel } : new[] { x, kernel, Weight(bias) }, attributes);

    /// <summary>Permutes axes.</summary>
    public string Transpose(string x, string hint, params long[] perm) => Add("Transpose", hint, new[] { x }, Ints("perm", perm));

    /// <summary>
    /// Reshapes to (batch, <paramref name="dims"/>) with the batch size read from <paramref name="x"/> and every other
    /// size given, so that an empty batch (size 0) reshapes too (a -1 beside a 0 cannot be inferred).
    /// </summary>
    public string ReshapeKeepingBatch(string x, string hint, params long[] dims) =>
        Add("Reshape", hint, new[] { x, ConcatShapes(hint, ShapeOf(x, hint, 0, 1), Int64s(dims)) });

    /// <summary>Removes the given axes of size 1.</summary>
    public string Squeeze(string x, string hint, params long[] axes) => Add("Squeeze", hint, new[] { x, Int64s(axes) });

    /// <summary>Inserts axes of size 1.</summary>
    public string Unsqueeze(string x, string hint, params long[] axes) => Add("Unsqueeze", hint, new[] { x, Int64s(axes) });

    /// <summary>Reverses the steps axis (1) of a (batch, steps, ...) value, or of a (batch, steps) mask.</summary>
    public string ReverseSteps(string x, string hint) =>
        Add("Slice", hint, new[] { x, Int64s(-1), Int64s(long.MinValue), Int64s(1), Int64s(-1) });

    /// <summary>The dimensions <paramref name="start"/> to <paramref name="end"/> (exclusive; null: to the end) of a value's shape, as int64.</summary>
    public string ShapeOf(string x, string hint, long start, long? end = null) =>
        end is long e ? Add("Shape", hint, new[] { x }, Attr("start", start), Attr("end", e)) : Add("Shape", hint, new[] { x }, Attr("start", start));

    /// <summary>Joins 1-D int64 values (shapes).</summary>
    public string ConcatShapes(string hint, params string[] parts) => Add("Concat", hint, parts, Attr("axis", 0L));

    /// <summary>Float zeros of (batch of <paramref name="like"/>, <paramref name="units"/>): a recurrent layer's default initial state.</summary>
    public string ZerosState(string like, long units, string hint) =>
        Add("ConstantOfShape", hint, new[] { ConcatShapes(hint, ShapeOf(like, hint, 0, 1), Int64s(units)) }, FillValue(Float, BitConverter.GetBytes(0f)));

    /// <summary>True of the given shape (an int64 shape value).</summary>
    public string TrueOfShape(string shape, string hint) => Add("ConstantOfShape", hint, new[] { shape }, FillValue(Bool, new byte[] { 1 }));

    /// <summary>A Keras activation by name (<c>linear</c> adds no node), as <see cref="Activations"/> computes it.</summary>
    public string Activation(string x, string activation, string hint)
    {
        string Op(string op, string input, params AttributeProto[] attributes) => Add(op, hint, new[] { input }, attributes);
        string Binary(string op, string a, string b) => Add(op, hint, new[] { a, b });
        return activation switch
        {
            "linear" => x,
            "relu" => Op("Relu", x),
            "relu6" => Add("Clip", hint, new[] { x, Scalar(0f), Scalar(6f) }),
            "sigmoid" => Op("Sigmoid", x),
            "tanh" => Op("Tanh", x),
            "softmax" => Op("Softmax", x, Attr("axis", -1L)),
            "log_softmax" => Op("LogSoftmax", x, Attr("axis", -1L)),
            // Keras 3's relu6(x + 3) / 6 is clip(x / 6 + 1 / 2, 0, 1); Keras 2's is clip(0.2 x + 0.5, 0, 1).
            "hard_sigmoid" => Op("HardSigmoid", x, Attr("alpha", 1f / 6), Attr("beta", 0.5f)),
            Activations.Keras2HardSigmoid => Op("HardSigmoid", x, Attr("alpha", 0.2f), Attr("beta", 0.5f)),
            // ONNX's HardSwish is x · max(0, min(1, x / 6 + 1 / 2)), Keras 3's hard_silu.
            "hard_silu" or "hard_swish" => Op("HardSwish", x),
            "elu" => Op("Elu", x, Attr("alpha", 1f)),
            // ONNX's default alpha and gamma are SELU's constants, as torch's.
            "selu" => Op("Selu", x),
            "softplus" => Op("Softplus", x),
            "softsign" => Op("Softsign", x),
            "exponential" => Op("Exp", x),
            "silu" or "swish" => Binary("Mul", x, Op("Sigmoid", x)),
            // Opset 17 has no Gelu: x / 2 · (1 + erf(x / √2)), Keras 3's exact (approximate=False) form.
            "gelu" => Binary("Mul", Binary("Mul", x, Scalar(0.5f)), Binary("Add", Scalar(1f), Op("Erf", Binary("Div", x, Scalar(MathF.Sqrt(2f)))))),
            "mish" => Binary("Mul", x, Op("Tanh", Op("Softplus", x))),
            "leaky_relu" => Op("LeakyRelu", x, Attr("alpha", 0.2f)),
            "log_sigmoid" => Op("Neg", Op("Softplus", Op("Neg", x))),
            "celu" => Op("Celu", x, Attr("alpha", 1f)),
            "hard_tanh" => Add("Clip", hint, new[] { x, Scalar(-1f), Scalar(1f) }),
            "squareplus" => Binary("Div", Binary("Add", x, Op("Sqrt", Binary("Add", Binary("Mul", x, x), Scalar(4f)))), Scalar(2f)),
            "sparse_plus" => Add("Where", hint, new[] { Binary("LessOrEqual", x, Scalar(-1f)), Scalar(0f),
                Add("Where", hint, new[] { Binary("GreaterOrEqual", x, Scalar(1f)), x, Binary("Div", Binary("Mul", Binary("Add", x, Scalar(1f)), Binary("Add", x, Scalar(1f))), Scalar(4f)) }) }),
            "tanh_shrink" => Binary("Sub", x, Op("Tanh", x)),
            "soft_shrink" => Op("Shrink", x, Attr("bias", 0.5f), Attr("lambd", 0.5f)),
            "hard_shrink" => Op("Shrink", x, Attr("bias", 0f), Attr("lambd", 0.5f)),
            "sparse_sigmoid" => Add("Clip", hint, new[] { Binary("Mul", Binary("Add", x, Scalar(1f)), Scalar(0.5f)), Scalar(0f), Scalar(1f) }),
            "sparsemax" => Sparsemax(x, hint),
            "glu" => Glu(x, hint),
            _ => throw new NotSupportedException($"ONNX export: activation '{activation}' has no ONNX form here."),
        };
    }

    /// <summary>Keras 3's sparsemax over the last axis (its torch backend's steps, with TopK as the descending sort).</summary>
    private string Sparsemax(string x, string hint)
    {
        var last = Int64s(-1);
        var sorted = AddMulti("TopK", hint, new[] { x, ShapeOf(x, hint, -1) }, 2, Attr("axis", -1L), Attr("largest", 1L), Attr("sorted", 1L))[0];
        var cumsum = Add("CumSum", hint, new[] { sorted, Int64s(-1) });
        var ones = Add("ConstantOfShape", hint, new[] { Add("Shape", hint, new[] { sorted }) }, FillValue(Float, BitConverter.GetBytes(1f)));
        var r = Add("CumSum", hint, new[] { ones, Int64s(-1) });
        var support = Add("Greater", hint, new[] { Add("Sub", hint, new[] { sorted, Add("Div", hint, new[] { Add("Sub", hint, new[] { cumsum, Scalar(1f) }), r }) }), Scalar(0f) });
        var k = Add("ReduceSum", hint, new[] { Add("Cast", hint, new[] { support }, Attr("to", (long)Float)), last }, Attr("keepdims", 1L));
        var safe = Add("Where", hint, new[] { support, cumsum, Scalar(0f) });
        var tau = Add("Div", hint, new[] { Add("Sub", hint, new[] { Add("ReduceSum", hint, new[] { safe, last }, Attr("keepdims", 1L)), Scalar(1f) }), k });
        return Add("Relu", hint, new[] { Add("Sub", hint, new[] { x, tau }) });
    }

    /// <summary>Keras 3's glu over the last axis: a · sigmoid(b), a and b its halves (Slice at half the last dimension).</summary>
    private string Glu(string x, string hint)
    {
        var half = Add("Div", hint, new[] { ShapeOf(x, hint, -1), Int64s(2) });
        var axes = Int64s(-1);
        var a = Add("Slice", hint, new[] { x, Int64s(0), half, axes });
        var b = Add("Slice", hint, new[] { x, half, Int64s(long.MaxValue), axes });
        return Add("Mul", hint, new[] { a, Add("Sigmoid", hint, new[] { b }) });
    }

    /// <summary>x W (+ b): a Dense-like product over the last axis.</summary>
    public string Affine(string x, string kernel, string? bias, string hint)
    {
        var product = Add("MatMul", hint, new[] { x, kernel });
        return bias is null ? product : Add("Add", hint, new[] { product, bias });
    }

    /// <summary>Converts a bool mask to float (1 where true).</summary>
    public string MaskAsFloat(string mask, string hint) => Add("Cast", hint, new[] { mask }, Attr("to", (long)Float));

    /// <summary>The exception for a layer (or a use of it) that has no ONNX form here.</summary>
    public static NotSupportedException Unsupported(Layer layer, string why) =>
        new($"ONNX export: {layer.ClassName} '{layer.Name}' {why}");
}
