using static TorchSharp.torch;

namespace KerasStyle.Training;

/// <summary>
/// The arguments of eager loss and metric calls (<c>Loss.Invoke</c>, <c>Metric.UpdateState</c>): C# arrays to float32
/// tensors, and Keras' <c>squeeze_or_expand_to_same_rank</c> (keras/src/losses/loss.py).
/// </summary>
internal static class EagerArguments
{
    /// <summary>A float, double, int, long or bool array of any rank as a float32 tensor of its shape (Keras converts both targets and predictions to the loss's float32).</summary>
    /// <exception cref="ArgumentException">Another element type.</exception>
    public static Tensor ToTensor(Array array, string argument)
    {
        ArgumentNullException.ThrowIfNull(array, argument);
        var dims = Enumerable.Range(0, array.Rank).Select(d => (long)array.GetLength(d)).ToArray();
        var element = array.GetType().GetElementType()!;
        using var scope = NewDisposeScope();
        var values = element == typeof(float) ? tensor(Flat<float>(array), dims)
            : element == typeof(double) ? tensor(Flat<double>(array), dims)
            : element == typeof(int) ? tensor(Flat<int>(array), dims)
            : element == typeof(long) ? tensor(Flat<long>(array), dims)
            : element == typeof(bool) ? tensor(Flat<bool>(array), dims)
            : throw new ArgumentException($"{argument}: a {element.Name} array was given; pass float, double, int, long or bool values.", argument);
        return values.to_type(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Targets and predictions as Keras' losses and metrics take them: float32, and (unless the targets are class ids)
    /// ranks matched by <see cref="SameRank"/>, the targets then broadcasting to the predictions; class ids, one per
    /// entry of the predictions without their last axis.
    /// </summary>
    /// <exception cref="ArgumentException">Shapes that do not fit, named after <paramref name="owner"/>.</exception>
    public static (Tensor Targets, Tensor Predictions) TargetsAndPredictions(Tensor yTrue, Tensor yPred, bool classIds, string owner, int classAxis = -1)
    {
        var predictions = Float(yPred, nameof(yPred));
        var targets = Float(yTrue, nameof(yTrue));
        if (!classIds)
        {
            (targets, predictions) = SameRank(targets, predictions);
            RequireBroadcast(targets.shape, predictions.shape, $"{owner}: yTrue (after Keras' rank matching)", nameof(yTrue));
        }
        else if (predictions.dim() == 0 || classAxis < -predictions.dim() || classAxis >= predictions.dim()
            || targets.numel() * predictions.shape[(classAxis + (int)predictions.dim()) % (int)predictions.dim()] != predictions.numel())
        {
            throw new ArgumentException($"{owner}: yTrue has shape ({string.Join(", ", targets.shape)}) but yPred has shape ({string.Join(", ", predictions.shape)}); give one class id per entry of yPred without its class axis ({classAxis}).", nameof(yTrue));
        }

        return (targets, predictions);
    }

    /// <summary>A tensor as float32 (a new tensor; the caller's stays as it is), checked to be given.</summary>
    public static Tensor Float(Tensor value, string argument)
    {
        ArgumentNullException.ThrowIfNull(value, argument);
        return value.to_type(ScalarType.Float32);
    }

    /// <summary>
    /// Keras' <c>squeeze_or_expand_to_same_rank</c>: when the ranks differ by one and the longer ends in a size-1 axis,
    /// that axis is dropped, or (when the other has rank 1) a size-1 axis is added to the shorter.
    /// </summary>
    public static (Tensor First, Tensor Second) SameRank(Tensor first, Tensor second)
    {
        var (r1, r2) = (first.dim(), second.dim());
        if (r1 == r2 + 1 && first.shape[^1] == 1)
        {
            return r2 == 1 ? (first, second.unsqueeze(-1)) : (first.squeeze(-1), second);
        }

        if (r2 == r1 + 1 && second.shape[^1] == 1)
        {
            return r1 == 1 ? (first.unsqueeze(-1), second) : (first, second.squeeze(-1));
        }

        return (first, second);
    }

    /// <summary>Throws unless <paramref name="shape"/> broadcasts to <paramref name="target"/> (numpy's rules, trailing axes aligned).</summary>
    /// <exception cref="ArgumentException">It does not.</exception>
    public static void RequireBroadcast(long[] shape, long[] target, string what, string argument)
    {
        var fits = shape.Length <= target.Length
            && shape.Select((d, i) => d == 1 || d == target[target.Length - shape.Length + i]).All(ok => ok);
        if (!fits)
        {
            throw new ArgumentException($"{what} has shape ({string.Join(", ", shape)}), which does not broadcast to ({string.Join(", ", target)}).", argument);
        }
    }

    private static T[] Flat<T>(Array array)
    {
        var flat = new T[array.Length];
        var i = 0;
        foreach (T value in array)
        {
            flat[i++] = value;
        }

        return flat;
    }
}
