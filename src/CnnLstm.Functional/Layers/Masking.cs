using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Marks padded steps, as Keras' <c>keras.layers.Masking</c> (keras/src/layers/core/masking.py): a step whose
/// features all equal <see cref="MaskValue"/> is masked, so recurrent layers skip it and losses leave it out.
/// Input and output (batch, steps, features), float32; the output's masked steps are set to 0; mask (batch, steps).
/// No weights.
/// </summary>
[KerasLayer("Masking")]
public sealed class Masking : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="maskValue">The value that marks padding (Keras' <c>mask_value</c>, default 0).</param>
    /// <param name="name">Layer name; defaults to <c>masking_N</c>.</param>
    public Masking(double maskValue = 0.0, string? name = null)
        : base(name)
    {
        MaskValue = double.IsFinite(maskValue) ? maskValue
            : throw new ArgumentOutOfRangeException(nameof(maskValue), maskValue, "Masking: maskValue must be a finite number.");
    }

    /// <summary>The padding value (Keras' <c>mask_value</c>).</summary>
    public double MaskValue { get; }

    /// <inheritdoc/>
    public override bool SupportsMasking => true;

    internal override bool[] OutputMasks(IReadOnlyList<bool> inputMasked) => new[] { true };

    /// <summary>Keras' <c>any(not_equal(x, mask_value), axis=-1)</c>.</summary>
    protected override Tensor? ComputeMask(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?> masks) => inputs[0].ne(Scalars.Of(MaskValue)).any(-1);

    internal override bool BuiltAtInit => true;

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["mask_value"] = MaskValue;
        return config;
    }

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config.</summary>
    internal static Masking FromConfig(LayerConfig config) => new(config.GetDouble("mask_value", 0.0), config.Name);

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        RequireFloat(input);
        if (input.Shape.Rank < 3)
        {
            throw InputError($"expected input of rank 3 or more (batch, steps, features), but got {input.Label} with shape {input.Shape}.");
        }

        return new[] { (input.Shape, input.DType) };
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask) =>
        where(input.ne(Scalars.Of(MaskValue)).any(-1, keepdim: true), input, zeros_like(input));

    /// <summary>ONNX: zeros at the masked steps (Where on the mask).</summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call) =>
        new[] { graph.Add("Where", Name, new[] { graph.Unsqueeze(OnnxMask(graph, call), Name, -1), call.Input.Name, graph.Scalar(0f) }) };

    /// <summary>ONNX: true where any feature of the step differs from the mask value.</summary>
    internal override string? ExportOnnxMask(OnnxGraph graph, OnnxCall call) => OnnxMask(graph, call);

    private string OnnxMask(OnnxGraph graph, OnnxCall call)
    {
        var differs = graph.MaskAsFloat(graph.Add("Not", Name, new[] { graph.Add("Equal", Name, new[] { call.Input.Name, graph.Scalar((float)MaskValue) }) }), Name);
        var any = graph.Add("ReduceMax", Name, new[] { differs }, OnnxGraph.Ints("axes", -1L), OnnxGraph.Attr("keepdims", 0L));
        return graph.Add("Cast", Name, new[] { any }, OnnxGraph.Attr("to", (long)OnnxGraph.Bool));
    }
}
