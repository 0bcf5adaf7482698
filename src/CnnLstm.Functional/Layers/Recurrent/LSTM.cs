using KerasStyle.Saving;

namespace KerasStyle.Layers;

/// <summary>
/// Long short-term memory layer over (batch, steps, features), as Keras' <c>keras.layers.LSTM</c>
/// (keras/src/layers/rnn/lstm.py): an <see cref="RNN"/> of an <see cref="LSTMCell"/> named <c>lstm_cell</c>, whose
/// arguments it takes and whose config it writes flat. Output (batch, units), or (batch, steps, units) with
/// <c>returnSequences</c>; with <c>returnState</c> also the last h and c, each (batch, units). Weights in Keras order
/// and layout: kernel (features, 4u) glorot_uniform, recurrent_kernel (u, 4u) orthogonal, bias (4u) zeros with the
/// forget block at 1 (unit_forget_bias); gate blocks i, f, c, o; ONE bias vector: 4u(features + u) + 4u parameters.
/// </summary>
/// <remarks>
/// With activation tanh and recurrent activation sigmoid, a call without mask or recurrent dropout runs the library's
/// own LSTM kernels, for inference and for training (see <see cref="LSTMCell"/>); otherwise the RNN's step loop with
/// the same maths.
/// </remarks>
[KerasLayer("LSTM"), Keras3OnlyArgument("seed", null), Keras3OnlyArgument("use_cudnn", "auto"), TfKeras2OnlyArgument("time_major", false), TfKeras2OnlyArgument("implementation", 2)]
public sealed class LSTM : RNN<LSTMCell>
{
    /// <summary>Creates an LSTM layer.</summary>
    /// <param name="units">Size of the hidden state; must be positive.</param>
    /// <param name="activation">Activation of the cell candidate and output (Keras default <c>tanh</c>).</param>
    /// <param name="recurrentActivation">Gate activation: <c>sigmoid</c> (tf.keras 2 and Keras 3 default) or
    /// <c>hard_sigmoid</c> (Keras 2.1 default), or any known activation.</param>
    /// <param name="useBias">Whether the gates have a bias (default true).</param>
    /// <param name="returnSequences">True to return the output at every step (batch, steps, units), false for the
    /// last step only (batch, units).</param>
    /// <param name="returnState">True to also return the last hidden and cell states (use <see cref="Layer.CallMulti(Graph.KerasTensor)"/>).</param>
    /// <param name="unitForgetBias">Whether the forget-gate bias starts at 1 (default true).</param>
    /// <param name="name">Layer name; defaults to <c>lstm_N</c>.</param>
    /// <param name="goBackwards">Process the sequence last step first (Keras' <c>go_backwards</c>, default false).</param>
    /// <param name="dropout">Input dropout rate in [0, 1) (Keras' <c>dropout</c>, default 0): one mask per sequence while training.</param>
    /// <param name="recurrentDropout">Recurrent dropout rate in [0, 1) (Keras' <c>recurrent_dropout</c>, default 0): one mask on h per sequence while training.</param>
    /// <param name="zeroOutputForMask">Masked steps output zeros instead of the previous output (Keras' <c>zero_output_for_mask</c>, default false).</param>
    /// <param name="stateful">Keras' <c>stateful</c> (default false): the last states of each sample of a batch start
    /// the same sample of the next batch, across Predict/TrainOnBatch/TestOnBatch calls and batches, until
    /// <see cref="RNN.ResetState"/>; needs a fixed batch size (<c>new Input(..., batchSize: n)</c>).</param>
    /// <exception cref="ArgumentOutOfRangeException">Units not positive, or a rate outside [0, 1).</exception>
    /// <exception cref="ArgumentException">An unknown activation.</exception>
    public LSTM(int units, string activation = "tanh", string recurrentActivation = "sigmoid", bool useBias = true,
        bool returnSequences = false, bool returnState = false, bool unitForgetBias = true, string? name = null, bool goBackwards = false,
        double dropout = 0, double recurrentDropout = 0, bool zeroOutputForMask = false, bool stateful = false)
        : base(new LSTMCell(nameof(LSTM), units, activation, recurrentActivation, useBias, unitForgetBias, dropout, recurrentDropout, "lstm_cell"),
            returnSequences, returnState, goBackwards, zeroOutputForMask, name, stateful)
    {
    }

    private LSTM(LSTMCell cell, RnnOptions options, string name)
        : base(cell, options, name)
    {
    }

    /// <summary>Gate activation.</summary>
    public string RecurrentActivation => Cell.RecurrentActivation;

    /// <summary>Whether the forget-gate bias starts at 1.</summary>
    public bool UnitForgetBias => Cell.UnitForgetBias;

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config.</summary>
    internal static new LSTM FromConfig(LayerConfig config) => new(LSTMCell.FromConfig(config, nameof(LSTM), "lstm_cell"), ReadOptions(config), config.Name);
}
