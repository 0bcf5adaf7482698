using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using static TorchSharp.torch;

namespace KerasStyle.Training.Losses;

/// <summary>
/// Keras' <c>CosineSimilarity</c> (keras/src/losses/losses.py <c>cosine_similarity</c>): minus the sum over
/// <see cref="Axis"/> of the L2-normalised targets times the L2-normalised predictions (each x / sqrt(max(Σx², 1e-14)),
/// Keras' <c>ops.normalize</c>), between -1 (same direction) and 1, reduced by <see cref="Loss.Reduction"/>.
/// </summary>
public sealed class CosineSimilarity : Loss
{
    /// <summary>Creates the loss with Keras' arguments and defaults.</summary>
    /// <param name="axis">The axis the similarity is computed along, -1 the last (counted from the end when negative).</param>
    /// <param name="reduction">See <see cref="Loss.Reduction"/>.</param>
    /// <param name="name">The loss's name.</param>
    /// <exception cref="ArgumentException">An unknown reduction or an empty name.</exception>
    public CosineSimilarity(int axis = -1, string? reduction = "sum_over_batch_size", string name = "cosine_similarity")
        : base(reduction, name, "cosine_similarity")
    {
        Axis = axis;
    }

    /// <summary>The axis the similarity is computed along.</summary>
    public int Axis { get; }

    internal override void CheckOutput(Shape shape, string label) => CanonicalAxis(Axis, shape.Rank, label);

    internal override bool ReducesLastAxis(int rank) => CanonicalAxis(Axis, rank, string.Empty) == rank - 1;

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["axis"] = Axis;
        return config;
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor yTrue, Tensor yPred)
    {
        var axis = new long[] { Axis };
        return Normalized(yTrue, axis).mul(Normalized(yPred, axis)).sum(axis).negative();
    }

    private static Tensor Normalized(Tensor x, long[] axis) =>
        x.mul(x.pow(Scalars.IntTwo).sum(axis, keepdim: true).clamp_min(Scalars.Of(1e-14)).rsqrt());

    private protected override Loss? Defaults() => new CosineSimilarity();
}
