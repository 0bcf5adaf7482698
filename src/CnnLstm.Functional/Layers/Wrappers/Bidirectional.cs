using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Runs a recurrent layer over the sequence in both directions, as Keras' <c>keras.layers.Bidirectional</c>
/// (keras/src/layers/rnn/bidirectional.py): a forward copy (<c>forward_&lt;name&gt;</c>) and a backward copy
/// (<c>backward_&lt;name&gt;</c>, <c>go_backwards</c>) of the layer, made from its config, with their own weights;
/// their outputs merged by <c>mergeMode</c>: <c>concat</c> (default, units × 2), <c>sum</c>, <c>mul</c>, <c>ave</c>,
/// or <c>null</c> (both outputs). With <c>returnSequences</c> the backward outputs are reversed back to step order.
/// With <c>returnState</c> the states follow: forward h, c, then backward h, c. Masks reach both copies. Weights:
/// forward then backward, each in the layer's order. Initial states (<see cref="Call(KerasTensor, IReadOnlyList{KerasTensor})"/>,
/// Keras' <c>initial_state</c>) are the forward layer's then the backward layer's; a stateful layer
/// (<see cref="Stateful"/>) makes both copies stateful. A ConvLSTM (<see cref="ConvLSTM2D"/> and the others) is
/// wrapped as Keras wraps it: its sequences are turned back along the steps axis and <c>concat</c> joins the last axis.
/// </summary>
[KerasLayer("Bidirectional")]
public sealed class Bidirectional : Layer
{
    private static readonly string?[] MergeModes = { "concat", "sum", "mul", "ave", null };
    private Shape? innerInput;

    /// <summary>Wraps a recurrent layer.</summary>
    /// <param name="layer">A recurrent layer: an <see cref="RNN"/> (<see cref="LSTM"/>, <see cref="GRU"/>, <see cref="SimpleRNN"/>,
    /// <c>RNN(cell)</c>); copied from its config, not used itself.</param>
    /// <param name="mergeMode"><c>concat</c> (default), <c>sum</c>, <c>mul</c>, <c>ave</c>, or null for both outputs.</param>
    /// <param name="name">Layer name; defaults to <c>bidirectional_N</c>.</param>
    /// <exception cref="ArgumentException">Another merge mode, or a layer that is not recurrent.</exception>
    public Bidirectional(Layer layer, string? mergeMode = "concat", string? name = null)
        : this(layer, mergeMode, name, backward: null)
    {
    }

    private Bidirectional(Layer layer, string? mergeMode, string? name, Layer? backward)
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(layer);
        if (!MergeModes.Contains(mergeMode))
        {
            throw new ArgumentException($"Bidirectional: mergeMode must be concat, sum, mul, ave or null, got '{mergeMode}'.", nameof(mergeMode));
        }

        if (layer is not RNN)
        {
            throw new ArgumentException($"Bidirectional: wraps a recurrent layer (an RNN: LSTM, GRU, SimpleRNN, RNN(cell)), got {layer.ClassName} '{layer.Name}'.", nameof(layer));
        }

        MergeMode = mergeMode;
        // The copies below are read from the layer's config, which for a cuDNN layer is an LSTM/GRU config: ask the
        // layer itself now whether it takes a masked input, and keep its answer.
        try
        {
            layer.OutputMasks(new[] { true });
        }
        catch (ArgumentException refusal)
        {
            maskRefusal = refusal.Message;
        }

        if (backward is RNN backwardRnn && ((RNN)layer).Stateful != backwardRnn.Stateful)
        {
            // Keras' Bidirectional._verify_layer_config.
            throw new ArgumentException($"Bidirectional '{name}': the forward and backward layers must have the same stateful, got {((RNN)layer).Stateful} for {layer.ClassName} '{layer.Name}' and {backwardRnn.Stateful} for {backward.ClassName} '{backward.Name}'.", nameof(backward));
        }

