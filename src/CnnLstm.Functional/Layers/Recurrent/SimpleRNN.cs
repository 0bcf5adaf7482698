using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// A fully-connected recurrent layer, as Keras' <c>keras.layers.SimpleRNN</c> (keras/src/layers/rnn/simple_rnn.py):
/// at each step h = activation(x · kernel + bias + h_prev · recurrent_kernel). Input (batch, steps, features);
/// output (batch, units), or (batch, steps, units) with <c>returnSequences</c>; with <c>returnState</c> also the last
/// state (batch, units). Weights in Keras order and layout: kernel (features, units), recurrent_kernel (units, units),
/// bias (units); glorot-uniform, orthogonal and zeros. Masked steps keep the state and repeat the previous output, as
/// Keras' rnn does. <c>dropout</c>, <c>stateful</c> and an initial state are not supported.
/// </summary>
public sealed class SimpleRNN : Layer
{
    private LayerWeight? kernel;
    private LayerWeight? recurrentKernel;
    private LayerWeight? bias;
    private int inputDim;

    /// <summary>Creates the layer.</summary>
    /// <param name="units">Size of the state; positive.</param>
    /// <param name="activation">Keras activation name (default <c>tanh</c>).</param>
    /// <param name="useBias">Whether to add a bias (default true).</param>
    /// <param name="returnSequences">Return every step's output instead of the last.</param>
    /// <param name="returnState">Also return the last state.</param>
    /// <param name="name">Layer name; defaults to <c>simple_rnn_N</c>.</param>
    /// <param name="goBackwards">Process the sequence last step first (Keras' <c>go_backwards</c>).</param>
    public SimpleRNN(int units, string activation = "tanh", bool useBias = true, bool returnSequences = false, bool returnState = false, string? name = null, bool goBackwards = false)
        : base(name)
    {
        GoBackwards = goBackwards;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(units);
        Units = units;
        Activation = Activations.Validate(activation, nameof(SimpleRNN), nameof(activation));
        UseBias = useBias;
        ReturnSequences = returnSequences;
        ReturnState = returnState;
    }

    /// <summary>Size of the state.</summary>
    public int Units { get; }

    /// <summary>The activation.</summary>
    public string Activation { get; }

    /// <summary>Whether a bias is added.</summary>
    public bool UseBias { get; }

    /// <summary>Whether every step's output is returned.</summary>
    public bool ReturnSequences { get; }

    /// <summary>The input dropout rate (Keras' <c>dropout</c>, default 0): one mask per sequence while training.</summary>
    public double Dropout { get => dropout; init => dropout = RecurrentDropout.Check(value, GetType().Name, nameof(Dropout)); }

    /// <summary>The recurrent dropout rate (Keras' <c>recurrent_dropout</c>, default 0): one mask on the state per sequence while training.</summary>
    public double RecurrentDropoutRate { get => recurrentDropout; init => recurrentDropout = RecurrentDropout.Check(value, GetType().Name, "recurrentDropout"); }

    private readonly double dropout;
    private readonly double recurrentDropout;

    /// <summary>Whether masked steps output zeros instead of repeating the previous output (Keras' <c>zero_output_for_mask</c>).</summary>
    public bool ZeroOutputForMask { get; init; }

    /// <summary>Whether the sequence is processed last step first (Keras' <c>go_backwards</c>).</summary>
    public bool GoBackwards { get; }

    /// <summary>Whether the last state is returned too.</summary>
    public bool ReturnState { get; }

    /// <inheritdoc/>
    public override int OutputCount => ReturnState ? 2 : 1;

    internal override string KerasVarsPath => "cell/vars";

