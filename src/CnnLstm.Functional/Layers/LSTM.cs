using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx.Proto;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using TorchSharp;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Long short-term memory layer over (batch, steps, features), as Keras' <c>LSTM</c>.
/// Weights in Keras order and layout: kernel (in, 4u) glorot_uniform, recurrent_kernel (u, 4u) orthogonal,
/// bias (4u) zeros with the forget block set to 1 (unit_forget_bias); gate blocks i, f, c, o.
/// There is ONE bias vector: 4u(in + u) + 4u parameters.
/// </summary>
/// <remarks>
/// With activation tanh and recurrent activation sigmoid the engine runs TorchSharp's fused LSTM, whose second bias
/// is held at zero and is not a weight; other activations run a step-by-step cell with the same maths. The fused
/// kernel is used in each mode only after <see cref="KernelChecks"/> has found it right on this CPU; otherwise the
/// layer falls back to a checked path (issue 10: oneDNN's inference kernel is wrong on AMD Zen 5).
/// </remarks>
[KerasLayer("LSTM"), Keras3OnlyArgument("seed", null), Keras3OnlyArgument("use_cudnn", "auto"), TfKeras2OnlyArgument("time_major", false), TfKeras2OnlyArgument("implementation", 2)]
public sealed class LSTM : RecurrentLayer
{
    private LayerWeight? kernel;
    private LayerWeight? recurrentKernel;
    private LayerWeight? bias;
    private readonly object twinGate = new();
    private TorchSharp.Modules.LSTM? fused;
    private TorchSharp.Modules.LSTM? inferenceTwin;

    /// <summary>Creates an LSTM layer.</summary>
    /// <param name="units">Size of the hidden state; must be positive.</param>
    /// <param name="activation">Activation of the cell candidate and output (Keras default <c>tanh</c>).</param>
    /// <param name="recurrentActivation">Gate activation: <c>sigmoid</c> (tf.keras 2 and Keras 3 default) or
    /// <c>hard_sigmoid</c> (Keras 2.1 default), or any known activation.</param>
    /// <param name="useBias">Whether the gates have a bias.</param>
    /// <param name="returnSequences">True to return the output at every step (batch, steps, units), false for the
    /// last step only (batch, units).</param>
    /// <param name="returnState">True to also return the last hidden and cell states (use <see cref="Layer.CallMulti(KerasTensor)"/>).</param>
    /// <param name="unitForgetBias">Whether the forget-gate bias starts at 1.</param>
    /// <param name="name">Layer name; defaults to <c>lstm_N</c>.</param>
    /// <param name="goBackwards">Process the sequence last step first (Keras' <c>go_backwards</c>, default false).</param>
    public LSTM(int units, string activation = "tanh", string recurrentActivation = "sigmoid", bool useBias = true,
        bool returnSequences = false, bool returnState = false, bool unitForgetBias = true, string? name = null, bool goBackwards = false)
        : base(nameof(LSTM), units, activation, useBias, returnSequences, returnState, goBackwards, name)
    {
        RecurrentActivation = Activations.Validate(recurrentActivation, nameof(LSTM), nameof(recurrentActivation));
        UnitForgetBias = unitForgetBias;
    }

    /// <summary>Gate activation.</summary>
    public string RecurrentActivation { get; }

    /// <summary>Whether the forget-gate bias starts at 1.</summary>
    public bool UnitForgetBias { get; }

    private protected override int StateCount => 2;

    private protected override int GateCount => 4;

