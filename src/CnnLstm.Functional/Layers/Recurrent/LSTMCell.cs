using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving.Onnx.Proto;
using TorchSharp;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// One step of a long short-term memory layer, as Keras' <c>keras.layers.LSTMCell</c> (keras/src/layers/rnn/lstm.py):
/// z = x · kernel + h · recurrent_kernel + bias split into gate blocks (i, f, c, o); c' = f c + i act(z_c);
/// h' = o act(c'). Step input (batch, features); output h' (batch, units); states [h, c], each (batch, units).
/// Weights in Keras order and layout: kernel (features, 4u) glorot_uniform, recurrent_kernel (u, 4u) orthogonal, bias
/// (4u) zeros with the forget block at 1 (<c>unitForgetBias</c>). <see cref="LSTM"/> is <c>RNN(LSTMCell)</c>.
/// </summary>
/// <remarks>
/// With activation tanh and recurrent activation sigmoid, a sequence without mask or recurrent dropout runs the
/// library's own kernels, the same C# on every CPU (issue 27): <see cref="LstmInferenceKernel"/> with autograd off and
/// <see cref="LstmTrainingKernel"/> with autograd on; otherwise the step loop with the same maths. The weights are the
/// variables of a TorchSharp LSTM module, which only holds them (its second bias is held at zero and is not a weight).
/// </remarks>
[KerasLayer("LSTMCell"), Keras3OnlyArgument("seed", null), TfKeras2OnlyArgument("implementation", 2)]
public sealed class LSTMCell : DropoutRNNCell
{
    private LayerWeight? kernel;
    private LayerWeight? recurrentKernel;
    private LayerWeight? bias;
    private TorchSharp.Modules.LSTM? fused;
    private Dictionary<string, TorchSharp.Modules.Parameter>? fusedParameters;
    private PackedLstmWeights? packedWeights;

    /// <summary>Creates the cell.</summary>
    /// <param name="units">Size of the state; positive.</param>
    /// <param name="activation">Activation of the candidate and output (default <c>tanh</c>).</param>
    /// <param name="recurrentActivation">Gate activation (default <c>sigmoid</c>; Keras 2.1's <c>hard_sigmoid</c>, or any known activation).</param>
    /// <param name="useBias">Whether the gates have a bias (default true).</param>
    /// <param name="unitForgetBias">Whether the forget-gate bias starts at 1 (default true).</param>
    /// <param name="dropout">Input dropout rate in [0, 1) (default 0).</param>
    /// <param name="recurrentDropout">Recurrent dropout rate in [0, 1) (default 0).</param>
    /// <param name="name">Cell name; defaults to <c>lstm_cell_N</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">Units not positive, or a rate outside [0, 1).</exception>
    /// <exception cref="ArgumentException">An unknown activation.</exception>
    public LSTMCell(int units, string activation = "tanh", string recurrentActivation = "sigmoid", bool useBias = true, bool unitForgetBias = true,
        double dropout = 0, double recurrentDropout = 0, string? name = null)
        : this(nameof(LSTMCell), units, activation, recurrentActivation, useBias, unitForgetBias, dropout, recurrentDropout, name)
    {
    }

    internal LSTMCell(string layerClass, int units, string activation, string recurrentActivation, bool useBias, bool unitForgetBias,
        double dropout, double recurrentDropout, string? name)
        : base(layerClass, units, activation, useBias, dropout, recurrentDropout, name)
    {
        RecurrentActivation = Activations.Validate(recurrentActivation, layerClass, nameof(recurrentActivation));
        UnitForgetBias = unitForgetBias;
    }

    /// <summary>Gate activation.</summary>
    public string RecurrentActivation { get; }

    private protected override string? GateActivation => RecurrentActivation;

    /// <summary>Whether the forget-gate bias starts at 1.</summary>
    public bool UnitForgetBias { get; }

    /// <inheritdoc/>
    public override IReadOnlyList<int> StateSize => new[] { Units, Units };

    internal override IReadOnlyList<string> StateNames => new[] { "h", "c" };

    /// <summary>The library's LSTM kernels compute Keras' maths for these activations only.</summary>
    private bool UsesFusedKernel => Activation == "tanh" && RecurrentActivation == "sigmoid";

    private protected override int Gates => 4;

    private protected override void WriteExtras(JsonObject config, bool layerForm)
    {
        config["unit_forget_bias"] = UnitForgetBias;
        config["seed"] = null;
    }

