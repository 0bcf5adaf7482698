namespace KerasStyle.Training.Data;

/// <summary>
/// One batch a <see cref="DataSource"/> supplies, as a Keras 3 <c>PyDataset.__getitem__</c> returns it:
/// inputs, targets and optional per-sample weights.
/// </summary>
/// <param name="X">The inputs: one array or tensor per model input, all with the batch's samples first.</param>
/// <param name="Y">The targets, one per output; null when the source feeds only <c>Predict</c>.</param>
/// <param name="SampleWeight">One weight per sample of the batch, or null.</param>
public sealed record DataBatch(ModelData X, ModelData? Y = null, float[]? SampleWeight = null);
