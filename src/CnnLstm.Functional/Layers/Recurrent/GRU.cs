using KerasStyle.Saving;

namespace KerasStyle.Layers;

/// <summary>
/// A gated recurrent unit layer, as Keras' <c>keras.layers.GRU</c> (keras/src/layers/rnn/gru.py): an
/// <see cref="RNN"/> of a <see cref="GRUCell"/> named <c>gru_cell</c> (its maths and weights), whose arguments it
/// takes and whose config it writes flat. Input (batch, steps, features); output (batch, units), or (batch, steps,
/// units) with <c>returnSequences</c>; with <c>returnState</c> also the last state. Masks, <c>goBackwards</c>, an
/// initial state (<see cref="RNN.Call(Graph.KerasTensor, IReadOnlyList{Graph.KerasTensor})"/>), <c>dropout</c> and
/// <c>recurrentDropout</c> as in Keras; <c>stateful</c> as Keras (a fixed batch size, states carried between calls).
/// </summary>
[KerasLayer("GRU"), Keras3OnlyArgument("seed", null), Keras3OnlyArgument("use_cudnn", "auto"), TfKeras2OnlyArgument("time_major", false), TfKeras2OnlyArgument("implementation", 2)]
public sealed class GRU : RNN<GRUCell>
{
    /// <summary>Creates the layer.</summary>
    /// <param name="units">Size of the state; positive.</param>
    /// <param name="activation">Candidate activation (default <c>tanh</c>).</param>
    /// <param name="recurrentActivation">Gate activation (default <c>sigmoid</c>).</param>
    /// <param name="useBias">Whether to add biases (default true).</param>
    /// <param name="returnSequences">Return every step's output instead of the last.</param>
    /// <param name="returnState">Also return the last state.</param>
    /// <param name="goBackwards">Process the sequence last step first (Keras' <c>go_backwards</c>).</param>
    /// <param name="resetAfter">Apply the reset gate after the recurrent product (Keras 3's default true).</param>
    /// <param name="name">Layer name; defaults to <c>gru_N</c>.</param>
    /// <param name="dropout">Input dropout rate in [0, 1) (Keras' <c>dropout</c>, default 0): one mask per sequence while training.</param>
    /// <param name="recurrentDropout">Recurrent dropout rate in [0, 1) (Keras' <c>recurrent_dropout</c>, default 0).</param>
    /// <param name="zeroOutputForMask">Masked steps output zeros instead of the previous output (default false).</param>
    /// <param name="stateful">Keras' <c>stateful</c> (default false): the last states of each sample of a batch start
    /// the same sample of the next batch, across Predict/TrainOnBatch/TestOnBatch calls and batches, until
    /// <see cref="RNN.ResetState"/>; needs a fixed batch size (<c>new Input(..., batchSize: n)</c>).</param>
    /// <exception cref="ArgumentOutOfRangeException">Units not positive, or a rate outside [0, 1).</exception>
    /// <exception cref="ArgumentException">An unknown activation.</exception>
    public GRU(int units, string activation = "tanh", string recurrentActivation = "sigmoid", bool useBias = true, bool returnSequences = false,
        bool returnState = false, bool goBackwards = false, bool resetAfter = true, string? name = null,
        double dropout = 0, double recurrentDropout = 0, bool zeroOutputForMask = false, bool stateful = false)
        : base(new GRUCell(nameof(GRU), units, activation, recurrentActivation, useBias, dropout, recurrentDropout, resetAfter, "gru_cell"),
            returnSequences, returnState, goBackwards, zeroOutputForMask, name, stateful)
    {
    }

    private GRU(GRUCell cell, RnnOptions options, string name)
        : base(cell, options, name)
    {
    }

    /// <summary>Gate activation.</summary>
    public string RecurrentActivation => Cell.RecurrentActivation;

    /// <summary>Whether the reset gate applies after the recurrent product (Keras' <c>reset_after</c>).</summary>
    public bool ResetAfter => Cell.ResetAfter;

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config (Keras 2.1's default is <c>reset_after=False</c>).</summary>
    internal static new GRU FromConfig(LayerConfig config) => new(GRUCell.FromConfig(config, nameof(GRU), "gru_cell"), ReadOptions(config), config.Name);
}
