using KerasStyle.Graph;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>Inverted dropout, active only while training, as Keras' <c>Dropout</c>.</summary>
public sealed class Dropout : Layer
{
    /// <summary>Creates a dropout layer.</summary>
    /// <param name="rate">Fraction of inputs to drop, in [0, 1).</param>
    /// <param name="name">Layer name; defaults to <c>dropout_N</c>.</param>
    public Dropout(double rate, string? name = null)
        : base(name)
    {
        if (!(rate >= 0 && rate < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(rate), rate, "Dropout: rate must be in [0, 1).");
        }

        Rate = rate;
    }

    /// <summary>Fraction of inputs dropped while training.</summary>
    public double Rate { get; }

    private protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        RequireFloat(input);
        return new[] { (input.Shape, input.DType) };
    }

    internal override IReadOnlyList<Tensor> Forward(Tensor input, bool training) =>
        new[] { training && Rate > 0 ? nn.functional.dropout(input, Rate, true) : input.alias() };
}
