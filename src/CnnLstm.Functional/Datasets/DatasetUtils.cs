using KerasStyle.Training;
using KerasStyle.Training.Data;

namespace KerasStyle.Datasets;

/// <summary>
/// Keras' <c>keras.utils.split_dataset</c> (Keras 3.16 <c>keras/src/utils/dataset_utils.py</c>, its tf.data path
/// <c>_split_dataset_tf</c> and <c>_rescale_dataset_split_sizes</c>).
/// </summary>
public static class DatasetUtils
{
    /// <summary>
    /// Splits a tuple of arrays of the same length (Keras' list/tuple of NumPy arrays) into a left and a right part:
    /// the first <c>left</c> samples and the last <c>right</c> samples (samples in between, when the two sizes add up
    /// to fewer than all, are in neither, as in Keras), after shuffling the samples when asked.
    /// </summary>
    /// <param name="arrays">The arrays (e.g. inputs and targets), the samples on axis 0 of each.</param>
    /// <param name="leftSize">A count (<c>int</c>, 1 to n - 1) or a fraction (<c>double</c>, strictly between 0 and 1,
    /// rounded half to even as Python's <c>round</c>) of the samples for the left part; null: the complement of
    /// <paramref name="rightSize"/>.</param>
    /// <param name="rightSize">The same for the right part; null: the complement of <paramref name="leftSize"/>.</param>
    /// <param name="shuffle">Whether to shuffle the samples first: the order of Python's <c>random.seed(seed);
    /// random.shuffle(samples)</c>, as Keras' tf.data path draws it (Keras' torch-backend path instead draws
    /// <c>torch.utils.data.random_split</c>, which shuffles even when <c>shuffle=False</c>; the tf.data path is followed).</param>
    /// <param name="seed">The shuffle seed; null draws one.</param>
    /// <returns>The left and right parts: new arrays of the same element types and sample shapes (Keras returns
    /// <c>tf.data.Dataset</c>s of them).</returns>
    /// <exception cref="ArgumentException">No array, an array without a sample axis, arrays of different lengths,
    /// no sample, neither size given, or sizes Keras refuses (messages as Keras').</exception>
    public static (Array[] Left, Array[] Right) SplitDataset(Array[] arrays, SplitSize? leftSize = null, SplitSize? rightSize = null, bool shuffle = false, int? seed = null)
    {
        ArgumentNullException.ThrowIfNull(arrays);
        if (arrays.Length == 0)
        {
            throw new ArgumentException("SplitDataset: Received an empty list dataset. Please provide a non-empty tuple of arrays.", nameof(arrays));
        }

        for (var i = 0; i < arrays.Length; i++)
        {
            if (arrays[i] is null || arrays[i].Rank == 0)
            {
                throw new ArgumentException($"SplitDataset: Expected a tuple of arrays with the samples on axis 0; array {i} is {(arrays[i] is null ? "null" : "a scalar")}.", nameof(arrays));
            }

            if (arrays[i].GetLength(0) != arrays[0].GetLength(0))
            {
                throw new ArgumentException($"SplitDataset: Received a tuple of arrays with different lengths. Mismatch found at index {i}, Expected shape={Python(SampleArrays.Shape(arrays[0]))} Received shape={Python(SampleArrays.Shape(arrays[i]))}. Please provide a tuple of arrays of the same length.", nameof(arrays));
            }
        }

        var (left, right) = Indices(arrays[0].GetLength(0), leftSize, rightSize, shuffle, seed);
        return (arrays.Select(a => SampleArrays.Take(a, left)).ToArray(), arrays.Select(a => SampleArrays.Take(a, right)).ToArray());
    }

    /// <summary>Splits one array (Keras' single NumPy array) as <see cref="SplitDataset(Array[], SplitSize?, SplitSize?, bool, int?)"/> does.</summary>
    /// <param name="array">The samples on axis 0.</param>
    /// <param name="leftSize">A count or a fraction for the left part; null: the complement.</param>
    /// <param name="rightSize">A count or a fraction for the right part; null: the complement.</param>
    /// <param name="shuffle">Whether to shuffle first (Python's <c>random.shuffle</c> order).</param>
    /// <param name="seed">The shuffle seed; null draws one.</param>
    /// <returns>The left and right samples.</returns>
    /// <exception cref="ArgumentException">As for a tuple of arrays.</exception>
    public static (Array Left, Array Right) SplitDataset(Array array, SplitSize? leftSize = null, SplitSize? rightSize = null, bool shuffle = false, int? seed = null)
    {
        ArgumentNullException.ThrowIfNull(array);
        var (left, right) = SplitDataset(new[] { array }, leftSize, rightSize, shuffle, seed);
        return (left[0], right[0]);
    }

