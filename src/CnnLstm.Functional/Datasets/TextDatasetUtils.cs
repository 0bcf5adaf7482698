namespace KerasStyle.Datasets;

/// <summary>Keras' <c>keras.utils.text_dataset_from_directory</c> (Keras 3.16
/// <c>keras/src/utils/text_dataset_utils.py</c>, with <c>dataset_utils.index_directory</c>,
/// <c>get_training_or_validation_split</c> and <c>check_validation_split_arg</c>).</summary>
public static class TextDatasetUtils
{
    private const string Who = "TextDatasetFromDirectory";

    /// <summary>
    /// The <c>.txt</c> files of a folder (extension matched without regard to case) as a <see cref="TextDataset"/>
    /// of batches of texts and labels. With inferred labels each subfolder (not starting with a dot) is a class, in
    /// sorted order (or <paramref name="classNames"/>' order), and its files (its subfolders' too) carry its index;
    /// files directly in the folder are not used. Without labels, or with given labels, every <c>.txt</c> file of the
    /// tree is used. The order is Keras': see <c>index_directory</c>'s rules in docs/training.md; then, when
    /// shuffling, NumPy's <c>RandomState(seed).shuffle</c> of the files, as Keras draws it, so that the same seed
    /// puts the same files in the training and validation subsets as Keras does. Keras then also passes the training
    /// files through <c>tf.data</c>'s shuffle buffer (order drawn by TensorFlow, not reproduced): the files in each
    /// batch differ from Keras'.
    /// </summary>
    /// <param name="directory">The folder. Nothing outside it is read unless <paramref name="followLinks"/>: a symbolic
    /// link to a file or class folder outside is refused.</param>
    /// <param name="labels"><see cref="DirectoryLabels.Inferred"/> (default, <c>"inferred"</c>), null /
    /// <see cref="DirectoryLabels.None"/> (no labels), or <see cref="DirectoryLabels.Of"/> one integer per file in the
    /// files' sorted order.</param>
    /// <param name="labelMode"><c>"int"</c> (default: <c>int[]</c>), <c>"categorical"</c> (one-hot <c>float[,]</c>),
    /// <c>"binary"</c> (<c>float[,]</c> (batch, 1); exactly 2 classes), or null (no labels).</param>
    /// <param name="classNames">With inferred labels only: the classes to use (a subset of the subfolders) in this order.</param>
    /// <param name="batchSize">Texts per batch (default 32); null: batches of one text (Keras yields single samples).</param>
    /// <param name="maxLength">Keep at most this many UTF-8 bytes of each file (Keras' <c>max_length</c>, counted in
    /// bytes by <c>tf.strings.substr</c>); null keeps all.</param>
    /// <param name="shuffle">Whether to shuffle the files (default true); false keeps the sorted order.</param>
    /// <param name="seed">The shuffle seed (0 to 2^32 - 1); null draws one below 10^6, as Keras.</param>
    /// <param name="validationSplit">The fraction (strictly between 0 and 1) of the files kept for validation: the
    /// last <c>int(split * n)</c> files after the shuffle; null or 0 (Keras' falsy value): no split.</param>
    /// <param name="subset"><c>"training"</c> or <c>"validation"</c> with <paramref name="validationSplit"/>;
    /// <c>"both"</c> is <see cref="TextDatasetFromDirectoryBoth"/> (it returns two datasets).</param>
    /// <param name="followLinks">Whether to walk into linked subfolders (and read links leading outside the folder).
    /// A link back to a folder being walked is skipped (Python's <c>os.walk</c> would loop).</param>
    /// <returns>The dataset; <see cref="TextDataset.ClassNames"/> is Keras' <c>class_names</c>.</returns>
    /// <exception cref="ArgumentException">An argument Keras refuses (Keras' messages), given labels out of range for
    /// <c>"categorical"</c> (Keras' <c>tf.one_hot</c> would give a row of zeros; refused here), or no files.</exception>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="UnauthorizedAccessException">A symbolic link leads outside the folder and <paramref name="followLinks"/> is false.</exception>
    public static TextDataset TextDatasetFromDirectory(
        string directory,
        DirectoryLabels labels = default,
        string? labelMode = "int",
        IReadOnlyList<string>? classNames = null,
        int? batchSize = 32,
        int? maxLength = null,
        bool shuffle = true,
        long? seed = null,
        double? validationSplit = null,
        string? subset = null,
        bool followLinks = false)
    {
        if (subset == "both")
        {
            throw new ArgumentException($"{Who}: subset \"both\" returns two datasets; call TextDatasetUtils.TextDatasetFromDirectoryBoth.", nameof(subset));
        }

        var (paths, fileLabels, names, mode, realSeed) = Prepare(directory, labels, labelMode, classNames, batchSize, maxLength, shuffle, seed, validationSplit, subset, followLinks);
        var (p, l) = Subset(paths, fileLabels, validationSplit, subset);
        if (p.Count == 0)
        {
            throw new ArgumentException($"{Who}: No text files found in directory {directory}. Allowed format: .txt", nameof(directory));
        }

        return new TextDataset(p, l, names, mode, batchSize, maxLength, shuffle, realSeed);
    }

