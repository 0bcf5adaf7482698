using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// What Keras' LSTMCell, GRUCell and SimpleRNNCell share (keras/src/layers/rnn/dropout_rnn_cell.py and the cells):
/// units, activation and bias; a kernel (features, gates × units), a recurrent kernel and a bias; and dropout. Keras'
/// dropout rule: one keep/drop mask per call of the RNN, drawn when it is called in training and reused at every
/// step, kept values scaled by 1 / (1 - rate), on the inputs (<c>dropout</c>, a (batch, features) mask) and on the
/// previous state before the recurrent products (<c>recurrent_dropout</c>, a (batch, units) mask). The masks come from
/// the cell's own generator, not Keras' seed (and LSTM's four per-gate masks with recurrent dropout are one here).
/// </summary>
public abstract class DropoutRNNCell : RecurrentCell
{
    private int inputDim;

    private protected DropoutRNNCell(string layerClass, int units, string activation, bool useBias, double dropout, double recurrentDropout, string? name)
        : base(name)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(units);
        Units = units;
        Activation = Activations.Validate(activation, layerClass, nameof(activation));
        UseBias = useBias;
        Dropout = CheckRate(dropout, layerClass, nameof(dropout));
        RecurrentDropout = CheckRate(recurrentDropout, layerClass, nameof(recurrentDropout));
    }

    /// <summary>Size of the state.</summary>
    public int Units { get; }

    /// <summary>The activation of the candidate (and output).</summary>
    public string Activation { get; }

    /// <summary>Whether biases are added.</summary>
    public bool UseBias { get; }

    /// <summary>The input dropout rate (Keras' <c>dropout</c>, default 0).</summary>
    public double Dropout { get; }

    /// <summary>The recurrent dropout rate (Keras' <c>recurrent_dropout</c>, default 0).</summary>
    public double RecurrentDropout { get; }

    /// <inheritdoc/>
    public override int OutputSize => Units;

    internal override int InputDim => inputDim;

    /// <summary>Kernel columns per unit (LSTM 4, GRU 3, SimpleRNN 1), for messages.</summary>
    private protected abstract int GateCount { get; }

    /// <summary>The recurrent weights every step reads, taken once per call (a transposed view, a bias row).</summary>
    private protected abstract Tensor?[] StepWeights();

    /// <summary>The input part of the steps, from the (dropped) input: x · kernel (+ the input bias).</summary>
    private protected abstract Tensor Project(Tensor inputs);

    /// <summary>One step from its projected input, the previous states, the recurrent dropout mask (or null) and <see cref="StepWeights"/>.</summary>
    private protected abstract (Tensor Output, Tensor[] States) Step(Tensor projected, Tensor[] states, Tensor? stateKeep, Tensor?[] weights);

    /// <summary>Checks a rate the way Keras uses it: a number in [0, 1).</summary>
    internal static double CheckRate(double rate, string layer, string argument) =>
        rate >= 0 && rate < 1 ? rate : throw new ArgumentOutOfRangeException(argument, rate, $"{layer}: {argument} must be in [0, 1), got {rate}.");

    internal override CellRun Start(Tensor sequence, bool training)
    {
        var step = sequence.dim() == 3 ? sequence.select(1, 0) : sequence;
        var inputKeep = KeepMask(step.shape, Dropout, training, step);
        var stateKeep = KeepMask(new[] { step.shape[0], (long)Units }, RecurrentDropout, training, step);
        return new Run(this, inputKeep, stateKeep, StepWeights());
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        RequireRank(input, 2, "(batch, features)");
        RequireFloat(input);
        var features = RequireKnownLast(input, "feature");
        if (Built && features != InputDim)
        {
            throw InputError($"the kernel is ({InputDim}, {GateCount * Units}), built for {InputDim} features, but {input.Label} has shape {input.Shape} with {features} features.");
        }

        return new[] { (new Shape(null, Units), DType.Float32) };
    }

    /// <summary>Remembers the feature count; the cells create their weights after.</summary>
    private protected int BuildInput(KerasTensor input) => inputDim = input.Shape.Last!.Value;

    /// <summary>
    /// The arguments every Keras cell config carries, in Keras' order (the cell adds its own after): with
    /// <paramref name="layerForm"/> as LSTM, GRU and SimpleRNN write them (with <c>activity_regularizer</c>).
    /// </summary>
    /// <param name="config">The config to add to.</param>
    /// <param name="recurrentActivation">The gate activation, for cells that have gates.</param>
    /// <param name="layerForm">Whether the config is a layer's (LSTM) rather than the cell's (LSTMCell).</param>
    internal void WriteArguments(JsonObject config, string? recurrentActivation, bool layerForm)
    {
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
            if (layerForm || key != "activity_regularizer")
            {
                config[key] = null;
            }
        }

        config["dropout"] = Dropout;
        config["recurrent_dropout"] = RecurrentDropout;
    }

    /// <summary>
    /// Checks the cell arguments of a config (a cell's, or LSTM's, GRU's, SimpleRNN's) that must hold Keras' defaults
    /// here, and skips those without effect on the maths (the kernel choice; the dropout seed).
    /// </summary>
    internal static void ReadDefaults(LayerConfig config)
    {
        config.ReadInitializer("kernel_initializer", "glorot_uniform");
        config.ReadInitializer("recurrent_initializer", "orthogonal");
        config.ReadInitializer("bias_initializer", "zeros");
        foreach (var key in new[] { "kernel_regularizer", "recurrent_regularizer", "bias_regularizer", "kernel_constraint", "recurrent_constraint", "bias_constraint" })
        {
            config.RequireDefault(key, null);
        }

        config.Ignore("implementation", "seed");
    }

    /// <summary>A scaled keep mask of <paramref name="shape"/>, or null when the rate is 0 or not training.</summary>
    private Tensor? KeepMask(long[] shape, double rate, bool training, Tensor like) =>
        training && rate > 0
            ? empty(shape, dtype: like.dtype, device: like.device).bernoulli_(1 - rate, generator: Random) / (1 - rate)
            : null;

    private sealed class Run(DropoutRNNCell cell, Tensor? inputKeep, Tensor? stateKeep, Tensor?[] weights) : CellRun
    {
        public override bool DropsState => stateKeep is not null;

        // The same input mask at every step: applied to the whole sequence at once.
        public override Tensor Drop(Tensor inputs) => inputKeep is null ? inputs : inputs * (inputs.dim() == 3 ? inputKeep.unsqueeze(1) : inputKeep);

        public override Tensor Project(Tensor dropped) => cell.Project(dropped);

        public override (Tensor Output, Tensor[] States) Step(Tensor projected, Tensor[] states) => cell.Step(projected, states, stateKeep, weights);
    }
}
