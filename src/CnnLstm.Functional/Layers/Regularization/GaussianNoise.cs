using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Adds zero-mean Gaussian noise while training, as Keras' <c>keras.layers.GaussianNoise</c>
/// (keras/src/layers/regularization/gaussian_noise.py): x + N(0, stddev²) in training, x in inference. Shape unchanged;
/// passes masks on; no weights. The noise comes from the layer's own generator (<c>Utils.SetRandomSeed</c>), not from
/// Keras' seed, so single training runs are reproducible here but do not draw Keras' noise.
/// </summary>
[KerasLayer("GaussianNoise")]
public sealed class GaussianNoise : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="stddev">The noise's standard deviation; 0 or more.</param>
    /// <param name="name">Layer name; defaults to <c>gaussian_noise_N</c>.</param>
    public GaussianNoise(double stddev, string? name = null)
        : base(name)
    {
        Stddev = stddev >= 0 && double.IsFinite(stddev) ? stddev
            : throw new ArgumentOutOfRangeException(nameof(stddev), stddev, "GaussianNoise: stddev must be a finite number, 0 or more.");
    }

    /// <summary>The noise's standard deviation (Keras' <c>stddev</c>).</summary>
    public double Stddev { get; }

    /// <inheritdoc/>
    public override bool SupportsMasking => true;

    internal override bool BuiltAtInit => true;

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["stddev"] = Stddev;
        config["seed"] = null;
        return config;
    }

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config.</summary>
    internal static GaussianNoise FromConfig(LayerConfig config)
    {
        config.Ignore("seed");
        return new GaussianNoise(config.GetDouble("stddev", 0), config.Name);
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        RequireFloat(input);
        return new[] { (input.Shape, input.DType) };
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask) =>
        !training || Stddev == 0 ? input.alias() : input.add(randn(input.shape, dtype: input.dtype, device: input.device, generator: Random).mul(Scalars.Of(Stddev)), Scalars.IntOne);

    /// <summary>ONNX: the inference form, which passes its input on unchanged.</summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call) => new[] { call.Input.Name };
}