    /// <summary>
    /// Keras' <c>subset="both"</c>: the training and validation datasets of one index of the folder, as
    /// <see cref="TextDatasetFromDirectory"/> makes each (the validation one is not reshuffled, as in Keras).
    /// </summary>
    /// <param name="directory">The folder.</param>
    /// <param name="validationSplit">The fraction kept for validation, strictly between 0 and 1.</param>
    /// <param name="labels">As <see cref="TextDatasetFromDirectory"/>.</param>
    /// <param name="labelMode">As <see cref="TextDatasetFromDirectory"/>.</param>
    /// <param name="classNames">As <see cref="TextDatasetFromDirectory"/>.</param>
    /// <param name="batchSize">As <see cref="TextDatasetFromDirectory"/>.</param>
    /// <param name="maxLength">As <see cref="TextDatasetFromDirectory"/>.</param>
    /// <param name="shuffle">As <see cref="TextDatasetFromDirectory"/>.</param>
    /// <param name="seed">Required when shuffling (Keras' rule).</param>
    /// <param name="followLinks">As <see cref="TextDatasetFromDirectory"/>.</param>
    /// <returns>The two datasets, with the same class names.</returns>
    /// <exception cref="ArgumentException">As <see cref="TextDatasetFromDirectory"/>; or either subset has no file.</exception>
    public static (TextDataset Training, TextDataset Validation) TextDatasetFromDirectoryBoth(
        string directory,
        double validationSplit,
        DirectoryLabels labels = default,
        string? labelMode = "int",
        IReadOnlyList<string>? classNames = null,
        int? batchSize = 32,
        int? maxLength = null,
        bool shuffle = true,
        long? seed = null,
        bool followLinks = false)
    {
        var (paths, fileLabels, names, mode, realSeed) = Prepare(directory, labels, labelMode, classNames, batchSize, maxLength, shuffle, seed, validationSplit, "both", followLinks);
        var (tp, tl) = Subset(paths, fileLabels, validationSplit, "training");
        var (vp, vl) = Subset(paths, fileLabels, validationSplit, "validation");
        if (tp.Count == 0)
        {
            throw new ArgumentException($"{Who}: No training text files found in directory {directory}. Allowed format: .txt", nameof(directory));
        }

        if (vp.Count == 0)
        {
            throw new ArgumentException($"{Who}: No validation text files found in directory {directory}. Allowed format: .txt", nameof(directory));
        }

        return (new TextDataset(tp, tl, names, mode, batchSize, maxLength, shuffle, realSeed), new TextDataset(vp, vl, names, mode, batchSize, maxLength, false, realSeed));
    }

    private static (List<string> Paths, List<int>? Labels, List<string>? Names, string? Mode, uint Seed) Prepare(
        string directory, DirectoryLabels labels, string? labelMode, IReadOnlyList<string>? classNames, int? batchSize, int? maxLength,
        bool shuffle, long? seed, double? validationSplit, string? subset, bool followLinks)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (!labels.IsInferred && !labels.IsNone && classNames is { Count: > 0 })
        {
            throw new ArgumentException($"{Who}: You can only pass `class_names` if `labels=\"inferred\"`. Received: labels={labels}, and class_names=[{string.Join(", ", classNames.Select(c => "'" + c + "'"))}]", nameof(classNames));
        }

