using static TorchSharp.torch;

namespace KerasStyle.Training;

/// <summary>
/// Data for <c>Fit</c>, <c>Evaluate</c> and <c>TrainOnBatch</c>: one C# array or TorchSharp tensor per model input
/// (or output, for targets). Converts implicitly from <see cref="Array"/> (float[,,], float[,], float[], int[,],
/// long[,], ...), <see cref="Tensor"/>, and arrays or lists of either for several inputs.
/// </summary>
public sealed class ModelData
{
    private ModelData(IReadOnlyList<Array>? arrays, IReadOnlyList<Tensor>? tensors)
    {
        Arrays = arrays;
        Tensors = tensors;
    }

    /// <summary>The arrays, when the data came as C# arrays.</summary>
    public IReadOnlyList<Array>? Arrays { get; }

    /// <summary>The tensors, when the data came as TorchSharp tensors (not owned: never disposed here).</summary>
    public IReadOnlyList<Tensor>? Tensors { get; }

    /// <summary>How many arrays or tensors there are.</summary>
    public int Count => Arrays?.Count ?? Tensors!.Count;

    /// <summary>One array.</summary>
    /// <param name="array">The data.</param>
    public static implicit operator ModelData(Array array) => FromArrays(new[] { array });

    /// <summary>One array per model input or output.</summary>
    /// <param name="arrays">The data.</param>
    public static implicit operator ModelData(Array[] arrays) => FromArrays(arrays);

    /// <summary>One array per model input or output.</summary>
    /// <param name="arrays">The data.</param>
    public static implicit operator ModelData(List<Array> arrays) => FromArrays(arrays);

    /// <summary>One tensor.</summary>
    /// <param name="tensor">The data.</param>
    public static implicit operator ModelData(Tensor tensor) => FromTensors(new[] { tensor });

    /// <summary>One tensor per model input or output.</summary>
    /// <param name="tensors">The data.</param>
    public static implicit operator ModelData(Tensor[] tensors) => FromTensors(tensors);

    /// <summary>One tensor per model input or output.</summary>
    /// <param name="tensors">The data.</param>
    public static implicit operator ModelData(List<Tensor> tensors) => FromTensors(tensors);

    /// <summary>Wraps arrays.</summary>
    /// <param name="arrays">One array per model input or output.</param>
    public static ModelData FromArrays(IReadOnlyList<Array> arrays)
    {
        ArgumentNullException.ThrowIfNull(arrays);
        if (arrays.Any(a => a is null))
        {
            throw new ArgumentNullException(nameof(arrays), "ModelData: an array is null.");
        }

        return new ModelData(arrays.ToArray(), null);
    }

    /// <summary>Wraps tensors (the caller keeps ownership).</summary>
    /// <param name="tensors">One tensor per model input or output.</param>
    public static ModelData FromTensors(IReadOnlyList<Tensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        if (tensors.Any(t => t is null))
        {
            throw new ArgumentNullException(nameof(tensors), "ModelData: a tensor is null.");
        }

        return new ModelData(null, tensors.ToArray());
    }
}
