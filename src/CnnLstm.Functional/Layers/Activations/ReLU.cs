using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Rectified linear unit with options, as Keras' <c>keras.layers.ReLU</c> (keras/src/layers/activations/relu.py,
/// computed as <c>keras.activations.relu</c>): x above <c>threshold</c> (clipped to <c>max_value</c>), 0 at or below it,
/// minus negative_slope · relu(threshold - x). Input (batch, ...) float, output the same shape; passes masks on; no weights.
/// </summary>
[KerasLayer("ReLU")]
public sealed class ReLU : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="maxValue">Largest output, 0 or more; null (default) for none.</param>
    /// <param name="negativeSlope">Slope below the threshold, 0 or more; default 0.</param>
    /// <param name="threshold">Value at or below which the output is damped, 0 or more; default 0.</param>
    /// <param name="name">Layer name; defaults to <c>re_lu_N</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is negative or not finite (named, with its value).</exception>
    public ReLU(double? maxValue = null, double negativeSlope = 0.0, double threshold = 0.0, string? name = null)
        : base(name)
    {
        MaxValue = maxValue is not double m || (m >= 0 && double.IsFinite(m)) ? maxValue
            : throw new ArgumentOutOfRangeException(nameof(maxValue), maxValue, $"ReLU: max_value of a ReLU layer cannot be a negative value. Received: max_value={maxValue}");
        NegativeSlope = negativeSlope >= 0 && double.IsFinite(negativeSlope) ? negativeSlope
            : throw new ArgumentOutOfRangeException(nameof(negativeSlope), negativeSlope, $"ReLU: negative_slope of a ReLU layer cannot be None or a negative value. Received: negative_slope={negativeSlope}");
        Threshold = threshold >= 0 && double.IsFinite(threshold) ? threshold
            : throw new ArgumentOutOfRangeException(nameof(threshold), threshold, $"ReLU: threshold of a ReLU layer cannot be None or a negative value. Received: threshold={threshold}");
    }

    /// <summary>Largest output (Keras' <c>max_value</c>), null for none.</summary>
    public double? MaxValue { get; }

    /// <summary>Slope below the threshold (Keras' <c>negative_slope</c>).</summary>
    public double NegativeSlope { get; }

    /// <summary>Threshold (Keras' <c>threshold</c>).</summary>
    public double Threshold { get; }

    /// <inheritdoc/>
    public override bool SupportsMasking => true;

    internal override bool BuiltAtInit => true;

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["max_value"] = MaxValue;
        config["negative_slope"] = NegativeSlope;
        config["threshold"] = Threshold;
        return config;
    }

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config.</summary>
    internal static ReLU FromConfig(LayerConfig config) =>
        new(config.Has("max_value") ? config.GetDouble("max_value", 0) : null, config.GetDouble("negative_slope", 0), config.GetDouble("threshold", 0), config.Name);

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        RequireFloat(input);
        return new[] { (input.Shape, input.DType) };
    }

    /// <summary>Keras 3's <c>ReLU.static_call</c> step by step, with its torch backend's operations.</summary>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask)
    {
        if (NegativeSlope != 0 && MaxValue is null && Threshold == 0)
        {
            return input.leaky_relu(Scalars.Of(NegativeSlope));
        }

        using var scope = NewDisposeScope();
        Tensor? negativePart = null;
        if (NegativeSlope != 0)
        {
            negativePart = Threshold != 0
                ? nn.functional.relu(input.neg().add(Scalars.Of(Threshold), Scalars.IntOne))
                : nn.functional.relu(input.neg());
        }

        var clipMax = MaxValue is not null;
        Tensor x;
        if (Threshold != 0)
        {
            x = where(input.gt(Scalars.Of(Threshold)), input, zeros_like(input));
        }
        else if (MaxValue == 6)
        {
            x = nn.functional.relu6(input);
            clipMax = false;
        }
        else
        {
            x = nn.functional.relu(input);
        }

        if (clipMax)
        {
            x = x.clamp(Scalars.Of(0.0), Scalars.Of(MaxValue!.Value));
        }

        if (negativePart is not null)
        {
            x = x.sub(negativePart.mul(Scalars.Of(NegativeSlope)));
        }

        return x.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// ONNX: relu (or LeakyRelu) as Keras computes it: Where(x &gt; threshold, x, 0), Clip to max_value, minus
    /// negative_slope · Relu(threshold - x).
    /// </summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call)
    {
        var input = call.Input.Name;
        if (NegativeSlope != 0 && MaxValue is null && Threshold == 0)
        {
            return new[] { graph.Add("LeakyRelu", Name, new[] { input }, OnnxGraph.Attr("alpha", (float)NegativeSlope)) };
        }

        var x = Threshold != 0
            ? graph.Add("Where", Name, new[] { graph.Add("Greater", Name, new[] { input, graph.Scalar((float)Threshold) }), input, graph.Scalar(0f) })
            : graph.Add("Relu", Name, new[] { input });
        if (MaxValue is double max)
        {
            x = graph.Add("Clip", Name, new[] { x, graph.Scalar(0f), graph.Scalar((float)max) });
        }

        if (NegativeSlope != 0)
        {
            var negated = graph.Add("Neg", Name, new[] { input });
            var shifted = Threshold != 0 ? graph.Add("Add", Name, new[] { negated, graph.Scalar((float)Threshold) }) : negated;
            var negativePart = graph.Add("Mul", Name, new[] { graph.Add("Relu", Name, new[] { shifted }), graph.Scalar((float)NegativeSlope) });
            x = graph.Add("Sub", Name, new[] { x, negativePart });
        }

        return new[] { x };
    }
}
