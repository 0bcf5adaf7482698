using KerasStyle.Saving;

namespace KerasStyle.Layers;

/// <summary>
/// A fully-connected recurrent layer, as Keras' <c>keras.layers.SimpleRNN</c> (keras/src/layers/rnn/simple_rnn.py):
/// an <see cref="RNN"/> of a <see cref="SimpleRNNCell"/> named <c>simple_rnn_cell</c> (h = activation(x · kernel +
/// bias + h_prev · recurrent_kernel)), whose arguments it takes and whose config it writes flat. Input (batch, steps,
/// features); output (batch, units), or (batch, steps, units) with <c>returnSequences</c>; with <c>returnState</c>
/// also the last state (batch, units). Masks, <c>goBackwards</c>, an initial state, <c>dropout</c> and
/// <c>recurrentDropout</c> as in Keras; <c>stateful</c> as Keras (a fixed batch size, states carried between calls).
/// </summary>
[KerasLayer("SimpleRNN"), Keras3OnlyArgument("seed", null), TfKeras2OnlyArgument("time_major", false)]
public sealed class SimpleRNN : RNN<SimpleRNNCell>
{
    /// <summary>Creates the layer.</summary>
    /// <param name="units">Size of the state; positive.</param>
    /// <param name="activation">Keras activation name (default <c>tanh</c>).</param>
    /// <param name="useBias">Whether to add a bias (default true).</param>
    /// <param name="returnSequences">Return every step's output instead of the last.</param>
    /// <param name="returnState">Also return the last state.</param>
    /// <param name="name">Layer name; defaults to <c>simple_rnn_N</c>.</param>
    /// <param name="goBackwards">Process the sequence last step first (Keras' <c>go_backwards</c>).</param>
    /// <param name="dropout">Input dropout rate in [0, 1) (Keras' <c>dropout</c>, default 0): one mask per sequence while training.</param>
    /// <param name="recurrentDropout">Recurrent dropout rate in [0, 1) (Keras' <c>recurrent_dropout</c>, default 0).</param>
    /// <param name="zeroOutputForMask">Masked steps output zeros instead of the previous output (default false).</param>
    /// <param name="stateful">Keras' <c>stateful</c> (default false): the last states of each sample of a batch start
    /// the same sample of the next batch, across Predict/TrainOnBatch/TestOnBatch calls and batches, until
    /// <see cref="RNN.ResetState"/>; needs a fixed batch size (<c>new Input(..., batchSize: n)</c>).</param>
    /// <exception cref="ArgumentOutOfRangeException">Units not positive, or a rate outside [0, 1).</exception>
    /// <exception cref="ArgumentException">An unknown activation.</exception>
    public SimpleRNN(int units, string activation = "tanh", bool useBias = true, bool returnSequences = false, bool returnState = false, string? name = null,
        bool goBackwards = false, double dropout = 0, double recurrentDropout = 0, bool zeroOutputForMask = false, bool stateful = false)
        : base(new SimpleRNNCell(nameof(SimpleRNN), units, activation, useBias, dropout, recurrentDropout, "simple_rnn_cell"),
            returnSequences, returnState, goBackwards, zeroOutputForMask, name, stateful)
    {
    }

    private SimpleRNN(SimpleRNNCell cell, RnnOptions options, string name)
        : base(cell, options, name)
    {
    }

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config.</summary>
    internal static new SimpleRNN FromConfig(LayerConfig config) => new(SimpleRNNCell.FromConfig(config, nameof(SimpleRNN), "simple_rnn_cell"), ReadOptions(config), config.Name);
}
