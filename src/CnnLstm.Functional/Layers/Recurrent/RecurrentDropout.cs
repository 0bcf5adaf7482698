using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Keras' recurrent dropout (keras/src/layers/rnn/dropout_rnn_cell.py): one keep/drop mask per sequence, drawn when
/// the layer is called in training and reused at every step, kept values scaled by 1 / (1 - rate): on the inputs
/// (<c>dropout</c>, a (batch, features) mask) and on the previous state before the recurrent products
/// (<c>recurrent_dropout</c>, a (batch, units) mask). The masks come from the layer's own generator, not Keras' seed.
/// </summary>
internal static class RecurrentDropout
{
    /// <summary>Checks a rate the way Keras clips it: a number in [0, 1).</summary>
    public static double Check(double rate, string layer, string argument) =>
        rate >= 0 && rate < 1 ? rate : throw new ArgumentOutOfRangeException(argument, rate, $"{layer}: {argument} must be in [0, 1).");

    /// <summary>A scaled keep mask shaped like <paramref name="like"/>, or null when the rate is 0 or not training.</summary>
    public static Tensor? Mask(Tensor like, double rate, bool training, Generator random) =>
        training && rate > 0
            ? empty(like.shape, dtype: like.dtype, device: like.device).bernoulli_(1 - rate, generator: random) / (1 - rate)
            : null;
}
