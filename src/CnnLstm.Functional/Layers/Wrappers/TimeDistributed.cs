using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Applies a layer to every step of a sequence with one set of weights, as Keras' <c>keras.layers.TimeDistributed</c>
/// (keras/src/layers/rnn/time_distributed.py): input (batch, steps, ...) goes through the inner layer as
/// (batch × steps, ...), and comes back as (batch, steps, inner output...). The usual time-series CNN-LSTM wraps
/// Conv1D, MaxPooling1D and Flatten this way over windows of subsequences. Weights: the inner layer's. Masks stop
/// here, as in Keras 3.16.
/// </summary>
[KerasLayer("TimeDistributed")]
public sealed class TimeDistributed : Layer
{
    private Shape? innerInput;

    /// <summary>Wraps a layer (not yet called anywhere else: its weights are built here).</summary>
    /// <param name="layer">The layer applied at every step; it must have one output.</param>
    /// <param name="name">Layer name; defaults to <c>time_distributed_N</c>.</param>
    public TimeDistributed(Layer layer, string? name = null)
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(layer);
        Layer = layer.OutputCount == 1 ? HoldShare(layer)
            : throw new ArgumentException($"TimeDistributed: the layer '{layer.Name}' ({layer.ClassName}) has {layer.OutputCount} outputs; TimeDistributed wraps layers with one.", nameof(layer));
    }

    /// <summary>The wrapped layer (Keras' <c>layer</c>).</summary>
    public Layer Layer { get; }

    internal override IEnumerable<(string Path, IReadOnlyList<LayerWeight> Weights)> KerasVarGroups =>
        Layer.KerasVarGroups.Select(g => ($"layer/{g.Path}", g.Weights));

    /// <summary>Every step goes into the wrapped layer as it is, so its token-id checks are this layer's.</summary>
    internal override IEnumerable<Layer> IdCheckersFedBy(int index) => Layer.IdCheckersFedBy(index);

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["layer"] = ModelConfig.SerializeLayer(Layer, innerInput);
        return config;
    }

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config.</summary>
    internal static TimeDistributed FromConfig(LayerConfig config) =>
        new(ModelConfig.DeserializeLayer(config.GetRaw("layer"), $"{config.Describe()}: 'layer'", config.Keras2), config.Name);

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        if (input.Shape.Rank < 3)
        {
            throw InputError($"expected input of rank 3 or more (batch, steps, ...), but got {input.Label} with shape {input.Shape}.");
        }

        // The inner layer sees one step: the same tensor history, the time axis folded into the batch.
        var step = new KerasTensor(Shape.WithBatch(input.Shape.Skip(2)), input.DType, input.Layer, input.NodeIndex, input.TensorIndex);
        var inner = Layer.BuildFor(step)[0];
        innerInput ??= step.Shape;
        return new[] { (Shape.WithBatch(new[] { input.Shape[1] }.Concat(inner.Shape.Skip(1))), inner.DType) };
    }

    /// <inheritdoc/>
    protected override void Build(KerasTensor input) => AdoptWeights(Layer.Weights);

    /// <summary>The inner layer's lock guards the variables this layer runs on.</summary>
    internal override IEnumerable<Layer> WeightOwners => Layer.WeightOwners.Prepend(this);

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask)
    {
        var (batch, steps) = (input.shape[0], input.shape[1]);
        var folded = input.reshape(new[] { batch * steps }.Concat(input.shape[2..]).ToArray());
        var output = Layer.Forward(new[] { folded }, new Tensor?[1], training).Outputs[0];
        return output.reshape(new[] { batch, steps }.Concat(output.shape[1..]).ToArray());
    }

    /// <summary>ONNX: Reshape to (batch × steps, ...), the inner layer's form, Reshape back to (batch, steps, ...), with shapes taken at run time.</summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call)
    {
        var x = call.Input;
        var folded = graph.Add("Reshape", Name, new[] { x.Name, graph.ConcatShapes(Name, graph.Int64s(-1), graph.ShapeOf(x.Name, Name, 2)) });
        var innerInput = Shape.WithBatch(x.Shape.Skip(2));
        var innerOutput = Shape.WithBatch(call.OutputShapes[0].Skip(2));
        var y = Layer.ExportOnnx(graph, new OnnxCall(new[] { new OnnxValue(folded, innerInput) }, new[] { innerOutput }))[0];
        return new[] { graph.Add("Reshape", Name, new[] { y, graph.ConcatShapes(Name, graph.ShapeOf(x.Name, Name, 0, 2), graph.ShapeOf(y, Name, 1)) }) };
    }
}
