using KerasStyle.Layers;

namespace KerasStyle.Training.Optimizers;

/// <summary>
/// An optimizer's saved state, as Keras 3 stores it in <c>optimizer/vars</c>: the step count, the learning rate and,
/// once built, the slots of every trainable weight (one array per slot name, Keras layout).
/// </summary>
/// <param name="Iterations">Updates applied so far.</param>
/// <param name="LearningRate">The current learning rate.</param>
/// <param name="Slots">Per weight, one value per slot name; null when the optimizer has not been used yet.</param>
/// <param name="InterleavedSlots">How many of the optimizer's first slots Keras stores weight by weight (see <see cref="KerasIndex(int, int, int, int)"/>).</param>
/// <param name="LeadingSlots">How many slots come first from Keras' base <c>build</c> (<c>average</c> with EMA,
/// <c>gradient_accumulator</c> with gradient accumulation), each stored for every weight in turn before the
/// optimizer's own.</param>
/// <param name="Extras">The optimizer's own scalar variables Keras saves after the slots (Nadam's <c>u_product</c>); null or empty when it has none.</param>
internal sealed record OptimizerState(long Iterations, double LearningRate, IReadOnlyList<WeightArray[]>? Slots, int InterleavedSlots = 1, int LeadingSlots = 0, IReadOnlyList<float>? Extras = null)
{
    /// <summary>Whether the rate comes from a learning-rate schedule: Keras then keeps no learning_rate variable.</summary>
    public bool Scheduled { get; init; }

    /// <summary>
    /// <see cref="KerasIndex(int, int, int, int)"/> after <paramref name="leading"/> base slots (EMA averages, gradient
    /// accumulators), which Keras' base <c>build</c> adds for every weight in turn before the optimizer's own.
    /// </summary>
    public static int KerasIndex(int weight, int slot, int weights, int interleaved, int leading) =>
        slot < leading ? (slot * weights) + weight : (leading * weights) + KerasIndex(weight, slot - leading, weights, interleaved);

    /// <summary>
    /// The position of slot <paramref name="slot"/> of weight <paramref name="weight"/> among Keras' optimizer variables
    /// after iterations and learning_rate: the first <paramref name="interleaved"/> slots weight by weight (Adam's m0,
    /// v0, m1, v1...), then each later slot for every weight in turn (Adam's velocity_hat, RMSprop's momentum), as
    /// Keras' <c>add_optimizer_variables</c> calls in <c>build</c> create them.
    /// </summary>
    public static int KerasIndex(int weight, int slot, int weights, int interleaved) =>
        slot < interleaved ? (weight * interleaved) + slot : (weights * interleaved) + ((slot - interleaved) * weights) + weight;

    /// <summary>The slots in Keras' variable order, then the optimizer's own scalars (<see cref="Extras"/>) once built.</summary>
    public IEnumerable<WeightArray> InKerasOrder()
    {
        var slots = Slots ?? Array.Empty<WeightArray[]>();
        var ordered = new WeightArray[slots.Sum(s => s.Length)];
        for (var w = 0; w < slots.Count; w++)
        {
            for (var s = 0; s < slots[w].Length; s++)
            {
                ordered[KerasIndex(w, s, slots.Count, InterleavedSlots, LeadingSlots)] = slots[w][s];
            }
        }

        return Slots is null || Extras is null ? ordered : ordered.Concat(Extras.Select(x => new WeightArray(Array.Empty<int>(), new[] { x })));
    }
}
