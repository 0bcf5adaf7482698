using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Saving;
using KerasStyle.Saving.Onnx;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Layers;

/// <summary>
/// A layer defined only in the tests (issue 21: a layer is its own file and nothing else): multiplies each feature by
/// a trained weight and a fixed factor. Its Keras class name, weight (Keras' <c>add_weight</c> in Build), config,
/// <c>from_config</c> and ONNX form are all here; <see cref="UserLayerTests"/> registers it by type,
/// <c>CustomLayerTests</c> by a factory.
/// </summary>
[KerasLayer("LearnedScale")]
internal sealed class LearnedScale : Layer
{
    private LayerWeight? gamma;

    public LearnedScale(double factor, string? name = null)
        : base(name)
    {
        Factor = factor;
    }

    public double Factor { get; }

    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["factor"] = Factor;
        return config;
    }

    private static LearnedScale FromConfig(LayerConfig config) => new(config.GetDouble("factor", 1), config.Name);

    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        RequireFloat(input);
        RequireKnownLast(input, "feature");
        return new[] { (input.Shape, DType.Float32) };
    }

    protected override void Build(KerasTensor input)
    {
        var features = input.Shape.Last!.Value;
        gamma = AddWeight("gamma", new long[] { features }, () => ones(features));
    }

    protected override Tensor Call(Tensor input, bool training, Tensor? mask) =>
        input * gamma!.Variable * Factor;

    protected override IReadOnlyList<string> ExportOnnx(OnnxBuilder onnx) =>
        new[] { onnx.Node("Mul", onnx.Node("Mul", onnx.Inputs[0], onnx.Weight(gamma!)), onnx.Constant(new[] { (float)Factor })) };
}
