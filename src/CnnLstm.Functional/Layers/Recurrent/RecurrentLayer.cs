using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx.Proto;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// What Keras' recurrent layers share (keras/src/layers/rnn/rnn.py and the cells): units and activation, the
/// returned outputs and states, <c>go_backwards</c>, masks (a masked step keeps the state and repeats the previous
/// output, or outputs zeros with <c>zeroOutputForMask</c>), recurrent dropout (see <see cref="RecurrentDropout"/>),
/// the weights under <c>cell/vars</c>, and the arguments every RNN config carries. Base of <see cref="LSTM"/>,
/// <see cref="GRU"/> and <see cref="SimpleRNN"/>.
/// </summary>
public abstract class RecurrentLayer : Layer
{
    private double dropout;
    private double recurrentDropout;
    private bool zeroOutputForMask;

    private protected RecurrentLayer(string layerClass, int units, string activation, bool useBias, bool returnSequences, bool returnState, bool goBackwards, string? name)
        : base(name)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(units);
        Units = units;
        Activation = Activations.Validate(activation, layerClass, nameof(activation));
        UseBias = useBias;
        ReturnSequences = returnSequences;
        ReturnState = returnState;
        GoBackwards = goBackwards;
    }

    /// <summary>Size of the state.</summary>
    public int Units { get; }

    /// <summary>The activation of the candidate (and output).</summary>
    public string Activation { get; }

    /// <summary>Whether biases are added.</summary>
    public bool UseBias { get; }

    /// <summary>Whether every step's output is returned.</summary>
    public bool ReturnSequences { get; }

    /// <summary>Whether the last states are returned too.</summary>
    public bool ReturnState { get; }

    /// <summary>
    /// Whether the sequence is processed last step first (Keras' <c>go_backwards</c>); with <c>returnSequences</c> the
    /// outputs come in that processing order, as in Keras.
    /// </summary>
    public bool GoBackwards { get; }

    /// <summary>
    /// Whether masked steps output zeros instead of repeating the previous output (Keras' <c>zero_output_for_mask</c>,
    /// default false; <see cref="Bidirectional"/> sets it on its copies when they return sequences, as Keras does).
    /// </summary>
    public bool ZeroOutputForMask { get => zeroOutputForMask; init => zeroOutputForMask = value; }

    /// <summary>The input dropout rate (Keras' <c>dropout</c>, default 0): one mask per sequence while training.</summary>
    public double Dropout { get => dropout; init => dropout = RecurrentDropout.Check(value, GetType().Name, nameof(Dropout)); }

    /// <summary>The recurrent dropout rate (Keras' <c>recurrent_dropout</c>, default 0): one mask on the state per sequence while training.</summary>
    public double RecurrentDropoutRate { get => recurrentDropout; init => recurrentDropout = RecurrentDropout.Check(value, GetType().Name, "recurrentDropout"); }

    /// <inheritdoc/>
    public override int OutputCount => ReturnState ? 1 + StateCount : 1;

    internal override string KerasVarsPath => "cell/vars";

    /// <summary>Skips masked steps, as Keras' RNN does with the mask of its input.</summary>
    internal override bool UsesMask => true;

    /// <summary>The number of states (LSTM: h and c; GRU and SimpleRNN: h).</summary>
    private protected abstract int StateCount { get; }

    /// <summary>Kernel columns per unit (LSTM 4, GRU 3, SimpleRNN 1), for messages.</summary>
    private protected abstract int GateCount { get; }

    /// <summary>The feature count the layer was built for.</summary>
    private protected int InputDim { get; set; }

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        RequireRank(input, 3, "(batch, steps, features)");
        RequireFloat(input);
        var features = RequireKnownLast(input, "feature");
        if (Built && features != InputDim)
        {
            throw InputError($"the kernel is ({InputDim}, {GateCount * Units}), built for {InputDim} features, but {input.Label} has shape {input.Shape} with {features} features.");
        }

        var state = (new Shape(null, Units), DType.Float32);
        var output = ReturnSequences ? (new Shape(null, input.Shape[1], Units), DType.Float32) : state;
        return ReturnState ? new[] { output }.Concat(Enumerable.Repeat(state, StateCount)).ToArray() : new[] { output };
    }

    /// <summary>
    /// The config with the arguments every Keras RNN writes (the layer adds its own: <c>unit_forget_bias</c>,
    /// <c>reset_after</c>, <c>seed</c>).
    /// </summary>
    /// <param name="recurrentActivation">The gate activation, for layers that have gates.</param>
    private protected JsonObject RecurrentConfig(string? recurrentActivation)
    {
        var config = base.GetConfig();
        config["return_sequences"] = ReturnSequences;
        config["return_state"] = ReturnState;
        config["go_backwards"] = GoBackwards;
        config["stateful"] = false;
        config["unroll"] = false;
        config["zero_output_for_mask"] = ZeroOutputForMask;
        config["units"] = Units;
        config["activation"] = Activations.Serialize(Activation);
        if (recurrentActivation is not null)
        {
            config["recurrent_activation"] = Activations.Serialize(recurrentActivation);
        }

        config["use_bias"] = UseBias;
        config["kernel_initializer"] = GlorotUniformConfig();
        config["recurrent_initializer"] = KerasInitializer("Orthogonal", new JsonObject { ["seed"] = null, ["gain"] = 1.0 });
        config["bias_initializer"] = KerasInitializer("Zeros", new JsonObject());
        foreach (var key in new[] { "kernel_regularizer", "recurrent_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint", "recurrent_constraint", "bias_constraint" })
        {
            config[key] = null;
        }

        config["dropout"] = Dropout;
        config["recurrent_dropout"] = RecurrentDropoutRate;
        return config;
    }

    /// <summary>Checks the arguments every RNN config carries that must hold Keras' defaults here, and skips those without effect.</summary>
    private protected static void ReadRecurrentDefaults(LayerConfig config)
    {
        config.ReadInitializer("kernel_initializer", "glorot_uniform");
        config.ReadInitializer("recurrent_initializer", "orthogonal");
        config.ReadInitializer("bias_initializer", "zeros");
        foreach (var key in new[] { "kernel_regularizer", "recurrent_regularizer", "bias_regularizer", "kernel_constraint", "recurrent_constraint", "bias_constraint" })
        {
            config.RequireDefault(key, null);
        }

        config.RequireDefault("stateful", false);
        config.RequireDefault("time_major", false);
        // No effect on the maths here: loop unrolling, kernel choice and dropout seeds.
        config.Ignore("unroll", "implementation", "use_cudnn", "seed");
    }

    /// <summary>Sets the options a config gives after construction: zero_output_for_mask, dropout, recurrent_dropout.</summary>
    private protected static TLayer WithConfigOptions<TLayer>(TLayer layer, LayerConfig config)
        where TLayer : RecurrentLayer
    {
        layer.zeroOutputForMask = config.GetBool("zero_output_for_mask", false);
        layer.dropout = RecurrentDropout.Check(config.GetDouble("dropout", 0), layer.ClassName, "dropout");
        layer.recurrentDropout = RecurrentDropout.Check(config.GetDouble("recurrent_dropout", 0), layer.ClassName, "recurrent_dropout");
        return layer;
    }

    /// <summary>
    /// The sequence as the step loop takes it: reversed for <see cref="GoBackwards"/> (with its mask), the input
    /// dropout applied while training, and the recurrent dropout mask for the state (or null).
    /// </summary>
    private protected (Tensor Input, Tensor? Mask, Tensor? StateKeep) PrepareSequence(Tensor sequence, Tensor? mask, bool training)
    {
        var input = GoBackwards ? sequence.flip(1) : sequence;
        mask = GoBackwards ? mask?.flip(1) : mask;
        if (input.shape[1] == 0)
        {
            return (input, mask, null);
        }

        if (RecurrentDropout.Mask(input.select(1, 0), Dropout, training, Random) is { } keep)
        {
            // The same input mask at every step: applied to the whole sequence at once.
            input = input * keep.unsqueeze(1);
        }

        return (input, mask, RecurrentDropout.Mask(zeros(input.shape[0], Units, dtype: input.dtype, device: input.device), RecurrentDropoutRate, training, Random));
    }

    /// <summary>A step's output under the mask: the new output where the step is real, else the previous output (zeros at the first step) or zeros.</summary>
    private protected Tensor MaskedOutput(Tensor next, Tensor real, Tensor[] outputs, long t) =>
        where(real, next, t == 0 || ZeroOutputForMask ? zeros_like(next) : outputs[t - 1]);

    /// <summary>Every step's outputs stacked (batch, steps, units); an empty sequence gives (batch, 0, units).</summary>
    private protected Tensor Sequence(Tensor[] outputs, Tensor like) =>
        outputs.Length == 0 ? zeros(like.shape[0], 0, Units, dtype: like.dtype, device: like.device) : stack(outputs, 1);

    /// <summary>The last output: with a mask, that of the last step written (the last real step's, or zeros), else the state.</summary>
    private protected Tensor LastOutput(Tensor[] outputs, Tensor? mask, Tensor h) => mask is not null && outputs.Length > 0 ? outputs[^1] : h;

    /// <summary>
    /// ONNX: the layer's own operator (LSTM, GRU, RNN; <see cref="OnnxOperator"/>) when it computes what Keras does,
    /// that is without a mask and with activations the operator knows; otherwise a <c>Scan</c> whose body is one step
    /// of the cell (<see cref="OnnxStep"/>), which carries state and output across masked steps as <c>Predict</c>
    /// does. <see cref="GoBackwards"/> reverses the steps first (Slice), so outputs come in Keras' order.
    /// </summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call)
    {
        var (x, mask) = (call.Input.Name, call.Input.Mask);
        if (GoBackwards)
        {
            x = graph.ReverseSteps(x, Name);
            mask = mask is null ? null : graph.ReverseSteps(mask, Name);
        }

        var given = call.States.Select(s => s.Name).ToArray();
        var native = mask is null ? OnnxOperator(graph) : null;
        var (sequence, last, states) = native is { } op ? OnnxNative(graph, x, given, op) : OnnxScan(graph, x, mask, given, call.Input.Name);
        var outputs = new List<string> { ReturnSequences ? sequence() : last };
        if (ReturnState)
        {
            outputs.AddRange(states);
        }

        return outputs;
    }

    /// <summary>
    /// The ONNX recurrent operator with Keras' weights in its layout (W, R, B, ONNX gate order), its activations and
    /// extra attributes; null when the layer's activations are not among the operator's.
    /// </summary>
    private protected abstract (string Op, string W, string R, string? B, string[] Activations, AttributeProto[] Attributes)? OnnxOperator(OnnxGraph graph);

    /// <summary>One step of the cell in a Scan body: the new states (h first) from the step's input and the previous states.</summary>
    private protected abstract string[] OnnxStep(OnnxGraph body, string x, string[] states);

    /// <summary>The ONNX activation names the recurrent operators take, for the Keras activations they compute alike.</summary>
    private protected static string? OnnxRecurrentActivation(string keras) => keras switch
    {
        "sigmoid" => "Sigmoid",
        "tanh" => "Tanh",
        "relu" => "Relu",
        // The operators' HardSigmoid defaults (alpha 0.2, beta 0.5) are Keras 2's; Keras 3's runs in the Scan form.
        Activations.Keras2HardSigmoid => "HardSigmoid",
        "elu" => "Elu",
        "softsign" => "Softsign",
        "softplus" => "Softplus",
        _ => null,
    };

    /// <summary>Kernel columns reordered as blocks of <see cref="Units"/> (Keras' gate order to ONNX's), transposed to (gates × units, features), with ONNX's direction axis.</summary>
    private protected Tensor OnnxGates(Tensor kerasKernel, params long[] order) =>
        cat(order.Select(g => kerasKernel.narrow(1, g * Units, Units)).ToArray(), 1).t().unsqueeze(0);

    private (Func<string> Sequence, string Last, string[] States) OnnxNative(OnnxGraph graph, string x,
        string[] given, (string Op, string W, string R, string? B, string[] Activations, AttributeProto[] Attributes) op)
    {
        var inputs = new List<string> { graph.Transpose(x, Name, 1, 0, 2), op.W, op.R, op.B ?? string.Empty, string.Empty };
        inputs.AddRange(given.Select(s => graph.Unsqueeze(s, Name, 0)));
        var attributes = new[] { OnnxGraph.Attr("hidden_size", (long)Units), OnnxGraph.Strings("activations", op.Activations) }.Concat(op.Attributes).ToArray();
        var outputs = graph.AddMulti(op.Op, Name, inputs, 1 + StateCount, attributes);
        var states = outputs.Skip(1).Select(s => graph.Squeeze(s, Name, 0)).ToArray();
        return (() => graph.Transpose(graph.Squeeze(outputs[0], Name, 1), Name, 1, 0, 2), states[0], states);
    }

    private (Func<string> Sequence, string Last, string[] States) OnnxScan(OnnxGraph graph, string x, string? mask, string[] given, string original)
    {
        var body = graph.Subgraph($"{Name}_step");
        var previous = Enumerable.Range(0, StateCount).Select(i => body.Unique($"{Name}/step/state{i}")).ToArray();
        var previousOutput = mask is null ? null : body.Unique($"{Name}/step/output");
        var step = body.Unique($"{Name}/step/x");
        var stepMask = mask is null ? null : body.Unique($"{Name}/step/mask");
        foreach (var name in previous.Append(previousOutput).Append(step).OfType<string>())
        {
            body.DeclareOpen(name, OnnxGraph.Float, 2, input: true);
        }

        if (stepMask is not null)
        {
            body.DeclareOpen(stepMask, OnnxGraph.Bool, 1, input: true);
        }

        var next = OnnxStep(body, step, previous);
        var carried = next;
        var output = next[0];
        if (stepMask is not null)
        {
            // As the step loop: a masked step keeps the states, and outputs the previous output (zeros at first) or zeros.
            var real = body.Unsqueeze(stepMask, Name, 1);
            carried = next.Select((s, i) => body.Add("Where", Name, new[] { real, s, previous[i] })).ToArray();
            output = body.Add("Where", Name, new[] { real, next[0], ZeroOutputForMask ? body.Scalar(0f) : previousOutput! });
            carried = carried.Append(output).ToArray();
        }

        var emitted = body.Add("Identity", Name, new[] { output });
        foreach (var name in carried.Append(emitted))
        {
            body.DeclareOpen(name, OnnxGraph.Float, 2, input: false);
        }

        var initial = given.Length > 0 ? given : Enumerable.Repeat(graph.ZerosState(original, Units, Name), StateCount).ToArray();
        var inputs = initial.ToList();
        if (mask is not null)
        {
            inputs.Add(graph.ZerosState(original, Units, Name));
        }

        inputs.Add(x);
        var scanned = mask is null ? 1 : 2;
        if (mask is not null)
        {
            inputs.Add(mask);
        }

        var outputs = graph.AddMulti("Scan", Name, inputs, carried.Length + 1, OnnxGraph.Attr("body", body.Proto), OnnxGraph.Attr("num_scan_inputs", (long)scanned),
            OnnxGraph.Ints("scan_input_axes", Enumerable.Repeat(1L, scanned).ToArray()), OnnxGraph.Ints("scan_output_axes", 1L));
        var states = outputs.Take(StateCount).ToArray();
        return (() => outputs[^1], mask is null ? states[0] : outputs[StateCount], states);
    }
}