        ForwardLayer = HoldShare(backward is null ? Copy(layer, $"forward_{layer.Name}", goBackwards: false) : layer);
        BackwardLayer = HoldShare(backward ?? Copy(layer, $"backward_{layer.Name}", goBackwards: true));
    }

    private readonly string? maskRefusal;

    /// <summary>Whether the wrapped layer is stateful (Keras' <c>Bidirectional.stateful</c>, the layer's): both copies carry their states.</summary>
    public bool Stateful => ForwardLayer is RNN { Stateful: true };

    /// <summary>
    /// Sets both copies' carried states to zeros (Keras 3's <c>reset_state()</c>).
    /// </summary>
    /// <exception cref="InvalidOperationException">The layer is not stateful (Keras' AttributeError "Layer must be stateful").</exception>
    public void ResetState()
    {
        if (!Stateful)
        {
            throw new InvalidOperationException($"Bidirectional '{Name}': the layer must be stateful to reset its states (its {ForwardLayer.ClassName} has stateful=false).");
        }

        ((RNN)ForwardLayer).ResetState();
        ((RNN)BackwardLayer).ResetState();
    }

    /// <summary>Keras 3's compatibility alias of <see cref="ResetState"/> (<c>reset_states()</c>).</summary>
    public void ResetStates() => ResetState();

    /// <summary>
    /// Calls the layer on a sequence with initial states, as Keras' <c>Bidirectional(...)(x, initial_state=[...])</c>:
    /// the first half of the states starts the forward layer, the second half the backward one (LSTM: forward h, c,
    /// backward h, c). Returns the single output; use <see cref="CallMulti(KerasTensor, IReadOnlyList{KerasTensor})"/>
    /// with <c>returnState</c> or <c>mergeMode</c> null.
    /// </summary>
    /// <param name="input">The sequence, (batch, steps, features).</param>
    /// <param name="initialState">Twice the wrapped layer's states, each (batch, size).</param>
    /// <exception cref="LayerInputException">States of the wrong count or shapes (the message names every shape).</exception>
    /// <exception cref="InvalidOperationException">The layer returns several outputs.</exception>
    public KerasTensor Call(KerasTensor input, IReadOnlyList<KerasTensor> initialState)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(initialState);
        if (OutputCount != 1)
        {
            throw new InvalidOperationException($"{ClassName} '{Name}' returns {OutputCount} tensors for this call; use CallMulti to get all of them.");
        }

        return CallWithInitialState(input, initialState.ToArray())[0];
    }

    /// <summary>Calls the layer with initial states and returns every output (the merged output or both, then the states with <c>returnState</c>).</summary>
    /// <param name="input">The sequence, (batch, steps, features).</param>
    /// <param name="initialState">Twice the wrapped layer's states: the forward layer's, then the backward layer's.</param>
    public IReadOnlyList<KerasTensor> CallMulti(KerasTensor input, IReadOnlyList<KerasTensor> initialState)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(initialState);
        return CallWithInitialState(input, initialState.ToArray());
    }

    /// <summary>A sequence can come with the states both directions start from (Keras' <c>initial_state</c>).</summary>
    internal override bool TakesInitialState => true;

    private protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input, IReadOnlyList<KerasTensor> initialState)
    {
        var per = ((RNN)ForwardLayer).Cell.StateSize.Count;
        if (initialState.Count != 2 * per)
        {
            throw InputError($"an initial state is {2 * per} tensors ({per} for the forward {ForwardLayer.ClassName} '{ForwardLayer.Name}', then {per} for the backward one), but got {initialState.Count}: {Describe(initialState)}.");
        }

        return Specs(input, initialState.Take(per).ToArray(), initialState.Skip(per).ToArray());
    }

    /// <summary>How the two directions' outputs are merged (Keras' <c>merge_mode</c>).</summary>
    public string? MergeMode { get; }

    /// <summary>The forward copy.</summary>
    public Layer ForwardLayer { get; }

    /// <summary>The backward copy (<c>go_backwards</c>).</summary>
    public Layer BackwardLayer { get; }

    private int DirectionOutputs => ForwardLayer.OutputCount;

    /// <inheritdoc/>
    public override int OutputCount => (MergeMode is null ? 2 : 1) + (2 * (DirectionOutputs - 1));

    internal override bool UsesMask => true;

    /// <summary>A masked input is refused when the wrapped layer refuses one (a cuDNN layer, as in Keras 2).</summary>
    internal override bool[] OutputMasks(IReadOnlyList<bool> inputMasked) =>
        maskRefusal is not null && inputMasked.Count > 0 && inputMasked[0]
            ? throw new ArgumentException($"Bidirectional '{Name}': {maskRefusal}")
            : base.OutputMasks(inputMasked);

    internal override IEnumerable<(string Path, IReadOnlyList<LayerWeight> Weights)> KerasVarGroups =>
        ForwardLayer.KerasVarGroups.Select(g => ($"forward_layer/{g.Path}", g.Weights))
            .Concat(BackwardLayer.KerasVarGroups.Select(g => ($"backward_layer/{g.Path}", g.Weights)));

    /// <summary>Both directions take the input as it is (the backward one reversed, which keeps the ids).</summary>
    internal override IEnumerable<Layer> IdCheckersFedBy(int index) => ForwardLayer.IdCheckersFedBy(index).Concat(BackwardLayer.IdCheckersFedBy(index));

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["merge_mode"] = MergeMode;
        config["layer"] = ModelConfig.SerializeLayer(ForwardLayer, innerInput);
        config["backward_layer"] = ModelConfig.SerializeLayer(BackwardLayer, innerInput);
        return config;
    }

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config (the backward copy from <c>backward_layer</c> when given).</summary>
    internal static Bidirectional FromConfig(LayerConfig config)
    {
        var forward = ModelConfig.DeserializeLayer(config.GetRaw("layer"), $"{config.Describe()}: 'layer'", config.Keras2);
        var backward = config.Has("backward_layer") && config.GetRaw("backward_layer") is not null
            ? ModelConfig.DeserializeLayer(config.GetRaw("backward_layer"), $"{config.Describe()}: 'backward_layer'", config.Keras2)
            : Copy(forward, $"backward_{forward.Name.Replace("forward_", string.Empty, StringComparison.Ordinal)}", goBackwards: true);
        return new Bidirectional(forward, config.GetNullableString("merge_mode"), config.Name, backward);
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input) =>
        Specs(input, Array.Empty<KerasTensor>(), Array.Empty<KerasTensor>());

    private IReadOnlyList<(Shape Shape, DType DType)> Specs(KerasTensor input, IReadOnlyList<KerasTensor> forwardStates, IReadOnlyList<KerasTensor> backwardStates)
    {
        var forward = ForwardLayer.BuildFor(input, forwardStates);
        var backward = BackwardLayer.BuildFor(input, backwardStates);
        innerInput ??= input.Shape.With(0, input.BatchSize);
        var output = forward[0];
        var merged = MergeMode switch
        {
            null => new[] { output, backward[0] },
            "concat" => new[] { (output.Shape.With(output.Shape.Rank - 1, output.Shape.Last * 2), output.DType) },
            _ => new[] { output },
        };
        return merged.Concat(forward.Skip(1)).Concat(backward.Skip(1)).ToArray();
    }

    /// <inheritdoc/>
    protected override void Build(KerasTensor input) => AdoptWeights(ForwardLayer.Weights.Concat(BackwardLayer.Weights));

    /// <summary>The two copies' locks guard the variables this layer runs on.</summary>
    internal override IEnumerable<Layer> WeightOwners => ForwardLayer.WeightOwners.Concat(BackwardLayer.WeightOwners).Prepend(this);

    /// <inheritdoc/>
    protected override IReadOnlyList<Tensor> Call(IReadOnlyList<Tensor> inputs, bool training, IReadOnlyList<Tensor?> masks)
    {
        // Initial states after the sequence: the forward layer's half, then the backward layer's.
        var half = (inputs.Count - 1) / 2;
        if (Stateful && inputs[0].shape[0] is var batch && ForwardLayer is RNN forwardRnn && BackwardLayer is RNN backwardRnn)
        {
            // Both copies refuse a batch of another size before either carries a state on.
            forwardRnn.CheckStatefulBatch(batch, inputs[0].shape);
            backwardRnn.CheckStatefulBatch(batch, inputs[0].shape);
        }

        var forward = ForwardLayer.Forward(inputs.Take(1 + half).ToArray(), masks.Take(1 + half).ToArray(), training).Outputs;
        var backward = BackwardLayer.Forward(inputs.Take(1).Concat(inputs.Skip(1 + half)).ToArray(), masks.Take(1).Concat(masks.Skip(1 + half)).ToArray(), training).Outputs;
        var (y, yBack) = (forward[0], backward[0]);
        if (BackwardLayer is RNN { ReturnSequences: true })
        {
            // The backward layer's outputs come last step first; Keras turns them back (axis 1, whatever the rank: a
            // ConvLSTM's sequences have spatial axes too).
            yBack = yBack.flip(1);
        }

        IEnumerable<Tensor> merged = MergeMode switch
        {
            null => new[] { y, yBack },
            "concat" => new[] { cat(new[] { y, yBack }, -1) },
            "sum" => new[] { y.add(yBack, Scalars.IntOne) },
            "mul" => new[] { y * yBack },
            _ => new[] { y.add(yBack, Scalars.IntOne).div(Scalars.OfInt(2)) },
        };
        return merged.Concat(forward.Skip(1)).Concat(backward.Skip(1)).ToArray();
    }

    /// <summary>A copy of a recurrent layer from its config, renamed, with <c>go_backwards</c> set.</summary>
    private static Layer Copy(Layer layer, string name, bool goBackwards)
    {
        // Through JSON text, as a file would give it: the config readers take parsed numbers.
        var config = JsonNode.Parse(layer.GetConfig().ToJsonString())!.AsObject();
        config["name"] = name;
        config["go_backwards"] = goBackwards;
        // As Keras: copies that return sequences output zeros at masked steps, so both directions line up.
        if (config["return_sequences"] is JsonValue sequences && sequences.GetValue<bool>())
        {
            config["zero_output_for_mask"] = true;
        }
        return LayerRegistry.Create(new LayerConfig(layer.ClassName, name, config));
    }

    /// <summary>ONNX: both layers' forms on the input (the backward one reverses the steps itself), the backward sequence turned back, then the merge.</summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call)
    {
        if (Stateful)
        {
            throw new NotSupportedException($"Bidirectional '{Name}': a stateful layer (its {ForwardLayer.ClassName} has stateful=true) has no ONNX form here, as its states are carried between calls outside the graph; export a copy built with stateful=false and its states as inputs (Call with initialState).");
        }

        var half = call.InitialStates / 2;
        var states = call.States;
        var forward = ForwardLayer.ExportOnnx(graph, new OnnxCall(call.Inputs.Take(1).Concat(states.Take(half)).ToArray(), call.OutputShapes, half));
        var backward = BackwardLayer.ExportOnnx(graph, new OnnxCall(call.Inputs.Take(1).Concat(states.Skip(half)).ToArray(), call.OutputShapes, half));
        var (y, yBack) = (forward[0], backward[0]);
        if (BackwardLayer is RNN { ReturnSequences: true })
        {
            yBack = graph.ReverseSteps(yBack, Name);
        }

        IEnumerable<string> merged = MergeMode switch
        {
            null => new[] { y, yBack },
            "concat" => new[] { graph.Add("Concat", Name, new[] { y, yBack }, OnnxGraph.Attr("axis", -1L)) },
            "sum" => new[] { graph.Add("Add", Name, new[] { y, yBack }) },
            "mul" => new[] { graph.Add("Mul", Name, new[] { y, yBack }) },
            _ => new[] { graph.Add("Div", Name, new[] { graph.Add("Add", Name, new[] { y, yBack }), graph.Scalar(2f) }) },
        };
        return merged.Concat(forward.Skip(1)).Concat(backward.Skip(1)).ToArray();
    }
}
