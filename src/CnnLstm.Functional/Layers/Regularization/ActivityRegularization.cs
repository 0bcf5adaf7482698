using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Regularizers;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Passes its input on unchanged and adds an L1/L2 penalty on it to the loss, as Keras'
/// <c>keras.layers.ActivityRegularization</c> (keras/src/layers/regularization/activity_regularization.py): the layer's
/// <see cref="Layer.ActivityRegularizer"/> is <c>L1L2(l1, l2)</c>, so each call while training or evaluating adds
/// (l1 × sum|x| + l2 × sum x²) / batch size. Shape (batch, ...) unchanged; passes masks on; no weights.
/// </summary>
[KerasLayer("ActivityRegularization")]
public sealed class ActivityRegularization : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="l1">The L1 factor (default 0); finite and non-negative.</param>
    /// <param name="l2">The L2 factor (default 0); finite and non-negative.</param>
    /// <param name="name">Layer name; defaults to <c>activity_regularization_N</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A negative, infinite or NaN factor.</exception>
    public ActivityRegularization(double l1 = 0, double l2 = 0, string? name = null)
        : base(name)
    {
        ActivityRegularizer = new L1L2(l1, l2);
        L1 = l1;
        L2 = l2;
    }

    /// <summary>The L1 factor (Keras' <c>l1</c>).</summary>
    public double L1 { get; }

    /// <summary>The L2 factor (Keras' <c>l2</c>).</summary>
    public double L2 { get; }

    /// <inheritdoc/>
    public override bool SupportsMasking => true;

    internal override bool BuiltAtInit => true;

    /// <inheritdoc/>
    /// <remarks>As Keras: the base config without <c>activity_regularizer</c>, then <c>l1</c> and <c>l2</c>.</remarks>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config.Remove("activity_regularizer");
        config["l1"] = L1;
        config["l2"] = L2;
        return config;
    }

    /// <summary>Creates the layer from a Keras 3 config; an <c>activity_regularizer</c> key is refused, as Keras' constructor refuses it.</summary>
    internal static ActivityRegularization FromConfig(LayerConfig config)
    {
        if (config.GetRaw("activity_regularizer") is not null)
        {
            throw config.Error("'activity_regularizer' cannot be given: the layer's regularizer is L1L2(l1, l2) (Keras refuses it too).");
        }

        return new ActivityRegularization(config.GetDouble("l1", 0), config.GetDouble("l2", 0), config.Name);
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        RequireFloat(input);
        return new[] { (input.Shape, input.DType) };
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask) => input.alias();

    /// <summary>ONNX: its input, unchanged (the penalty is a training loss).</summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call) => new[] { call.Input.Name };
}