        if (labelMode is not (null or "int" or "categorical" or "binary"))
        {
            throw new ArgumentException($"{Who}: `label_mode` argument must be one of \"int\", \"categorical\", \"binary\", or None. Received: label_mode={labelMode}", nameof(labelMode));
        }

        if (batchSize is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, $"{Who}: batchSize must be at least 1 (or null for one text per batch).");
        }

        if (maxLength is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, $"{Who}: maxLength must be 0 or more (or null to keep whole files).");
        }

        if (seed is < 0 or > uint.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(seed), seed, $"{Who}: seed must be between 0 and 2**32 - 1 (NumPy's RandomState).");
        }

        if (labels.IsNone || labelMode is null)
        {
            labels = DirectoryLabels.None;
            labelMode = null;
        }

        CheckValidationSplit(validationSplit, subset, shuffle, seed);
        var realSeed = (uint)(seed ?? Random.Shared.Next(0, 1_000_000));
        var (paths, fileLabels, names) = DirectoryIndex.Index(Who, directory, labels, classNames, [".txt"], shuffle, realSeed, followLinks);
        if (labelMode == "binary" && names!.Count != 2)
        {
            throw new ArgumentException($"{Who}: When passing `label_mode=\"binary\"`, there must be exactly 2 class_names. Received: class_names=[{string.Join(", ", names.Select(c => "'" + c + "'"))}]", nameof(labelMode));
        }

        if (labelMode == "categorical" && fileLabels!.Where(v => v < 0 || v >= names!.Count).Select(v => (int?)v).FirstOrDefault() is { } bad)
        {
            throw new ArgumentException($"{Who}: label {bad} is outside 0 to {names!.Count - 1} (the number of distinct labels, {names.Count}, is the number of classes); with label_mode \"categorical\" Keras' tf.one_hot would give it a row of zeros. Give labels 0 to classes - 1.", nameof(labels));
        }

        return (paths, fileLabels, names, labelMode, realSeed);
    }

    /// <summary>Keras' <c>check_validation_split_arg</c>.</summary>
    internal static void CheckValidationSplit(double? validationSplit, string? subset, bool shuffle, long? seed)
    {
        var split = validationSplit is { } v && v != 0;
        if (split && !(validationSplit > 0 && validationSplit < 1))
        {
            throw new ArgumentException($"{Who}: `validation_split` must be between 0 and 1, received: {SplitSize.PythonFloat(validationSplit!.Value)}", nameof(validationSplit));
        }

        var hasSubset = !string.IsNullOrEmpty(subset);
        if ((split || hasSubset) && !(split && hasSubset))
        {
            throw new ArgumentException($"{Who}: If `subset` is set, `validation_split` must be set, and inversely.", nameof(subset));
        }

        if (subset is not (null or "training" or "validation" or "both"))
        {
            throw new ArgumentException($"{Who}: `subset` must be either \"training\", \"validation\" or \"both\", received: {subset}", nameof(subset));
        }

        if (split && shuffle && seed is null)
        {
            throw new ArgumentException($"{Who}: If using `validation_split` and shuffling the data, you must provide a `seed` argument, to make sure that there is no overlap between the training and validation subset.", nameof(seed));
        }
    }

    /// <summary>Keras' <c>get_training_or_validation_split</c>: the last <c>int(split * n)</c> files are the validation subset.</summary>
    internal static (List<string> Paths, List<int>? Labels) Subset(List<string> paths, List<int>? labels, double? validationSplit, string? subset)
    {
        if (validationSplit is null or 0)
        {
            return (paths, labels);
        }

        var validation = (int)(validationSplit.Value * paths.Count);
        var training = paths.Count - validation;
        return subset == "training"
            ? (paths[..training], labels?[..training])
            : (paths[training..], labels?[training..]);
    }
}