    /// <summary>Creates the cell from a Keras 2 or Keras 3 config.</summary>
    internal static LSTMCell FromConfig(LayerConfig config) => FromConfig(config, nameof(LSTMCell), config.Name);

    /// <summary>The cell of an LSTM or LSTMCell config (the layer's config holds the cell's arguments).</summary>
    internal static LSTMCell FromConfig(LayerConfig config, string layerClass, string name)
    {
        var (dropout, recurrentDropout) = ReadDefaults(config, layerClass);
        var cell = new LSTMCell(layerClass, config.GetInt("units"), config.GetActivation("activation", "tanh"), config.GetActivation("recurrent_activation", "sigmoid"),
            config.GetBool("use_bias", true), config.GetBool("unit_forget_bias", true), dropout, recurrentDropout, name)
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

    /// <summary>
    /// Declares the weights, kept in torch's layout (gates × units, features), which the library's kernels read
    /// directly; with tanh and sigmoid they are the variables of a TorchSharp LSTM module, which holds them.
    /// </summary>
    /// <inheritdoc/>
    protected override void Build(KerasTensor input) =>
        (kernel, recurrentKernel, bias) = AddCellWeights(input, UseBias ? InitialBias() : null, t => t.t(), UsesFusedKernel ? FusedVariable : null);

    /// <summary>
    /// The bias's initial value: <see cref="DropoutRNNCell.BiasInitializer"/> over (4 units), or with
    /// <see cref="UnitForgetBias"/>, as Keras' LSTMCell, the initializer over (units), ones for the forget gate, and the
    /// initializer over (2 units), concatenated.
    /// </summary>
    private Func<Tensor> InitialBias()
    {
        if (!UnitForgetBias)
        {
            return Initial(BiasInitializer, new[] { 4L * Units }, "bias");
        }

        var input = Initial(BiasInitializer, new long[] { Units }, "bias");
        var rest = Initial(BiasInitializer, new[] { 2L * Units }, "bias");
        return () =>
        {
            using var first = input();
            using var forget = ones(Units);
            using var last = rest();
            return cat(new[] { first, forget, last });
        };
    }

    /// <summary>
    /// The fused module's variable holding a weight, the module made on the first ask: only once the build's sizes
    /// are checked, since making it allocates them.
    /// </summary>
    private TorchSharp.Modules.Parameter FusedVariable(string weight)
    {
        if (fusedParameters is null)
        {
            fused = nn.LSTM(InputDim, Units, numLayers: 1, bias: true, batchFirst: true);
            // One dictionary, so the weights hold the very wrappers detached below.
            fusedParameters = fused.named_parameters().ToDictionary(p => p.name, p => p.parameter);
            foreach (var parameter in fusedParameters.Values)
            {
                // The module owns its parameters (the build's dispose scope must not take them, bias_hh included).
                parameter.DetachFromDisposeScope();
            }

            // libtorch's second bias is not a Keras weight: held at zero, as the input bias is without useBias.
            HoldAtZero("bias_hh_l0");
            if (!UseBias)
            {
                HoldAtZero("bias_ih_l0");
            }
        }

        return fusedParameters[weight switch
        {
            "kernel" => "weight_ih_l0",
            "recurrent_kernel" => "weight_hh_l0",
            _ => "bias_ih_l0",
        }];

        void HoldAtZero(string name) => fusedParameters[name].requires_grad_(false).zero_();
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            fused?.Dispose();
        }
    }

    private protected override Tensor?[] StepWeights() => new Tensor?[] { recurrentKernel!.Variable.t() };

    // The weights are kept in torch's layout (gates × units, features): one linear over every step.
    private protected override Tensor Project(Tensor inputs) => nn.functional.linear(inputs, kernel!.Variable, bias?.Variable);

    private protected override (Tensor Output, Tensor[] States) Step(Tensor projected, Tensor[] states, Tensor? stateKeep, Tensor?[] weights)
    {
        var (h, c) = (states[0], states[1]);
        var z = addmm(projected, stateKeep is null ? h : h * stateKeep, weights[0]!, 1, 1);
        // One activation call over all four blocks (the candidate's block is recomputed with its own activation);
        // softmax and log_softmax are not element-wise: each gate on its own, as Keras' per-gate calls do.
        var gates = !Activations.IsElementwise(RecurrentActivation)
            ? cat(Enumerable.Range(0, 4).Select(g => Activations.Apply(RecurrentActivation, z.narrow(1, g * Units, Units))).ToArray(), 1)
            : Activations.Apply(RecurrentActivation, z);
        var candidate = Activations.Apply(Activation, z.narrow(1, 2 * Units, Units));
        var newC = addcmul(gates.narrow(1, Units, Units) * c, gates.narrow(1, 0, Units), candidate, Scalars.IntOne);
        var newH = gates.narrow(1, 3 * Units, Units) * Activations.Apply(Activation, newC);
        return (newH, new[] { newH, newC });
    }

