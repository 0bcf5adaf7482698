using KerasStyle.Saving;

namespace KerasStyle.Layers;

/// <summary>
/// A convolutional LSTM over sequences of 1-D signals, as Keras' <c>keras.layers.ConvLSTM1D</c> (keras/src/layers/rnn/conv_lstm1d.py over conv_lstm.py): an LSTM whose
/// input and recurrent products are 1-D convolutions (see <see cref="ConvLSTM"/>). Input (batch, steps, length, channels)
/// (<c>channels_last</c>; <c>channels_first</c> puts the channels after the steps). Output (batch, out spatial...,
/// filters), or (batch, steps, out spatial..., filters) with <c>returnSequences</c>; with <c>returnState</c> also the
/// last h and c, each (batch, out spatial..., filters). Parameters: kernel (kernel..., channels, 4 filters),
/// recurrent_kernel (kernel..., filters, 4 filters), bias (4 filters).
/// </summary>
[KerasLayer("ConvLSTM1D"), Keras3OnlyArgument("seed", null), TfKeras2OnlyArgument("time_major", false)]
public sealed class ConvLSTM1D : ConvLSTM
{
    /// <summary>Creates the layer.</summary>
    /// <param name="filters">Output channels; positive.</param>
    /// <param name="kernelSize">Window length; positive.</param>
    /// <param name="strides">Stride of the input convolution (default 1).</param>
    /// <param name="padding"><c>valid</c> (default) or <c>same</c> (TensorFlow's split: the extra pad after).</param>
    /// <param name="dataFormat"><c>channels_last</c> (default) or <c>channels_first</c>.</param>
    /// <param name="dilationRate">Dilation of the input convolution (default 1).</param>
    /// <param name="activation">Activation of the candidate and output (default <c>tanh</c>).</param>
    /// <param name="recurrentActivation">Gate activation (default <c>sigmoid</c>).</param>
    /// <param name="useBias">Whether the gates have a bias (default true).</param>
    /// <param name="unitForgetBias">Whether the forget-gate bias starts at 1 (default true).</param>
    /// <param name="dropout">Input dropout rate in [0, 1) (default 0): four masks the shape of a step's input, one per gate, per call while training.</param>
    /// <param name="recurrentDropout">Recurrent dropout rate in [0, 1) (default 0): four masks the shape of h, per call while training.</param>
    /// <param name="returnSequences">Return every step's output (default false: the last).</param>
    /// <param name="returnState">Also return the last h and c (default false; use <see cref="Layer.CallMulti(Graph.KerasTensor)"/>).</param>
    /// <param name="goBackwards">Process the sequence last step first (default false; outputs in processing order, as Keras).</param>
    /// <param name="stateful">Keras' <c>stateful</c> (default false): each sample's last states start the same sample of the next batch, across calls, until <see cref="RNN.ResetState"/>; needs a fixed batch size.</param>
    /// <param name="name">Layer name; defaults to <c>conv_lst_m1d_N</c> (Keras 2's default name; Keras 3 names it <c>conv_lstm1d_N</c>).</param>
    /// <param name="zeroOutputForMask">Masked steps output zeros instead of the previous output (Keras' <c>zero_output_for_mask</c>, which ConvLSTM takes through RNN's arguments; default false; <see cref="Bidirectional"/> sets it on its copies that return sequences).</param>
    /// <exception cref="ArgumentOutOfRangeException">A size not positive, or a rate outside [0, 1).</exception>
    /// <exception cref="ArgumentException">Unknown padding, data format or activation, or strides and dilation both above 1 (Keras refuses it too).</exception>
    public ConvLSTM1D(int filters, int kernelSize, int strides = 1, string padding = "valid", string dataFormat = "channels_last", int dilationRate = 1,
        string activation = "tanh", string recurrentActivation = "sigmoid", bool useBias = true, bool unitForgetBias = true, double dropout = 0, double recurrentDropout = 0,
        bool returnSequences = false, bool returnState = false, bool goBackwards = false, bool stateful = false, string? name = null, bool zeroOutputForMask = false)
        : base(1, nameof(ConvLSTM1D), filters, new[] { kernelSize }, new[] { strides }, padding, dataFormat, new[] { dilationRate }, activation, recurrentActivation, useBias, unitForgetBias, dropout, recurrentDropout, returnSequences, returnState, goBackwards, stateful, name, zeroOutputForMask)
    {
    }

    /// <summary>Creates the layer from a Keras 3 or tf.keras 2 config.</summary>
    internal static new ConvLSTM1D FromConfig(LayerConfig config)
    {
        var a = ReadConfig(config, 1, nameof(ConvLSTM1D));
        return new ConvLSTM1D(a.Filters, a.KernelSize[0], a.Strides[0], a.Padding, a.DataFormat ?? "channels_last", a.DilationRate[0],
            a.Activation, a.RecurrentActivation, a.UseBias, a.UnitForgetBias, a.Dropout, a.RecurrentDropout, a.ReturnSequences, a.ReturnState, a.GoBackwards, a.Stateful, a.Name, a.ZeroOutputForMask)
        {
            KernelInitializer = a.KernelInitializer,
            RecurrentInitializer = a.RecurrentInitializer,
            BiasInitializer = a.BiasInitializer,
            KernelRegularizer = a.KernelRegularizer,
            RecurrentRegularizer = a.RecurrentRegularizer,
            BiasRegularizer = a.BiasRegularizer,
            KernelConstraint = a.KernelConstraint,
            RecurrentConstraint = a.RecurrentConstraint,
            BiasConstraint = a.BiasConstraint,
        };
    }
}
