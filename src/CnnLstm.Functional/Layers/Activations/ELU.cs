using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Exponential linear unit, as Keras' <c>keras.layers.ELU</c> (keras/src/layers/activations/elu.py):
/// x for x &gt; 0, alpha (exp(x) - 1) otherwise. Input (batch, ...) float, output the same shape; passes masks on; no weights.
/// </summary>
[KerasLayer("ELU")]
public sealed class ELU : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="alpha">Scale of the negative part; default 1.0 as Keras. Any finite number (Keras does not check it).</param>
    /// <param name="name">Layer name; defaults to <c>elu_N</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="alpha"/> is not finite.</exception>
    public ELU(double alpha = 1.0, string? name = null)
        : base(name)
    {
        Alpha = double.IsFinite(alpha) ? alpha : throw new ArgumentOutOfRangeException(nameof(alpha), alpha, $"ELU: alpha must be a finite number. Received: alpha={alpha}");
    }

    /// <summary>Scale of the negative part (Keras' <c>alpha</c>).</summary>
    public double Alpha { get; }

    /// <inheritdoc/>
    public override bool SupportsMasking => true;

    internal override bool BuiltAtInit => true;

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["alpha"] = Alpha;
        return config;
    }

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config.</summary>
    internal static ELU FromConfig(LayerConfig config) => new(config.GetDouble("alpha", 1.0), config.Name);

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        RequireFloat(input);
        return new[] { (input.Shape, input.DType) };
    }

    /// <summary>torch's elu(x, alpha), as Keras' torch backend.</summary>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask) =>
        input.elu(Scalars.Of(Alpha), Scalars.Of(1.0), Scalars.Of(1.0));

    /// <summary>ONNX: Elu with <see cref="Alpha"/>.</summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call) =>
        new[] { graph.Add("Elu", Name, new[] { call.Input.Name }, OnnxGraph.Attr("alpha", (float)Alpha)) };
}
