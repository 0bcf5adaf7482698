using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Passes its input on unchanged, as Keras' <c>keras.layers.Identity</c> (keras/src/layers/core/identity.py): any
/// shape (batch, ...) and dtype (float or integer ids) in, the same out; passes masks on; no weights. Useful as a
/// placeholder in models built in code.
/// </summary>
[KerasLayer("Identity")]
public sealed class Identity : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="name">Layer name; defaults to <c>identity_N</c>.</param>
    public Identity(string? name = null)
        : base(name)
    {
    }

    /// <inheritdoc/>
    public override bool SupportsMasking => true;

    internal override bool BuiltAtInit => true;

    /// <summary>Creates the layer from a Keras 3 config (name, trainable, dtype).</summary>
    internal static Identity FromConfig(LayerConfig config) => new(config.Name);

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input) => new[] { (input.Shape, input.DType) };

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask) => input.alias();

    /// <summary>ONNX: its input, unchanged.</summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call) => new[] { call.Input.Name };
}