    /// <summary>
    /// Splits a <see cref="DataSource"/> with a known <see cref="DataSource.Count"/>, as Keras splits a batched
    /// <c>tf.data.Dataset</c>: every batch is read once (in index order) and unbatched into samples, the samples are
    /// split as <see cref="SplitDataset(Array[], SplitSize?, SplitSize?, bool, int?)"/> splits arrays, and each part is
    /// batched again with the source's batch size (the first batch's sample count, Keras' <c>_batch_size</c>). Inputs,
    /// targets and sample weights stay together. Keras' note holds: this is for data that fits in memory.
    /// </summary>
    /// <param name="dataset">The source; its batches may hold arrays or tensors (read into arrays).</param>
    /// <param name="leftSize">A count or a fraction for the left part; null: the complement.</param>
    /// <param name="rightSize">A count or a fraction for the right part; null: the complement.</param>
    /// <param name="shuffle">Whether to shuffle the samples first (Python's <c>random.shuffle</c> order).</param>
    /// <param name="seed">The shuffle seed; null draws one.</param>
    /// <returns>Two in-memory sources.</returns>
    /// <exception cref="ArgumentException">The source's count is unknown or 0, its batches do not agree (number of
    /// inputs or targets, sample shapes, element types, weights on some only; Keras: "All `dataset` samples must have
    /// same shape"), or the sizes are refused.</exception>
    public static (ArrayDataSource Left, ArrayDataSource Right) SplitDataset(DataSource dataset, SplitSize? leftSize = null, SplitSize? rightSize = null, bool shuffle = false, int? seed = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        var count = dataset.Count ?? throw new ArgumentException($"SplitDataset: the data source {dataset.GetType().Name} has no known Count (a sequence source); only a source of known length can be split.", nameof(dataset));
        if (count == 0)
        {
            throw new ArgumentException("SplitDataset: Received an empty dataset. Argument `dataset` must be a non-empty data source.", nameof(dataset));
        }

        List<Array>[]? x = null;
        List<Array>[]? y = null;
        var weights = new List<float[]>();
        var batchSize = 0;
        for (var b = 0; b < count; b++)
        {
            var batch = dataset.GetBatch(b) ?? throw new ArgumentException($"SplitDataset: the data source's batch {b} is null.", nameof(dataset));
            var bx = Read(batch.X, $"SplitDataset: batch {b}'s inputs");
            var by = batch.Y is null ? null : Read(batch.Y, $"SplitDataset: batch {b}'s targets");
            x ??= bx.Select(_ => new List<Array>()).ToArray();
            if (b == 0)
            {
                y = by?.Select(_ => new List<Array>()).ToArray();
                batchSize = bx[0].GetLength(0);
            }

            Add(x, bx, b, "inputs");
            if ((y is null) != (by is null))
            {
                throw new ArgumentException($"SplitDataset: batch {b} {(by is null ? "has no targets" : "has targets")} but batch 0 {(y is null ? "has none" : "has them")}; all samples must have the same structure.", nameof(dataset));
            }

            if (y is not null)
            {
                Add(y, by!, b, "targets");
            }

            var n = bx[0].GetLength(0);
            if ((batch.SampleWeight is null) != (b == 0 ? batch.SampleWeight is null : weights.Count == 0))
            {
                throw new ArgumentException($"SplitDataset: batch {b} {(batch.SampleWeight is null ? "has no sample weights" : "has sample weights")} unlike batch 0; all samples must have the same structure.", nameof(dataset));
            }

            if (batch.SampleWeight is not null)
            {
                if (batch.SampleWeight.Length != n)
                {
                    throw new ArgumentException($"SplitDataset: batch {b} has {batch.SampleWeight.Length} sample weights for {n} samples.", nameof(dataset));
                }

                weights.Add(batch.SampleWeight);
            }
        }

        var xs = x!.Select(parts => SampleArrays.Concatenate(parts)).ToArray();
        var ys = y?.Select(parts => SampleArrays.Concatenate(parts)).ToArray();
        var total = xs[0].GetLength(0);
        if (total == 0)
        {
            throw new ArgumentException("SplitDataset: Received an empty dataset. Argument `dataset` must be a non-empty data source.", nameof(dataset));
        }

        var w = weights.Count == 0 ? null : weights.SelectMany(v => v).ToArray();
        var (left, right) = Indices(total, leftSize, rightSize, shuffle, seed);
        ArrayDataSource Part(int[] rows) => new(
            xs.Select(a => SampleArrays.Take(a, rows)).ToArray(),
            ys?.Select(a => SampleArrays.Take(a, rows)).ToArray(),
            w is null ? null : rows.Select(r => w[r]).ToArray(),
            Math.Max(1, batchSize),
            dataset.Workers,
            dataset.MaxQueueSize);
        return (Part(left), Part(right));
    }

