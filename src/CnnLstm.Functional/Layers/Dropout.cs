using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>Inverted dropout, active only while training, as Keras' <c>Dropout</c>.</summary>
[KerasLayer("Dropout")]
public sealed class Dropout : Layer
{
    /// <summary>Creates a dropout layer.</summary>
    /// <param name="rate">Fraction of inputs to drop, in [0, 1).</param>
    /// <param name="name">Layer name; defaults to <c>dropout_N</c>.</param>
    public Dropout(double rate, string? name = null)
        : base(name)
    {
        if (!(rate >= 0 && rate < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(rate), rate, "Dropout: rate must be in [0, 1).");
        }

        Rate = rate;
    }

    /// <summary>Fraction of inputs dropped while training.</summary>
    public double Rate { get; }

    internal override bool BuiltAtInit => true;

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["rate"] = Rate;
        config["seed"] = null;
        config["noise_shape"] = null;
        return config;
    }

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config (a <c>seed</c> is ignored: the library's global generator is used).</summary>
    internal static Dropout FromConfig(LayerConfig config)
    {
        config.RequireDefault("noise_shape", null);
        config.Ignore("seed");
        return new Dropout(config.GetDouble("rate", 0), config.Name);
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        RequireFloat(input);
        return new[] { (input.Shape, input.DType) };
    }

    /// <summary>Passes its input's mask on, as Keras' <c>supports_masking = True</c>.</summary>
    public override bool SupportsMasking => true;

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask) =>
        !training || Rate == 0 ? input.alias() : DropoutMask.Supports(input) ? DropoutMask.Apply(input, Rate, RandomStreams.NextSeed(Random)) : nn.functional.dropout(input, Rate, true);

    /// <summary>ONNX: the inference form, which passes its input on unchanged.</summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call) => new[] { call.Input.Name };
}