    private bool UsesFusedKernel => Activation == "tanh" && RecurrentActivation == "sigmoid";

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = RecurrentConfig(RecurrentActivation);
        config["unit_forget_bias"] = UnitForgetBias;
        config["seed"] = null;
        return config;
    }

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config.</summary>
    internal static LSTM FromConfig(LayerConfig config)
    {
        ReadRecurrentDefaults(config);
        return WithConfigOptions(new LSTM(config.GetInt("units"), config.GetActivation("activation", "tanh"),
            config.GetActivation("recurrent_activation", "sigmoid"), config.GetBool("use_bias", true),
            config.GetBool("return_sequences", false), config.GetBool("return_state", false),
            config.GetBool("unit_forget_bias", true), config.Name, config.GetBool("go_backwards", false)), config);
    }

    /// <inheritdoc/>
    protected override IEnumerable<(string Name, long[] Shape)> PlannedWeights(KerasTensor input)
    {
        yield return ("kernel", new long[] { input.Shape.Last!.Value, 4L * Units });
        yield return ("recurrent_kernel", new long[] { Units, 4L * Units });
        if (UseBias)
        {
            yield return ("bias", new long[] { 4L * Units });
        }
    }

    /// <inheritdoc/>
    protected override void Build(KerasTensor input)
    {
        InputDim = input.Shape.Last!.Value;
        var gates = 4 * Units;
        using var kernelValue = Initializers.GlorotUniform(new long[] { InputDim, gates }, InputDim, gates, Random);
        using var recurrentValue = Initializers.Orthogonal(Units, gates, Random);
        using var biasValue = zeros(gates);
        if (UnitForgetBias)
        {
            biasValue[TensorIndex.Slice(Units, 2 * Units)] = ones(Units);
        }

        if (UsesFusedKernel)
        {
            fused = nn.LSTM(InputDim, Units, numLayers: 1, bias: true, batchFirst: true);
            var parameters = fused.named_parameters().ToDictionary(p => p.name, p => p.parameter);
            // The module owns its parameters (the build's dispose scope must not take them, bias_hh included).
            foreach (var parameter in parameters.Values)
            {
                parameter.DetachFromDisposeScope();
            }

            var biasHh = parameters["bias_hh_l0"];
            biasHh.requires_grad_(false);
            biasHh.zero_();
            if (!UseBias)
            {
                parameters["bias_ih_l0"].requires_grad_(false);
                parameters["bias_ih_l0"].zero_();
            }

            kernel = AddWeight("kernel", new[] { InputDim, gates }, parameters["weight_ih_l0"], kernelValue.t(), t => t.t());
            recurrentKernel = AddWeight("recurrent_kernel", new[] { Units, gates }, parameters["weight_hh_l0"], recurrentValue.t(), t => t.t());
            if (UseBias)
            {
                bias = AddWeight("bias", new[] { gates }, parameters["bias_ih_l0"], biasValue);
            }

            return;
        }

        kernel = AddWeight("kernel", new[] { InputDim, gates }, kernelValue.t().contiguous(), t => t.t());
        recurrentKernel = AddWeight("recurrent_kernel", new[] { Units, gates }, recurrentValue.t().contiguous(), t => t.t());
        if (UseBias)
        {
            bias = AddWeight("bias", new[] { gates }, biasValue.clone());
        }
    }

    /// <summary>
    /// Calls the layer on a sequence whose first state is given, as Keras' <c>LSTM(...)(x, initial_state=[h, c])</c>
    /// (the encoder-decoder pattern: an encoder's <c>returnState</c> outputs start a decoder). Returns the single
    /// output; use <see cref="CallMulti(KerasTensor, IReadOnlyList{KerasTensor})"/> with <c>returnState</c>.
    /// </summary>
    /// <param name="input">The sequence, (batch, steps, features).</param>
    /// <param name="initialState">The hidden state h and the cell state c, each (batch, units).</param>
    /// <exception cref="LayerInputException">Not two states of shape (batch, units) (the message names every shape).</exception>
    public KerasTensor Call(KerasTensor input, IReadOnlyList<KerasTensor> initialState)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(initialState);
        if (OutputCount != 1)
        {
            throw new InvalidOperationException($"LSTM '{Name}' returns {OutputCount} tensors for this call; use CallMulti to get all of them.");
        }

        return CallWithInitialState(input, initialState.ToArray())[0];
    }

    /// <summary>Calls the layer with an initial state and returns every output (output, h, c with <c>returnState</c>).</summary>
    /// <param name="input">The sequence, (batch, steps, features).</param>
    /// <param name="initialState">The hidden state h and the cell state c, each (batch, units).</param>
    public IReadOnlyList<KerasTensor> CallMulti(KerasTensor input, IReadOnlyList<KerasTensor> initialState)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(initialState);
        return CallWithInitialState(input, initialState.ToArray());
    }

    internal override bool TakesInitialState => true;

    private protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input, IReadOnlyList<KerasTensor> initialState)
    {
        if (initialState.Count != 2 || initialState.Any(s => s is null || s.Shape.Rank != 2 || s.Shape[1] != Units || s.DType != DType.Float32))
        {
            throw InputError($"an initial state is two float32 tensors h and c of shape (None, {Units}), but got {(initialState.Any(s => s is null) ? "a null state" : initialState.Count == 0 ? "none" : Describe(initialState))}.");
        }

        return ComputeOutputSpecs(input);
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<Tensor> Call(IReadOnlyList<Tensor> inputs, bool training, IReadOnlyList<Tensor?> masks)
    {
        var (input, mask, stateKeep) = PrepareSequence(inputs[0], masks[0], training);
        var state = inputs.Count == 3 ? (inputs[1], inputs[2]) : ((Tensor, Tensor)?)null;
        // libtorch's fused kernel has neither masks nor recurrent dropout (nor has Keras' torch backend): the step loop.
        var (sequence, h, c) = mask is not null || stateKeep is not null ? RunCell(input, state, mask, stateKeep)
            : fused is null ? RunCell(input, state) : RunFused(input, state);
        // With a mask the last output is the one of the last unmasked step (zeros if none), not always h.
        var output = ReturnSequences ? sequence : mask is not null && sequence.shape[1] > 0 ? sequence.select(1, -1) : h;
        return ReturnState ? new[] { output, h, c } : new[] { output };
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            fused?.Dispose();
            inferenceTwin?.Dispose();
        }
    }

    /// <summary>
    /// The fused kernel where its check passed for this mode (libtorch picks oneDNN's inference kernel with autograd
    /// off and its training kernel with autograd on), otherwise a checked alternative (see KernelChecks).
    /// </summary>
    private (Tensor Sequence, Tensor H, Tensor C) RunFused(Tensor input, (Tensor H, Tensor C)? state)
    {
        if (is_grad_enabled())
        {
            return FusedLstmKernel.Trusted(training: true, InputDim, Units) ? CallFused(fused!, input, state) : RunCell(input, state);
        }

        if (FusedLstmKernel.Trusted(training: false, InputDim, Units))
        {
            return CallFused(fused!, input, state);
        }

        if (!FusedLstmKernel.Trusted(training: true, InputDim, Units))
        {
            return RunCell(input, state);
        }

        // The training kernel is right where the inference kernel is not, and faster than the cell for small batches.
        // libtorch runs it whenever autograd is on; through the twin, whose weights do not require grad, nothing is
        // recorded, so the (possibly inference-mode) input needs no copy and the outputs no detaching.
        using var notInference = inference_mode(false);
        using var grad = enable_grad();
        return CallFused(InferenceTwin(), input, state);
    }

    /// <summary>A second nn.LSTM whose parameters share the fused module's storage but do not require grad.</summary>
    private TorchSharp.Modules.LSTM InferenceTwin()
    {
        lock (twinGate)
        {
            if (inferenceTwin is null)
            {
                // Its construction draws initial weights from the generator that Utils.SetRandomSeed fixed.
                using var rngState = get_rng_state();
                TorchSharp.Modules.LSTM twin;
                try
                {
                    twin = nn.LSTM(InputDim, Units, numLayers: 1, bias: true, batchFirst: true);
                }
                finally
                {
                    set_rng_state(rngState);
                }

                var source = fused!.named_parameters().ToDictionary(p => p.name, p => p.parameter);
                using (no_grad())
                {
                    foreach (var (name, parameter) in twin.named_parameters())
                    {
                        // Owned by the twin, which lives as long as the layer, not by the batch's dispose scope.
                        parameter.DetachFromDisposeScope();
                        parameter.requires_grad_(false).set_(source[name]);
                    }
                }

                inferenceTwin = twin;
            }

            return inferenceTwin;
        }
    }

    private static (Tensor Sequence, Tensor H, Tensor C) CallFused(TorchSharp.Modules.LSTM module, Tensor input, (Tensor H, Tensor C)? state)
    {
        var (sequence, h, c) = state is { } s ? module.call(input, (s.H.unsqueeze(0), s.C.unsqueeze(0))) : module.call(input);
        return (sequence, h.squeeze(0), c.squeeze(0));
    }

    /// <summary>The LSTM step by step from elementary operations: any activations, and the checked fallback.</summary>
    /// <param name="input">The sequence.</param>
    /// <param name="state">The initial h and c, or zeros.</param>
    /// <param name="mask">(batch, steps), true for real steps: a masked step keeps h and c and repeats the previous
    /// output (zeros before the first real step), as Keras' rnn with <c>zero_output_for_mask=False</c>.</param>
    /// <param name="stateKeep">The recurrent dropout mask on h before the recurrent product, or null.</param>
    private (Tensor Sequence, Tensor H, Tensor C) RunCell(Tensor input, (Tensor H, Tensor C)? state = null, Tensor? mask = null, Tensor? stateKeep = null)
    {
        var batch = input.shape[0];
        var steps = input.shape[1];
        // Project every step's input at once; only the recurrent product stays in the loop.
        var projected = nn.functional.linear(input, kernel!.Variable, bias?.Variable);
        var recurrent = recurrentKernel!.Variable.t();
        var h = state?.H ?? zeros(batch, Units, dtype: input.dtype, device: input.device);
        var c = state?.C ?? zeros(batch, Units, dtype: input.dtype, device: input.device);
        var outputs = new Tensor[steps];
        for (long t = 0; t < steps; t++)
        {
            var z = addmm(projected.select(1, t), stateKeep is null ? h : h * stateKeep, recurrent, 1, 1);
            // One activation call over all four blocks (the candidate's block is recomputed with its own activation);
            // softmax and log_softmax are not element-wise: each gate on its own, as Keras' per-gate calls do.
            var gates = !Activations.IsElementwise(RecurrentActivation)
                ? cat(Enumerable.Range(0, 4).Select(g => Activations.Apply(RecurrentActivation, z.narrow(1, g * Units, Units))).ToArray(), 1)
                : Activations.Apply(RecurrentActivation, z);
            var candidate = Activations.Apply(Activation, z.narrow(1, 2 * Units, Units));
            var newC = addcmul(gates.narrow(1, Units, Units) * c, gates.narrow(1, 0, Units), candidate, 1);
            var newH = gates.narrow(1, 3 * Units, Units) * Activations.Apply(Activation, newC);
            if (mask is null)
            {
                (h, c) = (newH, newC);
                outputs[t] = h;
                continue;
            }

            var real = mask.select(1, t).unsqueeze(1);
            (h, c) = (where(real, newH, h), where(real, newC, c));
            outputs[t] = MaskedOutput(newH, real, outputs, t);
        }

        return (steps == 0 ? zeros(batch, 0, Units, dtype: input.dtype, device: input.device) : stack(outputs, 1), h, c);
    }

    /// <summary>ONNX's LSTM: gates reordered from Keras' (i, f, c, o) to ONNX's (i, o, f, c); Keras' one bias is ONNX's Wb, with Rb zeros.</summary>
    private protected override (string Op, string W, string R, string? B, string[] Activations, AttributeProto[] Attributes)? OnnxOperator(OnnxGraph graph)
    {
        if (OnnxRecurrentActivation(RecurrentActivation) is not { } gate || OnnxRecurrentActivation(Activation) is not { } act)
        {
            return null;
        }

        var order = new long[] { 0, 3, 1, 2 };
        var b = bias is null ? null : graph.Weight(bias, "onnx", t => cat(new[] { OnnxGates(t.unsqueeze(0), order).reshape(-1), zeros(4L * Units) }).unsqueeze(0));
        return ("LSTM", graph.Weight(kernel!, "onnx", t => OnnxGates(t, order)), graph.Weight(recurrentKernel!, "onnx", t => OnnxGates(t, order)), b,
            new[] { gate, act, act }, Array.Empty<AttributeProto>());
    }

    /// <summary>One LSTM step: z = x W + h U + b split as (i, f, c, o); c' = f c + i act(z_c); h' = o act(c').</summary>
    private protected override string[] OnnxStep(OnnxGraph body, string x, string[] states)
    {
        var z = body.Add("Add", Name, new[] { body.Affine(x, body.Weight(kernel!), bias is null ? null : body.Weight(bias), Name), body.Add("MatMul", Name, new[] { states[0], body.Weight(recurrentKernel!) }) });
        var gates = body.AddMulti("Split", Name, new[] { z, body.Int64s(Units, Units, Units, Units) }, 4, OnnxGraph.Attr("axis", 1L));
        var (i, f, o) = (body.Activation(gates[0], RecurrentActivation, Name), body.Activation(gates[1], RecurrentActivation, Name), body.Activation(gates[3], RecurrentActivation, Name));
        var c = body.Add("Add", Name, new[] { body.Add("Mul", Name, new[] { f, states[1] }), body.Add("Mul", Name, new[] { i, body.Activation(gates[2], Activation, Name) }) });
        return new[] { body.Add("Mul", Name, new[] { o, body.Activation(c, Activation, Name) }), c };
    }
}