    /// <summary>Skips masked steps, as Keras' RNN does.</summary>
    internal override bool UsesMask => true;

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["return_sequences"] = ReturnSequences;
        config["return_state"] = ReturnState;
        config["go_backwards"] = GoBackwards;
        config["stateful"] = false;
        config["unroll"] = false;
        config["zero_output_for_mask"] = ZeroOutputForMask;
        config["units"] = Units;
        config["activation"] = Activation;
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

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config.</summary>
    internal static SimpleRNN FromConfig(LayerConfig config)
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
        config.Ignore("unroll", "seed");
        return new SimpleRNN(config.GetInt("units"), config.GetActivation("activation", "tanh"), config.GetBool("use_bias", true),
            config.GetBool("return_sequences", false), config.GetBool("return_state", false), config.Name, config.GetBool("go_backwards", false))
        {
            Dropout = config.GetDouble("dropout", 0),
            RecurrentDropoutRate = config.GetDouble("recurrent_dropout", 0),
            ZeroOutputForMask = config.GetBool("zero_output_for_mask", false),
        };
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        RequireRank(input, 3, "(batch, steps, features)");
        RequireFloat(input);
        var features = RequireKnownLast(input, "feature");
        if (Built && features != inputDim)
        {
            throw InputError($"the kernel is ({inputDim}, {Units}), built for {inputDim} features, but {input.Label} has shape {input.Shape} with {features} features.");
        }

        var state = (new Shape(null, Units), DType.Float32);
        var output = ReturnSequences ? (new Shape(null, input.Shape[1], Units), DType.Float32) : state;
        return ReturnState ? new[] { output, state } : new[] { output };
    }

    /// <inheritdoc/>
    protected override IEnumerable<(string Name, long[] Shape)> PlannedWeights(KerasTensor input)
    {
        yield return ("kernel", new long[] { input.Shape.Last!.Value, Units });
        yield return ("recurrent_kernel", new long[] { Units, Units });
        if (UseBias)
        {
            yield return ("bias", new long[] { Units });
        }
    }

    /// <inheritdoc/>
    protected override void Build(KerasTensor input)
    {
        inputDim = input.Shape.Last!.Value;
        kernel = AddWeight("kernel", new[] { inputDim, Units }, Initializers.GlorotUniform(new long[] { inputDim, Units }, inputDim, Units, Random));
        recurrentKernel = AddWeight("recurrent_kernel", new[] { Units, Units }, Initializers.Orthogonal(Units, Units, Random));
        if (UseBias)
        {
            bias = AddWeight("bias", new[] { Units }, zeros(Units));
        }
    }

    /// <inheritdoc/>
    protected internal override IReadOnlyList<Tensor> Forward(Tensor input, bool training) => Forward(new[] { input }, new Tensor?[1], training);

    internal override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?> masks, bool training)
    {
        var input = GoBackwards ? inputs[0].flip(1) : inputs[0];
        var mask = GoBackwards ? masks[0]?.flip(1) : masks[0];
        var (batch, steps) = (input.shape[0], input.shape[1]);
        if (steps > 0 && RecurrentDropout.Mask(input.select(1, 0), Dropout, training, Random) is { } keep)
        {
            input = input * keep.unsqueeze(1);
        }

        var stateKeep = steps > 0 ? RecurrentDropout.Mask(zeros(batch, Units, dtype: input.dtype), RecurrentDropoutRate, training, Random) : null;
        var projected = input.matmul(kernel!.Variable);
        if (bias is not null)
        {
            projected = projected + bias.Variable;
        }

        var h = zeros(batch, Units, dtype: input.dtype, device: input.device);
        var outputs = new Tensor[steps];
        for (long t = 0; t < steps; t++)
        {
            var next = Activations.Apply(Activation, projected.select(1, t) + (stateKeep is null ? h : h * stateKeep).matmul(recurrentKernel!.Variable));
            if (mask is null)
            {
                h = next;
                outputs[t] = h;
                continue;
            }

            var real = mask.select(1, t).unsqueeze(1);
            h = where(real, next, h);
            outputs[t] = where(real, next, t == 0 || ZeroOutputForMask ? zeros_like(next) : outputs[t - 1]);
        }

        var sequence = steps == 0 ? zeros(batch, 0, Units, dtype: input.dtype, device: input.device) : stack(outputs, 1);
        var output = ReturnSequences ? sequence : mask is not null && steps > 0 ? outputs[^1] : h;
        return ReturnState ? new[] { output, h } : new[] { output };
    }
}
