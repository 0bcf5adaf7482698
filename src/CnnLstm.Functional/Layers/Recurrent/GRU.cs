using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx.Proto;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// A gated recurrent unit layer, as Keras' <c>keras.layers.GRU</c> (keras/src/layers/rnn/gru.py). Gates in Keras'
/// order: update z, reset r, candidate h̃. With <c>resetAfter</c> (the Keras 3 default, and cuDNN's form) the reset
/// gate multiplies the recurrent product: h̃ = activation(x·W_h + b_h + r ⊙ (h·U_h + b'_h)), and the bias is
/// (2, 3 × units): input biases, then recurrent biases. Without it (the Keras 2.1 form) the reset gate multiplies
/// the state first: h̃ = activation(x·W_h + b_h + (r ⊙ h)·U_h), and the bias is (3 × units). Then
/// h = z ⊙ h_prev + (1 - z) ⊙ h̃. Input (batch, steps, features); output (batch, units), or (batch, steps, units)
/// with <c>returnSequences</c>; with <c>returnState</c> also the last state. Weights in Keras order and layout:
/// kernel (features, 3u), recurrent_kernel (u, 3u), bias. Masked steps keep the state and repeat the previous
/// output, as Keras' rnn does. <c>dropout</c>, <c>stateful</c> and an initial state are not supported.
/// </summary>
[KerasLayer("GRU"), Keras3OnlyArgument("seed", null), Keras3OnlyArgument("use_cudnn", "auto"), TfKeras2OnlyArgument("time_major", false), TfKeras2OnlyArgument("implementation", 2)]
public sealed class GRU : RecurrentLayer
{
    private LayerWeight? kernel;
    private LayerWeight? recurrentKernel;
    private LayerWeight? bias;

    /// <summary>Creates the layer.</summary>
    /// <param name="units">Size of the state; positive.</param>
    /// <param name="activation">Candidate activation (default <c>tanh</c>).</param>
    /// <param name="recurrentActivation">Gate activation (default <c>sigmoid</c>).</param>
    /// <param name="useBias">Whether to add biases (default true).</param>
    /// <param name="returnSequences">Return every step's output instead of the last.</param>
    /// <param name="returnState">Also return the last state.</param>
    /// <param name="goBackwards">Process the sequence last step first (Keras' <c>go_backwards</c>).</param>
    /// <param name="resetAfter">Apply the reset gate after the recurrent product (Keras 3's default true).</param>
    /// <param name="name">Layer name; defaults to <c>gru_N</c>.</param>
    public GRU(int units, string activation = "tanh", string recurrentActivation = "sigmoid", bool useBias = true, bool returnSequences = false,
        bool returnState = false, bool goBackwards = false, bool resetAfter = true, string? name = null)
        : base(nameof(GRU), units, activation, useBias, returnSequences, returnState, goBackwards, name)
    {
        RecurrentActivation = Activations.Validate(recurrentActivation, nameof(GRU), nameof(recurrentActivation));
        ResetAfter = resetAfter;
    }

    /// <summary>Gate activation.</summary>
    public string RecurrentActivation { get; }

    /// <summary>Whether the reset gate applies after the recurrent product (Keras' <c>reset_after</c>).</summary>
    public bool ResetAfter { get; }

    private protected override int StateCount => 1;

