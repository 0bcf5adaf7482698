using KerasStyle.Layers;

namespace KerasStyle.Saving;

/// <summary>
/// Weights read from a file, checked against the model layer by layer before anything is written: a load either
/// assigns every planned layer (<see cref="Apply"/>) or throws and changes nothing.
/// </summary>
internal sealed class WeightsLoadPlan
{
    private readonly List<(Layer Layer, WeightArray[] Values)> assignments = new();
    private readonly List<Action> actions = new();

    /// <summary>Creates an empty plan.</summary>
    /// <param name="path">The file, for messages.</param>
    /// <param name="skipMismatch">Skip (with a warning) layers whose weights do not fit, instead of failing.</param>
    public WeightsLoadPlan(string path, bool skipMismatch)
    {
        Path = path;
        SkipMismatch = skipMismatch;
    }

    /// <summary>The file, for messages.</summary>
    public string Path { get; }

    /// <summary>Whether mismatching layers are skipped.</summary>
    public bool SkipMismatch { get; }

    /// <summary>How many layers will be assigned.</summary>
    public int Count => assignments.Count;

    /// <summary>
    /// Checks the stored weights of one layer (count, type and every shape) and plans their assignment. A mismatch
    /// throws a <see cref="KerasFileException"/> naming the layer, the weight and both shapes, or is skipped with a
    /// warning when <see cref="SkipMismatch"/> is set.
    /// </summary>
    /// <param name="layer">The model layer.</param>
    /// <param name="fileLayer">How the file names it (layer name or Keras 3 path).</param>
    /// <param name="stored">The stored weights in order, with their names in the file.</param>
    public void Add(Layer layer, string fileLayer, IReadOnlyList<H5Array> stored)
    {
        var what = $"layer '{layer.Name}' ({layer.ClassName}, stored as '{fileLayer}')";
        if (stored.Count != layer.Weights.Count)
        {
            Mismatch(new KerasFileException(Path,
                $"{what} has {layer.Weights.Count} weights ({Describe(layer.Weights.Select(w => (w.Name, WeightArray.ShapeText(w.Shape))))}), but the file stores {stored.Count} ({Describe(stored.Select(s => (s.Path, s.ShapeText)))}).")
            {
                Layer = layer.Name,
            });
            return;
        }

        for (var i = 0; i < stored.Count; i++)
        {
            var weight = layer.Weights[i];
            if (!stored[i].IsFloat && !weight.Integer)
            {
                throw new KerasFileException(Path, $"{what}: weight '{weight.Name}' is stored in '{stored[i].Path}' as integers; weights must be floating point.")
                {
                    Layer = layer.Name,
                    Weight = weight.Name,
                };
            }

            if (!stored[i].Shape.SequenceEqual(weight.Shape))
            {
                Mismatch(new KerasFileException(Path,
                    $"{what}: weight '{weight.Name}' has shape {WeightArray.ShapeText(weight.Shape)} in the model, but '{stored[i].Path}' in the file has shape {stored[i].ShapeText}.")
                {
                    Layer = layer.Name,
                    Weight = weight.Name,
                    ExpectedShape = weight.Shape.ToArray(),
                    FileShape = stored[i].Shape,
                });
                return;
            }
        }

        // An integer variable (Normalization's count) reads integer datasets as floats.
        assignments.Add((layer, stored.Select(s => s.IsFloat ? s.ToWeight() : new WeightArray(s.Shape, s.Integers!.Select(v => (float)v).ToArray())).ToArray()));
    }

    /// <summary>Plans a state change that is not a weight (a lookup's idf weights), already checked; run by <see cref="Apply"/>.</summary>
    public void AddAction(Action action) => actions.Add(action);

    /// <summary>Writes every planned layer's weights, then the other planned state.</summary>
    public void Apply()
    {
        foreach (var (layer, values) in assignments)
        {
            layer.AssignWeights(values, 0);
        }

        foreach (var action in actions)
        {
            action();
        }
    }

    /// <summary>Throws, or warns when mismatches are skipped.</summary>
    public void Mismatch(KerasFileException problem)
    {
        if (!SkipMismatch)
        {
            throw problem;
        }

        Warnings.Warn($"{problem.Message} Skipped (skipMismatch): the layer keeps its current weights.");
    }

    private static string Describe(IEnumerable<(string Name, string Shape)> weights) => string.Join(", ", weights.Select(w => $"{w.Name} {w.Shape}"));
}
