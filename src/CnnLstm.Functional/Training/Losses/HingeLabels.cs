using KerasStyle.Engine;
using static TorchSharp.torch;

namespace KerasStyle.Training.Losses;

/// <summary>What <see cref="Hinge"/> and <see cref="SquaredHinge"/> share (keras/src/losses/losses.py).</summary>
internal static class HingeLabels
{
    /// <summary>
    /// max(1 - y p, 0) per entry, with y as Keras' <c>convert_binary_labels_to_hinge</c>: when every target is 0 or
    /// 1 they become -1 and 1, otherwise they are used as given (-1 and 1).
    /// </summary>
    internal static Tensor Margins(Tensor yTrue, Tensor yPred)
    {
        var binary = yTrue.eq(Scalars.Zero).logical_or(yTrue.eq(Scalars.One)).all();
        var y = where(binary, yTrue.mul(Scalars.Two).sub(Scalars.One), yTrue);
        return Scalars.OneMinus(y.mul(yPred)).clamp_min(Scalars.Zero);
    }
}
