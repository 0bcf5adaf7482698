using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving.Onnx.Proto;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// One step of a fully-connected recurrent layer, as Keras' <c>keras.layers.SimpleRNNCell</c>
/// (keras/src/layers/rnn/simple_rnn.py): h = activation(x · kernel + bias + h_prev · recurrent_kernel). Step input
/// (batch, features); output and the one state h (batch, units). Weights in Keras order and layout: kernel (features,
/// units) glorot-uniform, recurrent_kernel (units, units) orthogonal, bias (units) zeros. <see cref="SimpleRNN"/> is
/// <c>RNN(SimpleRNNCell)</c>.
/// </summary>
[KerasLayer("SimpleRNNCell"), Keras3OnlyArgument("seed", null)]
public sealed class SimpleRNNCell : DropoutRNNCell
{
    private LayerWeight? kernel;
    private LayerWeight? recurrentKernel;
    private LayerWeight? bias;

    /// <summary>Creates the cell.</summary>
    /// <param name="units">Size of the state; positive.</param>
    /// <param name="activation">Keras activation name (default <c>tanh</c>).</param>
    /// <param name="useBias">Whether to add a bias (default true).</param>
    /// <param name="dropout">Input dropout rate in [0, 1) (default 0).</param>
    /// <param name="recurrentDropout">Recurrent dropout rate in [0, 1) (default 0).</param>
    /// <param name="name">Cell name; defaults to <c>simple_rnn_cell_N</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">Units not positive, or a rate outside [0, 1).</exception>
    /// <exception cref="ArgumentException">An unknown activation.</exception>
    public SimpleRNNCell(int units, string activation = "tanh", bool useBias = true, double dropout = 0, double recurrentDropout = 0, string? name = null)
        : this(nameof(SimpleRNNCell), units, activation, useBias, dropout, recurrentDropout, name)
    {
    }

    internal SimpleRNNCell(string layerClass, int units, string activation, bool useBias, double dropout, double recurrentDropout, string? name)
        : base(layerClass, units, activation, useBias, dropout, recurrentDropout, name)
    {
    }

    /// <inheritdoc/>
    public override IReadOnlyList<int> StateSize => new[] { Units };

    /// <summary>The cell writes a seed; Keras' SimpleRNN layer writes none.</summary>
    private protected override int Gates => 1;

    private protected override void WriteExtras(JsonObject config, bool layerForm)
    {
        if (!layerForm)
        {
            config["seed"] = null;
        }
    }

    /// <summary>Creates the cell from a Keras 2 or Keras 3 config.</summary>
    internal static SimpleRNNCell FromConfig(LayerConfig config) => FromConfig(config, nameof(SimpleRNNCell), config.Name);

    /// <summary>The cell of a SimpleRNN or SimpleRNNCell config.</summary>
    internal static SimpleRNNCell FromConfig(LayerConfig config, string layerClass, string name)
    {
        var (dropout, recurrentDropout) = ReadDefaults(config, layerClass);
        var cell = new SimpleRNNCell(layerClass, config.GetInt("units"), config.GetActivation("activation", "tanh"), config.GetBool("use_bias", true), dropout, recurrentDropout, name)
        {
            KernelRegularizer = config.GetRegularizer("kernel_regularizer"),
            RecurrentRegularizer = config.GetRegularizer("recurrent_regularizer"),
            BiasRegularizer = config.GetRegularizer("bias_regularizer"),
            KernelConstraint = config.GetConstraint("kernel_constraint"),
            RecurrentConstraint = config.GetConstraint("recurrent_constraint"),
            BiasConstraint = config.GetConstraint("bias_constraint"),
        };
        cell.ReadInitializers(config);
        return cell;
    }

    /// <inheritdoc/>
    protected override void Build(KerasTensor input)
    {
        (kernel, recurrentKernel, bias) = AddCellWeights(input);
    }

    private protected override Tensor?[] StepWeights() => new Tensor?[] { recurrentKernel!.Variable };

    private protected override Tensor Project(Tensor inputs)
    {
        var projected = inputs.matmul(kernel!.Variable);
        return bias is null ? projected : projected.add(bias.Variable, Scalars.IntOne);
    }

    private protected override (Tensor Output, Tensor[] States) Step(Tensor projected, Tensor[] states, Tensor? stateKeep, Tensor?[] weights)
    {
        var h = states[0];
        var next = Activations.Apply(Activation, projected.add((stateKeep is null ? h : h * stateKeep).matmul(weights[0]!), Scalars.IntOne));
        return (next, new[] { next });
    }

    /// <summary>ONNX's RNN: Keras' one bias is Wb, with Rb zeros.</summary>
    internal override (string Op, string W, string R, string? B, string[] Activations, AttributeProto[] Attributes)? OnnxOperator(OnnxGraph graph)
    {
        if (RNN.OnnxRecurrentActivation(Activation) is not { } act)
        {
            return null;
        }

        var b = bias is null ? null : graph.Weight(bias, "onnx", t => cat(new[] { t, zeros(Units) }).unsqueeze(0));
        return ("RNN", graph.Weight(kernel!, "onnx", t => RNN.OnnxGates(t, Units, 0)), graph.Weight(recurrentKernel!, "onnx", t => RNN.OnnxGates(t, Units, 0)), b,
            new[] { act }, Array.Empty<AttributeProto>());
    }

    /// <summary>One SimpleRNN step: h' = act(x W + b + h U).</summary>
    internal override (string Output, string[] States) OnnxStep(OnnxGraph body, string x, string[] states, string scope)
    {
        var next = body.Activation(body.Add("Add", scope, new[] { body.Affine(x, body.Weight(kernel!), bias is null ? null : body.Weight(bias), scope), body.Add("MatMul", scope, new[] { states[0], body.Weight(recurrentKernel!) }) }), Activation, scope);
        return (next, new[] { next });
    }
}
