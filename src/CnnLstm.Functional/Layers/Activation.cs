using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>Applies a named activation function, as Keras' <c>Activation</c>.</summary>
[KerasLayer("Activation")]
public sealed class Activation : Layer
{
    /// <summary>Creates an activation layer.</summary>
    /// <param name="activation">A Keras activation name, e.g. <c>sigmoid</c>.</param>
    /// <param name="name">Layer name; defaults to <c>activation_N</c>.</param>
    public Activation(string activation, string? name = null)
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(activation);
        Function = Activations.Validate(activation, nameof(Activation), nameof(activation));
    }

    /// <summary>The activation name.</summary>
    public string Function { get; }

    internal override bool BuiltAtInit => true;

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["activation"] = Activations.Serialize(Function);
        return config;
    }

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config.</summary>
    internal static Activation FromConfig(LayerConfig config) =>
        new(config.Has("activation") ? config.GetActivation("activation", "linear") : throw config.Error("the argument 'activation' is required."), config.Name);

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        RequireFloat(input);
        if (Activations.HalvesLastAxis(Function))
        {
            // Keras' glu splits the last axis into halves a, b and returns a · sigmoid(b).
            if (input.Shape.Rank < 2 || input.Shape.Last is not int last || last % 2 != 0)
            {
                throw InputError($"activation '{Function}' halves the last axis, which must be known and even, but got {input.Label} with shape {input.Shape}.");
            }

            return new[] { (input.Shape.With(input.Shape.Rank - 1, last / 2), input.DType) };
        }

        return new[] { (input.Shape, input.DType) };
    }

    /// <summary>Passes its input's mask on, as Keras' <c>supports_masking = True</c>.</summary>
    public override bool SupportsMasking => true;

    internal override string? FinalActivation => Function;

    internal override Tensor ForwardPreActivation(Tensor input, bool training) => input.alias();

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask) =>
        Activations.Apply(Function, input);

    /// <summary>ONNX: the activation's operator (see <see cref="OnnxGraph.Activation"/>).</summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call) => new[] { graph.Activation(call.Input.Name, Function, Name) };
}
