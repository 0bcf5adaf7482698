using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx.Proto;
using KerasStyle.Saving.Onnx;
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
[KerasLayer("SimpleRNN"), Keras3OnlyArgument("seed", null), TfKeras2OnlyArgument("time_major", false)]
public sealed class SimpleRNN : RecurrentLayer
{
    private LayerWeight? kernel;
    private LayerWeight? recurrentKernel;
    private LayerWeight? bias;

    /// <summary>Creates the layer.</summary>
    /// <param name="units">Size of the state; positive.</param>
    /// <param name="activation">Keras activation name (default <c>tanh</c>).</param>
    /// <param name="useBias">Whether to add a bias (default true).</param>
    /// <param name="returnSequences">Return every step's output instead of the last.</param>
    /// <param name="returnState">Also return the last state.</param>
    /// <param name="name">Layer name; defaults to <c>simple_rnn_N</c>.</param>
    /// <param name="goBackwards">Process the sequence last step first (Keras' <c>go_backwards</c>).</param>
    public SimpleRNN(int units, string activation = "tanh", bool useBias = true, bool returnSequences = false, bool returnState = false, string? name = null, bool goBackwards = false)
        : base(nameof(SimpleRNN), units, activation, useBias, returnSequences, returnState, goBackwards, name)
    {
    }

    private protected override int StateCount => 1;

    private protected override int GateCount => 1;

    /// <inheritdoc/>
    public override JsonObject GetConfig() => RecurrentConfig(recurrentActivation: null);

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config.</summary>
    internal static SimpleRNN FromConfig(LayerConfig config)
    {
        ReadRecurrentDefaults(config);
        return WithConfigOptions(new SimpleRNN(config.GetInt("units"), config.GetActivation("activation", "tanh"), config.GetBool("use_bias", true),
            config.GetBool("return_sequences", false), config.GetBool("return_state", false), config.Name, config.GetBool("go_backwards", false)), config);
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
        InputDim = input.Shape.Last!.Value;
        kernel = AddWeight("kernel", new[] { InputDim, Units }, Initializers.GlorotUniform(new long[] { InputDim, Units }, InputDim, Units, Random));
        recurrentKernel = AddWeight("recurrent_kernel", new[] { Units, Units }, Initializers.Orthogonal(Units, Units, Random));
        if (UseBias)
        {
            bias = AddWeight("bias", new[] { Units }, zeros(Units));
        }
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<Tensor> Call(IReadOnlyList<Tensor> inputs, bool training, IReadOnlyList<Tensor?> masks)
    {
        var (input, mask, stateKeep) = PrepareSequence(inputs[0], masks[0], training);
        var (batch, steps) = (input.shape[0], input.shape[1]);
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
            outputs[t] = MaskedOutput(next, real, outputs, t);
        }

        var output = ReturnSequences ? Sequence(outputs, input) : LastOutput(outputs, mask, h);
        return ReturnState ? new[] { output, h } : new[] { output };
    }

    /// <summary>ONNX's RNN: Keras' one bias is Wb, with Rb zeros.</summary>
    private protected override (string Op, string W, string R, string? B, string[] Activations, AttributeProto[] Attributes)? OnnxOperator(OnnxGraph graph)
    {
        if (OnnxRecurrentActivation(Activation) is not { } act)
        {
            return null;
        }

        var b = bias is null ? null : graph.Weight(bias, "onnx", t => cat(new[] { t, zeros(Units) }).unsqueeze(0));
        return ("RNN", graph.Weight(kernel!, "onnx", t => OnnxGates(t, 0)), graph.Weight(recurrentKernel!, "onnx", t => OnnxGates(t, 0)), b,
            new[] { act }, Array.Empty<AttributeProto>());
    }

    /// <summary>One SimpleRNN step: h' = act(x W + b + h U).</summary>
    private protected override string[] OnnxStep(OnnxGraph body, string x, string[] states) =>
        new[] { body.Activation(body.Add("Add", Name, new[] { body.Affine(x, body.Weight(kernel!), bias is null ? null : body.Weight(bias), Name), body.Add("MatMul", Name, new[] { states[0], body.Weight(recurrentKernel!) }) }), Activation, Name) };
}
