using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Leaky rectified linear unit, as Keras' <c>keras.layers.LeakyReLU</c> (keras/src/layers/activations/leaky_relu.py):
/// x for x ≥ 0, negative_slope · x otherwise. Input (batch, ...) float, output the same shape; passes masks on; no
/// weights. tf.keras 2 names the argument <c>alpha</c>; Keras 3 still reads it (with a deprecation warning), and so
/// does this layer.
/// </summary>
[KerasLayer("LeakyReLU"), TfKeras2RenamedArgument("negative_slope", "alpha")]
public sealed class LeakyReLU : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="negativeSlope">Slope below zero, 0 or more; default 0.3 as Keras' layer (the <c>leaky_relu</c> activation's is 0.2).</param>
    /// <param name="name">Layer name; defaults to <c>leaky_re_lu_N</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="negativeSlope"/> is negative or not finite.</exception>
    public LeakyReLU(double negativeSlope = 0.3, string? name = null)
        : base(name)
    {
        NegativeSlope = negativeSlope >= 0 && double.IsFinite(negativeSlope) ? negativeSlope
            : throw new ArgumentOutOfRangeException(nameof(negativeSlope), negativeSlope, $"LeakyReLU: the negative_slope value of a Leaky ReLU layer cannot be None or negative. Received: negative_slope={negativeSlope}");
    }

    /// <summary>Slope below zero (Keras' <c>negative_slope</c>, tf.keras 2's <c>alpha</c>).</summary>
    public double NegativeSlope { get; }

    /// <inheritdoc/>
    public override bool SupportsMasking => true;

    internal override bool BuiltAtInit => true;

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["negative_slope"] = NegativeSlope;
        return config;
    }

    /// <summary>Creates the layer from a Keras 3 config (<c>negative_slope</c>) or a Keras 2 one (<c>alpha</c>).</summary>
    internal static LeakyReLU FromConfig(LayerConfig config)
    {
        if (config.Has("alpha") && config.Has("negative_slope"))
        {
            throw config.Error("has both 'alpha' (tf.keras 2) and 'negative_slope' (Keras 3); give one.");
        }

        var slope = config.Has("alpha") ? config.GetDouble("alpha", 0.3) : config.GetDouble("negative_slope", 0.3);
        return new LeakyReLU(slope, config.Name);
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        RequireFloat(input);
        return new[] { (input.Shape, input.DType) };
    }

    /// <summary>torch's leaky_relu, as Keras' torch backend.</summary>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask) => input.leaky_relu(Scalars.Of(NegativeSlope));

    /// <summary>ONNX: LeakyRelu with <see cref="NegativeSlope"/>.</summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call) =>
        new[] { graph.Add("LeakyRelu", Name, new[] { call.Input.Name }, OnnxGraph.Attr("alpha", (float)NegativeSlope)) };
}
