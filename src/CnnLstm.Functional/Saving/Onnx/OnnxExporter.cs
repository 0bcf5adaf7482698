using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Saving.Onnx.Proto;

namespace KerasStyle.Saving.Onnx;

/// <summary>
/// Turns a model into an ONNX model (<see cref="Model.Export"/>): one graph input per model input, named after its
/// Input layer, with a dynamic <c>batch</c> axis; the layers' calls in the order <c>Predict</c> runs them, each written
/// by the layer itself (<c>Layer.ExportOnnx</c>); masks computed beside the values by the rules <c>Predict</c> follows;
/// one graph output per model output, named after the layer that made it. See docs/deploying.md.
/// </summary>
internal static class OnnxExporter
{
    /// <summary>The ONNX operator set written (ai.onnx 17: LayerNormalization, axes of Reduce* as attributes).</summary>
    public const int Opset = 17;

    /// <summary>The ONNX IR version written (8, the one that goes with opset 17).</summary>
    public const int IrVersion = 8;

    /// <summary>Builds the ONNX model; throws <see cref="NotSupportedException"/> naming the first layer without an ONNX form.</summary>
    public static ModelProto Build(Model model)
    {
        var graph = new OnnxGraph(model.Name);
        var inputs = model.Inputs.Select(t =>
        {
            var name = graph.Unique(t.Layer.Name);
            graph.Declare(name, ElementType(t.DType), t.Shape, input: true);
            return new OnnxValue(name, t.Shape);
        }).ToArray();

        // ONNX Runtime 1.31.1 ends the process on an empty batch: its LSTM and GRU kernels abort, Scan (masked or
        // other-activation recurrent layers) divides by zero (SIGFPE), and Where after Masking throws. So an empty
        // batch runs as one sample of zeros (a valid token id too) whose outputs are cut away; no operator sees batch
        // 0. From batch 1 on, no sample is added (an empty block is concatenated) and the cut keeps everything.
        var batch = graph.ShapeOf(inputs[0].Name, "batch", 0, 1);
        var added = graph.Add("Sub", "batch", new[] { graph.Int64s(1), graph.Add("Min", "batch", new[] { batch, graph.Int64s(1) }) });
        var padded = inputs.Select((v, i) => v with
        {
            Name = graph.Add("Concat", v.Name, new[] { v.Name, graph.ZeroSamples(v.Name, added, ElementType(model.Inputs[i].DType), v.Name) }, OnnxGraph.Attr("axis", 0L)),
        }).ToArray();
        var outputs = ExportGraph(model, graph, padded);
        var used = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < outputs.Count; i++)
        {
            var tensor = model.Outputs[i];
            var name = graph.Unique(used.Add(tensor.Layer.Name) ? tensor.Layer.Name : $"{tensor.Layer.Name}_{tensor.TensorIndex}");
            var node = new NodeProto { OpType = "Identity", Name = graph.Unique($"{name}/Identity") };
            node.Input.Add(graph.Add("Slice", name, new[] { outputs[i].Name, graph.Int64s(0), batch, graph.Int64s(0) }));
            node.Output.Add(name);
            graph.Proto.Node.Add(node);
            graph.Declare(name, ElementType(tensor.DType), tensor.Shape, input: false);
        }

        var proto = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "KerasStyle",
            ProducerVersion = typeof(OnnxExporter).Assembly.GetName().Version?.ToString() ?? "0",
            Graph = graph.Proto,
        };
        proto.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = Opset });
        return proto;
    }

    /// <summary>
    /// Writes the calls of <paramref name="model"/>'s graph on <paramref name="inputs"/> (the model's own inputs, or a
    /// caller's values when the model is used as a layer) and returns its outputs.
    /// </summary>
    internal static IReadOnlyList<OnnxValue> ExportGraph(Model model, OnnxGraph graph, IReadOnlyList<OnnxValue> inputs)
    {
        var values = new Dictionary<KerasTensor, OnnxValue>(ReferenceEqualityComparer.Instance);
        for (var i = 0; i < inputs.Count; i++)
        {
            values[model.Inputs[i]] = inputs[i];
        }

        foreach (var node in model.TopologyNodes.Where(n => n.Layer is not InputLayer))
        {
            var call = new OnnxCall(node.Inputs.Select(t => values[t]).ToArray(), node.Outputs.Select(t => t.Shape).ToArray(), node.InitialStates);
            if (node.Layer is ModelLayer nested)
            {
                // Written in place on the caller's values and masks; its outputs keep the masks the inner graph made.
                var inner = ExportGraph(nested.Model, graph, call.Inputs);
                for (var o = 0; o < node.Outputs.Count; o++)
                {
                    values[node.Outputs[o]] = inner[o] with { Shape = node.Outputs[o].Shape };
                }

                continue;
            }

            var results = node.Layer.ExportOnnx(graph, call);
            // The same rule as Model.RunWithMasks: which outputs carry a mask depends on which inputs (not states) do.
            var outputMasked = node.Layer.OutputMasks(call.Inputs.Take(call.Inputs.Count - call.InitialStates).Select(v => v.Mask is not null).ToArray());
            var mask = outputMasked.Any(m => m) ? node.Layer.ExportOnnxMask(graph, call) : null;
            for (var o = 0; o < node.Outputs.Count; o++)
            {
                values[node.Outputs[o]] = new OnnxValue(results[o], node.Outputs[o].Shape, outputMasked[o] ? mask : null);
            }
        }

        return model.Outputs.Select(o => values[o]).ToArray();
    }

    private static int ElementType(DType dtype) => dtype switch
    {
        DType.Int32 => OnnxGraph.Int32,
        DType.Int64 => OnnxGraph.Int64,
        _ => OnnxGraph.Float,
    };
}
