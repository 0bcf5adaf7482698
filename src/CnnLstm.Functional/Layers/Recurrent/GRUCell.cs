using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving.Onnx.Proto;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// One step of a gated recurrent unit, as Keras' <c>keras.layers.GRUCell</c> (keras/src/layers/rnn/gru.py). Gates in
/// Keras' order: update z, reset r, candidate h̃. With <c>resetAfter</c> (the Keras 3 default, and cuDNN's form) the
/// reset gate multiplies the recurrent product: h̃ = act(x·W_h + b_h + r ⊙ (h·U_h + b'_h)), and the bias is
/// (2, 3 × units): input biases, then recurrent biases. Without it (the Keras 2.1 form) the reset gate multiplies the
/// state first: h̃ = act(x·W_h + b_h + (r ⊙ h)·U_h), and the bias is (3 × units). Then h = z ⊙ h_prev + (1 - z) ⊙ h̃.
/// Step input (batch, features); output and the one state h (batch, units). Weights in Keras order and layout: kernel
/// (features, 3u), recurrent_kernel (u, 3u), bias. <see cref="GRU"/> is <c>RNN(GRUCell)</c>.
/// </summary>
[KerasLayer("GRUCell"), Keras3OnlyArgument("seed", null), TfKeras2OnlyArgument("implementation", 2)]
public sealed class GRUCell : DropoutRNNCell
{
    private LayerWeight? kernel;
    private LayerWeight? recurrentKernel;
    private LayerWeight? bias;

    /// <summary>Creates the cell.</summary>
    /// <param name="units">Size of the state; positive.</param>
    /// <param name="activation">Candidate activation (default <c>tanh</c>).</param>
    /// <param name="recurrentActivation">Gate activation (default <c>sigmoid</c>).</param>
    /// <param name="useBias">Whether to add biases (default true).</param>
    /// <param name="dropout">Input dropout rate in [0, 1) (default 0).</param>
    /// <param name="recurrentDropout">Recurrent dropout rate in [0, 1) (default 0).</param>
    /// <param name="resetAfter">Apply the reset gate after the recurrent product (Keras 3's default true).</param>
    /// <param name="name">Cell name; defaults to <c>gru_cell_N</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">Units not positive, or a rate outside [0, 1).</exception>
    /// <exception cref="ArgumentException">An unknown activation.</exception>
    public GRUCell(int units, string activation = "tanh", string recurrentActivation = "sigmoid", bool useBias = true,
        double dropout = 0, double recurrentDropout = 0, bool resetAfter = true, string? name = null)
        : this(nameof(GRUCell), units, activation, recurrentActivation, useBias, dropout, recurrentDropout, resetAfter, name)
    {
    }

    internal GRUCell(string layerClass, int units, string activation, string recurrentActivation, bool useBias,
        double dropout, double recurrentDropout, bool resetAfter, string? name)
        : base(layerClass, units, activation, useBias, dropout, recurrentDropout, name)
    {
        RecurrentActivation = Activations.Validate(recurrentActivation, layerClass, nameof(recurrentActivation));
        ResetAfter = resetAfter;
    }

    /// <summary>Gate activation.</summary>
    public string RecurrentActivation { get; }

    private protected override string? GateActivation => RecurrentActivation;

    /// <summary>Whether the reset gate applies after the recurrent product (Keras' <c>reset_after</c>).</summary>
    public bool ResetAfter { get; }

    /// <inheritdoc/>
    public override IReadOnlyList<int> StateSize => new[] { Units };

    private protected override int Gates => 3;

    private protected override long[] BiasShape => ResetAfter ? new long[] { 2, 3L * Units } : new long[] { 3L * Units };

    private protected override void WriteExtras(JsonObject config, bool layerForm)
    {
        config["reset_after"] = ResetAfter;
        config["seed"] = null;
    }

    /// <summary>Creates the cell from a Keras 2 or Keras 3 config (Keras 2.1's default is <c>reset_after=False</c>).</summary>
    internal static GRUCell FromConfig(LayerConfig config) => FromConfig(config, nameof(GRUCell), config.Name);

