using System.Text.Json.Nodes;

namespace KerasStyle.Layers;

/// <summary>
/// An <see cref="RNN"/> of one cell whose arguments it takes and exposes and whose config it writes flat (without a
/// nested <c>cell</c>), as Keras' LSTM, GRU and SimpleRNN (keras/src/layers/rnn/lstm.py: <c>get_config</c> deletes
/// <c>cell</c> and adds the cell's arguments). Their weights keep the names this library always wrote (<c>lstm/kernel:0</c>).
/// </summary>
/// <typeparam name="TCell">The cell type.</typeparam>
public abstract class RNN<TCell> : RNN
    where TCell : DropoutRNNCell
{
    private protected RNN(TCell cell, bool returnSequences, bool returnState, bool goBackwards, bool zeroOutputForMask, string? name, bool stateful = false)
        : base(cell, returnSequences, returnState, goBackwards, zeroOutputForMask, name, stateful)
    {
    }

    private protected RNN(TCell cell, RnnOptions options, string name)
        : base(cell, options.ReturnSequences, options.ReturnState, options.GoBackwards, options.ZeroOutputForMask, name, options.Stateful)
    {
    }

    /// <summary>The cell run at each step.</summary>
    public new TCell Cell => (TCell)base.Cell;

    /// <summary>Size of the state.</summary>
    public int Units => Cell.Units;

    /// <summary>The activation of the candidate (and output).</summary>
    public string Activation => Cell.Activation;

    /// <summary>Whether biases are added.</summary>
    public bool UseBias => Cell.UseBias;

    /// <summary>The input dropout rate (Keras' <c>dropout</c>).</summary>
    public double Dropout => Cell.Dropout;

    /// <summary>The recurrent dropout rate (Keras' <c>recurrent_dropout</c>).</summary>
    public double RecurrentDropout => Cell.RecurrentDropout;

    /// <summary>The kernel's initializer (Keras' <c>kernel_initializer</c>, default <see cref="Initializers.GlorotUniform"/>): <c>new LSTM(8) { KernelInitializer = new HeNormal(seed: 1) }</c>.</summary>
    public Initializers.Initializer KernelInitializer { get => Cell.KernelInitializer; init => Cell.SetInitializer(0, value); }

    /// <summary>The recurrent kernel's initializer (Keras' <c>recurrent_initializer</c>, default <see cref="Initializers.Orthogonal"/>).</summary>
    public Initializers.Initializer RecurrentInitializer { get => Cell.RecurrentInitializer; init => Cell.SetInitializer(1, value); }

    /// <summary>The bias's initializer (Keras' <c>bias_initializer</c>, default <see cref="Initializers.Zeros"/>; see <see cref="DropoutRNNCell.BiasInitializer"/> for LSTM's unit_forget_bias).</summary>
    public Initializers.Initializer BiasInitializer { get => Cell.BiasInitializer; init => Cell.SetInitializer(2, value); }

    /// <summary>The kernel's penalty (Keras' <c>kernel_regularizer</c>, default null): <c>new LSTM(8) { KernelRegularizer = new L2(0.01) }</c>.</summary>
    public Regularizers.Regularizer? KernelRegularizer { get => Cell.KernelRegularizer; init => Cell.SetRegularizer(0, value); }

    /// <summary>The recurrent kernel's penalty (Keras' <c>recurrent_regularizer</c>, default null).</summary>
    public Regularizers.Regularizer? RecurrentRegularizer { get => Cell.RecurrentRegularizer; init => Cell.SetRegularizer(1, value); }

    /// <summary>The bias's penalty (Keras' <c>bias_regularizer</c>, default null).</summary>
    public Regularizers.Regularizer? BiasRegularizer { get => Cell.BiasRegularizer; init => Cell.SetRegularizer(2, value); }

    /// <summary>The kernel's projection after each optimizer update (Keras' <c>kernel_constraint</c>, default null): <c>new LSTM(8) { KernelConstraint = new UnitNorm() }</c>.</summary>
    public Constraints.Constraint? KernelConstraint { get => Cell.KernelConstraint; init => Cell.SetConstraint(0, value); }

    /// <summary>The recurrent kernel's projection after each optimizer update (Keras' <c>recurrent_constraint</c>, default null).</summary>
    public Constraints.Constraint? RecurrentConstraint { get => Cell.RecurrentConstraint; init => Cell.SetConstraint(1, value); }

    /// <summary>The bias's projection after each optimizer update (Keras' <c>bias_constraint</c>, default null).</summary>
    public Constraints.Constraint? BiasConstraint { get => Cell.BiasConstraint; init => Cell.SetConstraint(2, value); }

    private protected override bool NamesCellWeights => false;

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = RnnConfig();
        Cell.WriteArguments(config, layerForm: true, ActivityRegularizer);
        return config;
    }
}