    /// <summary>
    /// The library's own kernels on every CPU: with autograd off (Predict, Evaluate, validation), or when nothing
    /// needs a gradient, <see cref="LstmInferenceKernel"/>; with autograd on (Fit, TrainOnBatch),
    /// <see cref="LstmTrainingKernel"/>, whose backward runs backpropagation through time. Null (the step loop) for
    /// inputs the kernels do not take (not float32 on the CPU, no samples or no steps).
    /// </summary>
    internal override (Tensor Sequence, Tensor[] States)? RunFused(Tensor sequence, Tensor[]? initial, bool everyStep = true)
    {
        if (fused is null)
        {
            return null;
        }

        var (w, u, b) = (kernel!.Variable, recurrentKernel!.Variable, bias?.Variable);
        if (!LstmTrainingKernel.Supports(sequence, w, u, b, initial, Units))
        {
            return null;
        }

        if (!is_grad_enabled() || !(sequence.requires_grad || w.requires_grad || u.requires_grad || b?.requires_grad == true || initial?.Any(s => s.requires_grad) == true))
        {
            var (all, h, c) = LstmInferenceKernel.Run(sequence, w, u, b, initial, ref packedWeights, everyStep: everyStep);
            return (all, new[] { h, c });
        }

        var (trainedAll, trainedH, trainedC) = LstmTrainingKernel.Run(sequence, w, u, b, initial, everyStep);
        return (trainedAll, new[] { trainedH, trainedC });
    }

    /// <summary>ONNX's LSTM: gates reordered from Keras' (i, f, c, o) to ONNX's (i, o, f, c); Keras' one bias is ONNX's Wb, with Rb zeros.</summary>
    internal override (string Op, string W, string R, string? B, string[] Activations, AttributeProto[] Attributes)? OnnxOperator(OnnxGraph graph)
    {
        if (RNN.OnnxRecurrentActivation(RecurrentActivation) is not { } gate || RNN.OnnxRecurrentActivation(Activation) is not { } act)
        {
            return null;
        }

        var order = new long[] { 0, 3, 1, 2 };
        var b = bias is null ? null : graph.Weight(bias, "onnx", t => cat(new[] { RNN.OnnxGates(t.unsqueeze(0), Units, order).reshape(-1), zeros(4L * Units) }).unsqueeze(0));
        return ("LSTM", graph.Weight(kernel!, "onnx", t => RNN.OnnxGates(t, Units, order)), graph.Weight(recurrentKernel!, "onnx", t => RNN.OnnxGates(t, Units, order)), b,
            new[] { gate, act, act }, Array.Empty<AttributeProto>());
    }

    /// <summary>One LSTM step: z = x W + h U + b split as (i, f, c, o); c' = f c + i act(z_c); h' = o act(c').</summary>
    internal override (string Output, string[] States) OnnxStep(OnnxGraph body, string x, string[] states, string scope)
    {
        var z = body.Add("Add", scope, new[] { body.Affine(x, body.Weight(kernel!), bias is null ? null : body.Weight(bias), scope), body.Add("MatMul", scope, new[] { states[0], body.Weight(recurrentKernel!) }) });
        var gates = body.AddMulti("Split", scope, new[] { z, body.Int64s(Units, Units, Units, Units) }, 4, OnnxGraph.Attr("axis", 1L));
        var (i, f, o) = (body.Activation(gates[0], RecurrentActivation, scope), body.Activation(gates[1], RecurrentActivation, scope), body.Activation(gates[3], RecurrentActivation, scope));
        var c = body.Add("Add", scope, new[] { body.Add("Mul", scope, new[] { f, states[1] }), body.Add("Mul", scope, new[] { i, body.Activation(gates[2], Activation, scope) }) });
        var h = body.Add("Mul", scope, new[] { o, body.Activation(c, Activation, scope) });
        return (h, new[] { h, c });
    }
}