    /// <summary>The cell of a GRU or GRUCell config; without <c>reset_after</c> a Keras 2 config (Keras 2.0 to 2.1.2, which
    /// had no such argument) is False, a Keras 3 one Keras 3's True (docs/saving.md, "Keras version rule").</summary>
    internal static GRUCell FromConfig(LayerConfig config, string layerClass, string name)
    {
        var (dropout, recurrentDropout) = ReadDefaults(config, layerClass);
        var cell = new GRUCell(layerClass, config.GetInt("units"), config.GetActivation("activation", "tanh"), config.GetActivation("recurrent_activation", "sigmoid"),
            config.GetBool("use_bias", true), dropout, recurrentDropout, config.GetBool("reset_after", !config.Keras2), name)
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

    private protected override Tensor?[] StepWeights() => new[] { recurrentKernel!.Variable, bias is not null && ResetAfter ? bias.Variable[1] : null };

    private protected override Tensor Project(Tensor inputs)
    {
        var projected = inputs.matmul(kernel!.Variable);
        return bias is null ? projected : projected.add(ResetAfter ? bias.Variable[0] : bias.Variable, Scalars.IntOne);
    }

    private protected override (Tensor Output, Tensor[] States) Step(Tensor x, Tensor[] states, Tensor? stateKeep, Tensor?[] weights)
    {
        var (h, recurrent, recurrentBias, u) = (states[0], weights[0]!, weights[1], Units);
        // Recurrent dropout drops the state in the recurrent products; the update mixes the state itself.
        var dropped = stateKeep is null ? h : h * stateKeep;
        Tensor z, r, candidate;
        if (ResetAfter)
        {
            var inner = dropped.matmul(recurrent);
            if (recurrentBias is not null)
            {
                inner = inner.add(recurrentBias, Scalars.IntOne);
            }

            z = Activations.Apply(RecurrentActivation, x.narrow(1, 0, u).add(inner.narrow(1, 0, u), Scalars.IntOne));
            r = Activations.Apply(RecurrentActivation, x.narrow(1, u, u).add(inner.narrow(1, u, u), Scalars.IntOne));
            candidate = Activations.Apply(Activation, x.narrow(1, 2 * u, u).add(r * inner.narrow(1, 2 * u, u), Scalars.IntOne));
        }
        else
        {
            var gates = dropped.matmul(recurrent.narrow(1, 0, 2 * u));
            z = Activations.Apply(RecurrentActivation, x.narrow(1, 0, u).add(gates.narrow(1, 0, u), Scalars.IntOne));
            r = Activations.Apply(RecurrentActivation, x.narrow(1, u, u).add(gates.narrow(1, u, u), Scalars.IntOne));
            candidate = Activations.Apply(Activation, x.narrow(1, 2 * u, u).add((r * dropped).matmul(recurrent.narrow(1, 2 * u, u)), Scalars.IntOne));
        }

        var next = (z * h).add(Scalars.OneMinus(z) * candidate, Scalars.IntOne);
        return (next, new[] { next });
    }

    /// <summary>
    /// ONNX's GRU: the gate order (z, r, h) is Keras'; with <see cref="ResetAfter"/> the two bias rows are Wb and Rb and
    /// <c>linear_before_reset</c> is 1, without it the one bias is Wb.
    /// </summary>
    internal override (string Op, string W, string R, string? B, string[] Activations, AttributeProto[] Attributes)? OnnxOperator(OnnxGraph graph)
    {
        if (RNN.OnnxRecurrentActivation(RecurrentActivation) is not { } gate || RNN.OnnxRecurrentActivation(Activation) is not { } act)
        {
            return null;
        }

        var order = new long[] { 0, 1, 2 };
        var b = bias is null ? null : graph.Weight(bias, "onnx", t => (ResetAfter ? t.reshape(-1) : cat(new[] { t, zeros(3L * Units) })).unsqueeze(0));
        return ("GRU", graph.Weight(kernel!, "onnx", t => RNN.OnnxGates(t, Units, order)), graph.Weight(recurrentKernel!, "onnx", t => RNN.OnnxGates(t, Units, order)), b,
            new[] { gate, act }, new[] { OnnxGraph.Attr("linear_before_reset", ResetAfter ? 1L : 0L) });
    }

    /// <summary>One GRU step as Keras computes it, with the reset gate after (resetAfter) or before the recurrent product.</summary>
    internal override (string Output, string[] States) OnnxStep(OnnxGraph body, string x, string[] states, string scope)
    {
        var h = states[0];
        var split = body.Int64s(Units, Units, Units);
        var inputBias = bias is null ? null : ResetAfter ? body.Weight(bias, "input", t => t[0]) : body.Weight(bias);
        var xs = body.AddMulti("Split", scope, new[] { body.Affine(x, body.Weight(kernel!), inputBias, scope), split }, 3, OnnxGraph.Attr("axis", 1L));
        string z, r, candidate;
        if (ResetAfter)
        {
            var hs = body.AddMulti("Split", scope, new[] { body.Affine(h, body.Weight(recurrentKernel!), bias is null ? null : body.Weight(bias, "recurrent", t => t[1]), scope), split }, 3, OnnxGraph.Attr("axis", 1L));
            z = body.Activation(body.Add("Add", scope, new[] { xs[0], hs[0] }), RecurrentActivation, scope);
            r = body.Activation(body.Add("Add", scope, new[] { xs[1], hs[1] }), RecurrentActivation, scope);
            candidate = body.Add("Add", scope, new[] { xs[2], body.Add("Mul", scope, new[] { r, hs[2] }) });
        }
        else
        {
            var gatesKernel = body.Weight(recurrentKernel!, "zr", t => t.narrow(1, 0, 2L * Units));
            var hs = body.AddMulti("Split", scope, new[] { body.Add("MatMul", scope, new[] { h, gatesKernel }), body.Int64s(Units, Units) }, 2, OnnxGraph.Attr("axis", 1L));
            z = body.Activation(body.Add("Add", scope, new[] { xs[0], hs[0] }), RecurrentActivation, scope);
            r = body.Activation(body.Add("Add", scope, new[] { xs[1], hs[1] }), RecurrentActivation, scope);
            var candidateKernel = body.Weight(recurrentKernel!, "h", t => t.narrow(1, 2L * Units, Units));
            candidate = body.Add("Add", scope, new[] { xs[2], body.Add("MatMul", scope, new[] { body.Add("Mul", scope, new[] { r, h }), candidateKernel }) });
        }

        var hh = body.Activation(candidate, Activation, scope);
        // h' = z h + (1 - z) hh
        var kept = body.Add("Mul", scope, new[] { z, h });
        var fresh = body.Add("Mul", scope, new[] { body.Add("Sub", scope, new[] { body.Scalar(1f), z }), hh });
        var next = body.Add("Add", scope, new[] { kept, fresh });
        return (next, new[] { next });
    }
}
