using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Layers;
using static TorchSharp.torch;

namespace KerasStyle.Models;

/// <summary>
/// A model used as a layer of another model, as Keras' <c>Functional</c> and <c>Sequential</c> are layers
/// (keras/src/models/model.py): <c>encoder.Call(x)</c> records one node in the outer graph; the inner layers get
/// none. Its weights are the inner layers' own weights (the same variables), so calling the model twice, or training
/// the outer model, shares and updates them. One per model (<see cref="Model.AsLayer"/>).
/// </summary>
internal sealed class ModelLayer : Layer
{
    private readonly Layer[] innerLayers;
    private readonly bool ownsModel;

    /// <summary>Wraps a built model; its layers are kept alive until every model that uses this layer is disposed.</summary>
    /// <param name="model">The model.</param>
    /// <param name="ownsModel">Whether disposing this layer disposes the model too (a model read from a config,
    /// which no caller holds).</param>
    public ModelLayer(Model model, bool ownsModel)
        : base(model.Name)
    {
        Model = model;
        this.ownsModel = ownsModel;
        innerLayers = model.Layers.Select(HoldShare).ToArray();
        foreach (var layer in innerLayers)
        {
            foreach (var weight in layer.Weights)
            {
                AdoptWeight(weight);
            }
        }
    }

    /// <summary>The wrapped model.</summary>
    public Model Model { get; }

    /// <summary>The inner layers own the weights this layer runs on, so their locks guard its calls too.</summary>
    internal override IEnumerable<Layer> WeightOwners => innerLayers.SelectMany(l => l.WeightOwners).Prepend(this);

    /// <inheritdoc/>
    public override string ClassName => Model is Sequential ? "Sequential" : "Functional";

    /// <inheritdoc/>
    public override int OutputCount => Model.Outputs.Count;

    /// <summary>The inner model's config (Keras' <c>get_config()</c> of the model).</summary>
    public override JsonObject GetConfig() => (JsonObject)Saving.ModelConfig.Serialize(Model, Model.TopologyNodes, null)["config"]!.DeepClone();

    /// <summary>The layers that input <paramref name="index"/> feeds as it is inside the model, for token-id checks.</summary>
    internal override IEnumerable<Layer> IdCheckersFedBy(int index) => Model.IdCheckersFedBy(Model.Inputs[index]);

    /// <summary>Checks the inputs against the model's inputs (count, shapes, dtypes) and returns its outputs' specs.</summary>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(IReadOnlyList<KerasTensor> inputs, bool list)
    {
        var expected = Model.Inputs;
        if (inputs.Count != expected.Count)
        {
            throw InputError($"the model has {expected.Count} inputs ({string.Join(", ", expected.Select(e => $"'{e.Layer.Name}' {e.Shape}"))}), but was called on {inputs.Count}: {Describe(inputs)}.");
        }

        for (var i = 0; i < inputs.Count; i++)
        {
            var (given, wanted) = (inputs[i].Shape, expected[i].Shape);
            var fits = given.Rank == wanted.Rank && Enumerable.Range(1, given.Rank - 1).All(d => wanted[d] is null || given[d] is null || wanted[d] == given[d]);
            if (!fits || inputs[i].DType != expected[i].DType)
            {
                throw InputError($"input {i} ('{expected[i].Layer.Name}') expects shape {wanted} and dtype {expected[i].DType.ToKerasName()}, but got {inputs[i].Label} with shape {given} and dtype {inputs[i].DType.ToKerasName()}.");
            }
        }

        return Model.Outputs.Select(o => (o.Shape, o.DType)).ToArray();
    }

    /// <summary>
    /// Takes its caller's masks into the inner graph, as Keras' <c>Functional.call(inputs, mask)</c> sets them on
    /// its inputs, so no warning is given when a masked tensor reaches it.
    /// </summary>
    internal override bool UsesMask => true;

    /// <summary>A model takes strings where its own inputs do (its input check compares the dtypes).</summary>
    internal override bool TakesStrings => true;

    /// <summary>
    /// The masks of the inner model's outputs, as Keras' <c>Functional.compute_mask</c>: an inner Embedding(maskZero)
    /// or Masking, or the caller's masks passed through, come out; <see cref="Forward"/> and the ONNX exporter take
    /// the values from the inner run.
    /// </summary>
    internal override bool[] OutputMasks(IReadOnlyList<bool> inputMasked) => Model.OutputMaskFlags(inputMasked);

    /// <summary>Runs the inner model's graph with the caller's masks and hands out its outputs and their masks (Keras' <c>Functional.call</c>).</summary>
    internal override (IReadOnlyList<Tensor> Outputs, Tensor?[]? Masks) Forward(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?> masks, bool training)
    {
        var inner = Model.RunWithMasks(inputs, training, null, masks);
        return (inner.Outputs, inner.Masks);
    }

    /// <summary>
    /// Disposes the model when this layer owns it; the shares of the inner layers (which other models may still use)
    /// are released by <see cref="Layer.Dispose()"/>, and the variables belong to them.
    /// </summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing && ownsModel)
        {
            Model.Dispose();
        }
    }
}