    /// <summary>
    /// Keras' <c>_rescale_dataset_split_sizes</c>: the left and right sample counts for <paramref name="total"/>
    /// samples, or Keras' errors (as <see cref="ArgumentException"/>).
    /// </summary>
    internal static (int Left, int Right) RescaleSizes(SplitSize? leftSize, SplitSize? rightSize, int total)
    {
        if (leftSize is null && rightSize is null)
        {
            throw new ArgumentException("SplitDataset: At least one of the `left_size` or `right_size` must be specified. Received: left_size=None and right_size=None");
        }

        if (leftSize is { Value: 0 } && rightSize is { Value: 0 })
        {
            throw new ArgumentException("SplitDataset: Both `left_size` and `right_size` are zero. At least one of the split sizes must be non-zero.");
        }

        if (leftSize is { } l && (double.IsNaN(l.Value) || (l.IsFraction ? l.Value <= 0 || l.Value >= 1 : l.Value <= 0 || l.Value >= total)))
        {
            throw new ArgumentException($"SplitDataset: `left_size` should be either a positive integer smaller than {total}, or a float within the range `[0, 1]`. Received: left_size={l}", nameof(leftSize));
        }

        if (rightSize is { } r && (double.IsNaN(r.Value) || (r.IsFraction ? r.Value <= 0 || r.Value >= 1 : r.Value <= 0 || r.Value >= total)))
        {
            throw new ArgumentException($"SplitDataset: `right_size` should be either a positive integer and smaller than {total} or a float within the range `[0, 1]`. Received: right_size={r}", nameof(rightSize));
        }

        if (leftSize is { IsFraction: true } lf && rightSize is { IsFraction: true } rf && rf.Value + lf.Value > 1)
        {
            throw new ArgumentException("SplitDataset: The sum of `left_size` and `right_size` is greater than 1. It must be less than or equal to 1.");
        }

        static double? Count(SplitSize? size, int total) => size is not { } s ? null : s.IsFraction ? Math.Round(s.Value * total, MidpointRounding.ToEven) : s.Value;
        var left = Count(leftSize, total);
        var right = Count(rightSize, total);
        left ??= total - right!.Value;
        right ??= total - left.Value;
        if (left + right > total)
        {
            throw new ArgumentException($"SplitDataset: The sum of `left_size` and `right_size` should be smaller than the {total}. Received: left_size + right_size = {SplitSize.PythonFloat(left.Value + right.Value)} and total_length = {total}");
        }

        foreach (var (split, side) in new[] { (left.Value, "left"), (right.Value, "right") })
        {
            if (split == 0)
            {
                throw new ArgumentException($"SplitDataset: With `dataset` of length={total}, `left_size`={(long)left.Value} and `right_size`={(long)right.Value}. Resulting {side} side dataset split will be empty. Adjust any of the aforementioned parameters");
            }
        }

        return ((int)left.Value, (int)right.Value);
    }

    private static (int[] Left, int[] Right) Indices(int total, SplitSize? leftSize, SplitSize? rightSize, bool shuffle, int? seed)
    {
        if (total == 0)
        {
            throw new ArgumentException("SplitDataset: Received an empty dataset. Argument `dataset` must be a non-empty list/tuple of arrays.");
        }

        var (left, right) = RescaleSizes(leftSize, rightSize, total);
        var order = Enumerable.Range(0, total).ToArray();
        if (shuffle)
        {
            MersenneTwister.Python(seed ?? Random.Shared.Next(0, 1_000_001)).PythonShuffle(order);
        }

        return (order[..left], order[^right..]);
    }

    private static Array[] Read(ModelData data, string who)
    {
        var arrays = data.Arrays ?? data.Tensors!.Select(t => SampleArrays.FromTensor(t, who)).ToArray();
        if (arrays.Count == 0 || arrays.Any(a => a.Rank == 0) || arrays.Any(a => a.GetLength(0) != arrays[0].GetLength(0)))
        {
            throw new ArgumentException($"{who}: expected one or more arrays with the same number of samples on axis 0; got shapes {string.Join(", ", arrays.Select(a => Python(SampleArrays.Shape(a))))}.", "dataset");
        }

        return arrays.ToArray();
    }

    private static void Add(List<Array>[] lists, Array[] batch, int index, string what)
    {
        if (batch.Length != lists.Length)
        {
            throw new ArgumentException($"SplitDataset: batch {index} has {batch.Length} {what} arrays but batch 0 has {lists.Length}; all samples must have the same structure.", "dataset");
        }

        for (var i = 0; i < batch.Length; i++)
        {
            if (lists[i].Count > 0)
            {
                var first = lists[i][0];
                var expected = SampleArrays.Shape(first)[1..];
                var got = SampleArrays.Shape(batch[i])[1..];
                if (!expected.SequenceEqual(got) || first.GetType() != batch[i].GetType())
                {
                    throw new ArgumentException($"SplitDataset: All `dataset` samples must have same shape, Expected shape: {Python(expected)} ({first.GetType().GetElementType()!.Name}) Received shape: {Python(got)} ({batch[i].GetType().GetElementType()!.Name}) in {what} array {i} of batch {index}.", "dataset");
                }
            }

            lists[i].Add(batch[i]);
        }
    }

    internal static string Python(IReadOnlyList<int> shape) => shape.Count == 1 ? $"({shape[0]},)" : $"({string.Join(", ", shape)})";
}