    private protected override int GateCount => 3;

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = RecurrentConfig(RecurrentActivation);
        config["reset_after"] = ResetAfter;
        config["seed"] = null;
        return config;
    }

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config (Keras 2.1's default is <c>reset_after=False</c>).</summary>
    internal static GRU FromConfig(LayerConfig config)
    {
        ReadRecurrentDefaults(config);
        return WithConfigOptions(new GRU(config.GetInt("units"), config.GetActivation("activation", "tanh"), config.GetActivation("recurrent_activation", "sigmoid"),
            config.GetBool("use_bias", true), config.GetBool("return_sequences", false), config.GetBool("return_state", false),
            config.GetBool("go_backwards", false), config.GetBool("reset_after", true), config.Name), config);
    }

    /// <inheritdoc/>
    protected override IEnumerable<(string Name, long[] Shape)> PlannedWeights(KerasTensor input)
    {
        yield return ("kernel", new long[] { input.Shape.Last!.Value, 3L * Units });
        yield return ("recurrent_kernel", new long[] { Units, 3L * Units });
        if (UseBias)
        {
            yield return ("bias", ResetAfter ? new long[] { 2, 3L * Units } : new long[] { 3L * Units });
        }
    }

    /// <inheritdoc/>
    protected override void Build(KerasTensor input)
    {
        InputDim = input.Shape.Last!.Value;
        var gates = 3 * Units;
        kernel = AddWeight("kernel", new[] { InputDim, gates }, Initializers.GlorotUniform(new long[] { InputDim, gates }, InputDim, gates, Random));
        recurrentKernel = AddWeight("recurrent_kernel", new[] { Units, gates }, Initializers.Orthogonal(Units, gates, Random));
        if (UseBias)
        {
            bias = AddWeight("bias", ResetAfter ? new[] { 2, gates } : new[] { gates }, ResetAfter ? zeros(2, gates) : zeros(gates));
        }
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<Tensor> Call(IReadOnlyList<Tensor> inputs, bool training, IReadOnlyList<Tensor?> masks)
    {
        var (input, mask, stateKeep) = PrepareSequence(inputs[0], masks[0], training);
        var (batch, steps) = (input.shape[0], input.shape[1]);
        var u = Units;
        var projected = input.matmul(kernel!.Variable);
        Tensor? recurrentBias = null;
        if (bias is not null)
        {
            projected = projected + (ResetAfter ? bias.Variable[0] : bias.Variable);
            recurrentBias = ResetAfter ? bias.Variable[1] : null;
        }

        var recurrent = recurrentKernel!.Variable;
        var h = zeros(batch, u, dtype: input.dtype, device: input.device);
        var outputs = new Tensor[steps];
        for (long t = 0; t < steps; t++)
        {
            var x = projected.select(1, t);
            // Recurrent dropout drops the state in the recurrent products; the update mixes the state itself.
            var dropped = stateKeep is null ? h : h * stateKeep;
            Tensor z, r, candidate;
            if (ResetAfter)
            {
                var inner = dropped.matmul(recurrent);
                if (recurrentBias is not null)
                {
                    inner = inner + recurrentBias;
                }

                z = Activations.Apply(RecurrentActivation, x.narrow(1, 0, u) + inner.narrow(1, 0, u));
                r = Activations.Apply(RecurrentActivation, x.narrow(1, u, u) + inner.narrow(1, u, u));
                candidate = Activations.Apply(Activation, x.narrow(1, 2 * u, u) + (r * inner.narrow(1, 2 * u, u)));
            }
            else
            {
                var gates = dropped.matmul(recurrent.narrow(1, 0, 2 * u));
                z = Activations.Apply(RecurrentActivation, x.narrow(1, 0, u) + gates.narrow(1, 0, u));
                r = Activations.Apply(RecurrentActivation, x.narrow(1, u, u) + gates.narrow(1, u, u));
                candidate = Activations.Apply(Activation, x.narrow(1, 2 * u, u) + (r * dropped).matmul(recurrent.narrow(1, 2 * u, u)));
            }

            var next = (z * h) + ((1 - z) * candidate);
            if (mask is null)
            {
                h = next;
                outputs[t] = h;
                continue;
            }

            var real = mask.select(1, t).unsqueeze(1);
            h = where(real, next, h);
            outputs[t] = MaskedOutput(next, real, outputs, t);
        }

        var output = ReturnSequences ? Sequence(outputs, input) : LastOutput(outputs, mask, h);
        return ReturnState ? new[] { output, h } : new[] { output };
    }

    /// <summary>
    /// ONNX's GRU: the gate order (z, r, h) is Keras'; with <see cref="ResetAfter"/> the two bias rows are Wb and Rb and
    /// <c>linear_before_reset</c> is 1, without it the one bias is Wb.
    /// </summary>
    private protected override (string Op, string W, string R, string? B, string[] Activations, AttributeProto[] Attributes)? OnnxOperator(OnnxGraph graph)
    {
        if (OnnxRecurrentActivation(RecurrentActivation) is not { } gate || OnnxRecurrentActivation(Activation) is not { } act)
        {
            return null;
        }

        var order = new long[] { 0, 1, 2 };
        var b = bias is null ? null : graph.Weight(bias, "onnx", t => (ResetAfter ? t.reshape(-1) : cat(new[] { t, zeros(3L * Units) })).unsqueeze(0));
        return ("GRU", graph.Weight(kernel!, "onnx", t => OnnxGates(t, order)), graph.Weight(recurrentKernel!, "onnx", t => OnnxGates(t, order)), b,
            new[] { gate, act }, new[] { OnnxGraph.Attr("linear_before_reset", ResetAfter ? 1L : 0L) });
    }

    /// <summary>One GRU step as Keras computes it, with the reset gate after (resetAfter) or before the recurrent product.</summary>
    private protected override string[] OnnxStep(OnnxGraph body, string x, string[] states)
    {
        var h = states[0];
        var split = body.Int64s(Units, Units, Units);
        var inputBias = bias is null ? null : ResetAfter ? body.Weight(bias, "input", t => t[0]) : body.Weight(bias);
        var xs = body.AddMulti("Split", Name, new[] { body.Affine(x, body.Weight(kernel!), inputBias, Name), split }, 3, OnnxGraph.Attr("axis", 1L));
        string z, r, candidate;
        if (ResetAfter)
        {
            var hs = body.AddMulti("Split", Name, new[] { body.Affine(h, body.Weight(recurrentKernel!), bias is null ? null : body.Weight(bias, "recurrent", t => t[1]), Name), split }, 3, OnnxGraph.Attr("axis", 1L));
            z = body.Activation(body.Add("Add", Name, new[] { xs[0], hs[0] }), RecurrentActivation, Name);
            r = body.Activation(body.Add("Add", Name, new[] { xs[1], hs[1] }), RecurrentActivation, Name);
            candidate = body.Add("Add", Name, new[] { xs[2], body.Add("Mul", Name, new[] { r, hs[2] }) });
        }
        else
        {
            var gatesKernel = body.Weight(recurrentKernel!, "zr", t => t.narrow(1, 0, 2L * Units));
            var hs = body.AddMulti("Split", Name, new[] { body.Add("MatMul", Name, new[] { h, gatesKernel }), body.Int64s(Units, Units) }, 2, OnnxGraph.Attr("axis", 1L));
            z = body.Activation(body.Add("Add", Name, new[] { xs[0], hs[0] }), RecurrentActivation, Name);
            r = body.Activation(body.Add("Add", Name, new[] { xs[1], hs[1] }), RecurrentActivation, Name);
            var candidateKernel = body.Weight(recurrentKernel!, "h", t => t.narrow(1, 2L * Units, Units));
            candidate = body.Add("Add", Name, new[] { xs[2], body.Add("MatMul", Name, new[] { body.Add("Mul", Name, new[] { r, h }), candidateKernel }) });
        }

        var hh = body.Activation(candidate, Activation, Name);
        // h' = z h + (1 - z) hh
        var kept = body.Add("Mul", Name, new[] { z, h });
        var fresh = body.Add("Mul", Name, new[] { body.Add("Sub", Name, new[] { body.Scalar(1f), z }), hh });
        return new[] { body.Add("Add", Name, new[] { kept, fresh }) };
    }
}
