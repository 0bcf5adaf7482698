using KerasStyle.Layers;

namespace KerasStyle.Training.Optimizers;

/// <summary>
/// An optimizer's saved state, as Keras 3 stores it in <c>optimizer/vars</c>: the step count, the learning rate and,
/// once built, the slots of every trainable weight (one array per slot name, Keras layout).
/// </summary>
/// <param name="Iterations">Updates applied so far.</param>
/// <param name="LearningRate">The current learning rate.</param>
/// <param name="Slots">Per weight, one value per slot name; null when the optimizer has not been used yet.</param>
internal sealed record OptimizerState(long Iterations, double LearningRate, IReadOnlyList<WeightArray[]>? Slots);
