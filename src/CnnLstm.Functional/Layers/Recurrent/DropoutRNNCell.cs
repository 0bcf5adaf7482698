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
    private readonly Regularizers.Regularizer?[] regularizers = new Regularizers.Regularizer?[3];
    private readonly Constraints.Constraint?[] constraints = new Constraints.Constraint?[3];
    private readonly Initializers.Initializer[] initializers = { new Initializers.GlorotUniform(), new Initializers.Orthogonal(), new Initializers.Zeros() };
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

    /// <summary>The kernel's initializer (Keras' <c>kernel_initializer</c>, default <see cref="Initializers.GlorotUniform"/>), over Keras' kernel layout (input, gates × units).</summary>
    public Initializers.Initializer KernelInitializer { get => initializers[0]; init => SetInitializer(0, value); }

    /// <summary>The recurrent kernel's initializer (Keras' <c>recurrent_initializer</c>, default <see cref="Initializers.Orthogonal"/>), over (units, gates × units).</summary>
    public Initializers.Initializer RecurrentInitializer { get => initializers[1]; init => SetInitializer(1, value); }

    /// <summary>
    /// The bias's initializer (Keras' <c>bias_initializer</c>, default <see cref="Initializers.Zeros"/>), over Keras'
    /// bias layout; an LSTM cell with <c>unit_forget_bias</c> calls it for the input gate (units) and the cell and
    /// output gates (2 units), with ones for the forget gate between, as Keras.
    /// </summary>
    public Initializers.Initializer BiasInitializer { get => initializers[2]; init => SetInitializer(2, value); }

    /// <summary>Sets a weight initializer (0 kernel, 1 recurrent kernel, 2 bias), also from an RNN layer's initializer; weights made later use it.</summary>
    internal void SetInitializer(int weight, Initializers.Initializer value) => initializers[weight] = value ?? throw new ArgumentNullException(nameof(value));

    /// <summary>Reads kernel_initializer, recurrent_initializer and bias_initializer into the cell.</summary>
    internal void ReadInitializers(LayerConfig config)
    {
        SetInitializer(0, config.GetInitializer("kernel_initializer", new Initializers.GlorotUniform()));
        SetInitializer(1, config.GetInitializer("recurrent_initializer", new Initializers.Orthogonal()));
        SetInitializer(2, config.GetInitializer("bias_initializer", new Initializers.Zeros()));
    }

    /// <summary>The kernel's penalty (Keras' <c>kernel_regularizer</c>, default null).</summary>
    public Regularizers.Regularizer? KernelRegularizer { get => regularizers[0]; init => regularizers[0] = value; }

    /// <summary>The recurrent kernel's penalty (Keras' <c>recurrent_regularizer</c>, default null).</summary>
    public Regularizers.Regularizer? RecurrentRegularizer { get => regularizers[1]; init => regularizers[1] = value; }

    /// <summary>The bias's penalty (Keras' <c>bias_regularizer</c>, default null).</summary>
    public Regularizers.Regularizer? BiasRegularizer { get => regularizers[2]; init => regularizers[2] = value; }

    /// <summary>Sets a weight regularizer from an RNN layer's initializer (0 kernel, 1 recurrent kernel, 2 bias); weights made later get it.</summary>
    internal void SetRegularizer(int weight, Regularizers.Regularizer? value) => regularizers[weight] = value;

    /// <summary>The kernel's projection after each optimizer update (Keras' <c>kernel_constraint</c>, default null), over Keras' kernel layout (input, gates × units).</summary>
    public Constraints.Constraint? KernelConstraint { get => constraints[0]; init => constraints[0] = value; }

    /// <summary>The recurrent kernel's projection after each optimizer update (Keras' <c>recurrent_constraint</c>, default null), over (units, gates × units).</summary>
    public Constraints.Constraint? RecurrentConstraint { get => constraints[1]; init => constraints[1] = value; }

    /// <summary>The bias's projection after each optimizer update (Keras' <c>bias_constraint</c>, default null), over Keras' bias layout.</summary>
    public Constraints.Constraint? BiasConstraint { get => constraints[2]; init => constraints[2] = value; }

    /// <summary>Sets a weight constraint from an RNN layer's initializer (0 kernel, 1 recurrent kernel, 2 bias); weights made later get it.</summary>
    internal void SetConstraint(int weight, Constraints.Constraint? value) => constraints[weight] = value;

    /// <inheritdoc/>
    public override int OutputSize => Units;

    internal override int InputDim => inputDim;

    /// <summary>Kernel columns per unit: LSTM 4, GRU 3, SimpleRNN 1.</summary>
    private protected abstract int Gates { get; }

    /// <summary>The bias shape (GRU's reset-after bias has two rows).</summary>
    private protected virtual long[] BiasShape => new long[] { (long)Gates * Units };

    /// <summary>The gate activation of cells that have gates (LSTMCell, GRUCell), else null.</summary>
    private protected virtual string? GateActivation => null;

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
        if (!training || (Dropout == 0 && RecurrentDropout == 0))
        {
            // Nothing to draw: no tensor is made on the way to a fused kernel.
            return new Run(this, null, null);
        }

        var step = sequence.dim() == 3 ? sequence.select(1, 0) : sequence;
        var inputKeep = KeepMask(step.shape, Dropout, training, step);
        var stateKeep = KeepMask(new[] { step.shape[0], (long)Units }, RecurrentDropout, training, step);
        return new Run(this, inputKeep, stateKeep);
    }

    /// <summary>
    /// Remembers the feature count and declares the weights in Keras' order, as Keras' cells build them: kernel
    /// (features, gates × units), recurrent_kernel (units, gates × units), and with
    /// <see cref="UseBias"/> a <see cref="BiasShape"/> bias, each from its initializer.
    /// </summary>
    /// <param name="input">The step input (batch, features).</param>
    /// <param name="bias">The bias's initial value; null for <see cref="BiasInitializer"/> over <see cref="BiasShape"/>.</param>
    /// <param name="kernelToKeras">The kernels' engine layout (see <c>Layer.AddWeight</c>); null for Keras'.</param>
    /// <param name="moduleVariable">The variable of a TorchSharp module that holds each weight, by Keras name; null to make them.</param>
    private protected (LayerWeight Kernel, LayerWeight RecurrentKernel, LayerWeight? Bias) AddCellWeights(KerasTensor input, Func<Tensor>? bias = null,
        Func<Tensor, Tensor>? kernelToKeras = null, Func<string, TorchSharp.Modules.Parameter>? moduleVariable = null)
    {
        inputDim = input.Shape.Last!.Value;
        var columns = (long)Gates * Units;
        var kernelShape = new long[] { inputDim, columns };
        var recurrentShape = new long[] { Units, columns };
        var kernel = AddWeight("kernel", kernelShape, Initial(KernelInitializer, kernelShape, "kernel"), kernelToKeras, Variable("kernel"));
        var recurrent = AddWeight("recurrent_kernel", recurrentShape, Initial(RecurrentInitializer, recurrentShape, "recurrent_kernel"), kernelToKeras, Variable("recurrent_kernel"));
        var biasWeight = UseBias ? AddWeight("bias", BiasShape, bias ?? Initial(BiasInitializer, BiasShape, "bias"), null, Variable("bias")) : null;
        kernel.Regularizer = KernelRegularizer;
        recurrent.Regularizer = RecurrentRegularizer;
        biasWeight?.Regularizer = BiasRegularizer;
        kernel.Constraint = KernelConstraint;
        recurrent.Constraint = RecurrentConstraint;
        biasWeight?.Constraint = BiasConstraint;
        return (kernel, recurrent, biasWeight);

        Func<TorchSharp.Modules.Parameter>? Variable(string name) => moduleVariable is null ? null : () => moduleVariable(name);
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        WriteArguments(config, layerForm: false);
        return config;
    }

    /// <summary>
    /// The cell's arguments in Keras' order: with <paramref name="layerForm"/> as LSTM, GRU and SimpleRNN write them
    /// (with <c>activity_regularizer</c>, and the layer's own extras), else as the cell's config.
    /// </summary>
    /// <param name="config">The config to add to.</param>
    /// <param name="layerForm">Whether the config is a layer's (LSTM) rather than the cell's (LSTMCell).</param>
    /// <param name="activityRegularizer">The layer's activity regularizer (layer form only).</param>
    internal void WriteArguments(JsonObject config, bool layerForm, Regularizers.Regularizer? activityRegularizer = null)
    {
        var recurrentActivation = GateActivation;
        config["units"] = Units;
        config["activation"] = Activations.Serialize(Activation);
        if (recurrentActivation is not null)
        {
            config["recurrent_activation"] = Activations.Serialize(recurrentActivation);
        }

        config["use_bias"] = UseBias;
        config["kernel_initializer"] = KernelInitializer.Serialize();
        config["recurrent_initializer"] = RecurrentInitializer.Serialize();
        config["bias_initializer"] = BiasInitializer.Serialize();
        config["kernel_regularizer"] = KernelRegularizer?.Serialize();
        config["recurrent_regularizer"] = RecurrentRegularizer?.Serialize();
        config["bias_regularizer"] = BiasRegularizer?.Serialize();
        if (layerForm)
        {
            config["activity_regularizer"] = activityRegularizer?.Serialize();
        }

        config["kernel_constraint"] = KernelConstraint?.Serialize();
        config["recurrent_constraint"] = RecurrentConstraint?.Serialize();
        config["bias_constraint"] = BiasConstraint?.Serialize();

        config["dropout"] = Dropout;
        config["recurrent_dropout"] = RecurrentDropout;
        WriteExtras(config, layerForm);
    }

    /// <summary>The arguments a cell writes after the shared ones (unit_forget_bias, reset_after, seed).</summary>
    private protected abstract void WriteExtras(JsonObject config, bool layerForm);

    /// <summary>
    /// Checks the cell arguments of a config (a cell's, or LSTM's, GRU's, SimpleRNN's) that must hold Keras' defaults
    /// here, and skips those without effect on the maths (the kernel choice; the dropout seed).
    /// </summary>
    /// <returns>The checked <c>dropout</c> and <c>recurrent_dropout</c>.</returns>
    internal static (double Dropout, double RecurrentDropout) ReadDefaults(LayerConfig config, string layerClass)
    {
        config.Ignore("implementation", "seed");
        return (CheckRate(config.GetDouble("dropout", 0), layerClass, "dropout"), CheckRate(config.GetDouble("recurrent_dropout", 0), layerClass, "recurrent_dropout"));
    }

    /// <summary>A scaled keep mask of <paramref name="shape"/>, or null when the rate is 0 or not training.</summary>
    private Tensor? KeepMask(long[] shape, double rate, bool training, Tensor like) =>
        training && rate > 0
            ? empty(shape, dtype: like.dtype, device: like.device).bernoulli_(1 - rate, generator: Random).div(Scalars.Of(1 - rate))
            : null;

    private sealed class Run(DropoutRNNCell cell, Tensor? inputKeep, Tensor? stateKeep) : CellRun
    {
        // Taken at the first step, so a call that runs a fused kernel takes none.
        private Tensor?[]? weights;

        public override bool DropsState => stateKeep is not null;

        // The same input mask at every step: applied to the whole sequence at once.
        public override Tensor Drop(Tensor inputs) => inputKeep is null ? inputs : inputs * (inputs.dim() == 3 ? inputKeep.unsqueeze(1) : inputKeep);

        public override Tensor Project(Tensor dropped) => cell.Project(dropped);

        public override (Tensor Output, Tensor[] States) Step(Tensor projected, Tensor[] states) => cell.Step(projected, states, stateKeep, weights ??= cell.StepWeights());
    }
}
