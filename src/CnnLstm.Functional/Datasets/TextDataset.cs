using System.Collections;
using System.Text;
using KerasStyle.Training;
using KerasStyle.Training.Data;

namespace KerasStyle.Datasets;

/// <summary>
/// One batch of a <see cref="TextDataset"/>: the texts and their labels as Keras' <c>label_mode</c> encodes them.
/// </summary>
/// <param name="Texts">The files' contents (batch,).</param>
/// <param name="Labels"><c>int[]</c> (batch,) for <c>"int"</c>; <c>float[,]</c> (batch, 1) of 0/1 for
/// <c>"binary"</c>; <c>float[,]</c> (batch, classes) one-hot for <c>"categorical"</c>; null without labels.</param>
public sealed record TextBatch(string[] Texts, Array? Labels);

/// <summary>
/// The text files <see cref="TextDatasetUtils.TextDatasetFromDirectory"/> indexed, as Keras' dataset of
/// <c>(texts, labels)</c> batches: enumerate it for <see cref="TextBatch"/>es of <c>string[]</c> and labels (files are
/// read as each batch is made), read <see cref="Texts"/> to fit a <see cref="Preprocessing.Tokenizer"/> (or
/// <see cref="TextBatches"/> to adapt a <see cref="Layers.TextVectorization"/>), and call
/// <see cref="ToDataSource(Func{string[], ModelData}, int, int)"/> with an encoder to train a model on token ids, or
/// <see cref="ToDataSource(int, int)"/> (no encoder) to train a model whose input takes strings
/// (<c>new Input(Array.Empty&lt;int&gt;(), DType.String)</c> or shape [1], with <see cref="Layers.TextVectorization"/>
/// inside): its batches are the raw texts, as Keras' dataset of <c>(texts, labels)</c>.
/// </summary>
public sealed class TextDataset : IEnumerable<TextBatch>
{
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private readonly string[] paths;
    private readonly int[]? labels;

    internal TextDataset(IReadOnlyList<string> paths, IReadOnlyList<int>? labels, IReadOnlyList<string>? classNames, string? labelMode, int? batchSize, int? maxLength, bool shuffle, uint seed)
    {
        this.paths = paths.ToArray();
        this.labels = labels?.ToArray();
        ClassNames = classNames?.ToArray();
        LabelMode = labelMode;
        BatchSize = batchSize;
        MaxLength = maxLength;
        Shuffle = shuffle;
        Seed = seed;
    }

    /// <summary>The files, in the dataset's order (Keras' <c>file_paths</c> after its seeded shuffle and split).</summary>
    public IReadOnlyList<string> FilePaths => paths;

    /// <summary>Each file's label (class index, or the given label), aligned with <see cref="FilePaths"/>; null without labels.</summary>
    public IReadOnlyList<int>? Labels => labels;

    /// <summary>The class names (Keras' <c>dataset.class_names</c>): the subfolders, or the sorted given labels as
    /// strings; null without labels.</summary>
    public IReadOnlyList<string>? ClassNames { get; }

    /// <summary><c>"int"</c>, <c>"categorical"</c>, <c>"binary"</c>, or null without labels.</summary>
    public string? LabelMode { get; }

    /// <summary>Texts per batch; null: one text per batch (Keras' unbatched samples).</summary>
    public int? BatchSize { get; }

    /// <summary>The most UTF-8 bytes kept of each file (Keras' <c>max_length</c>, which <c>tf.strings.substr</c>
    /// counts in bytes); null keeps all.</summary>
    public int? MaxLength { get; }

    /// <summary>Whether the files were shuffled (a source from <see cref="ToDataSource(int, int)"/> and <see cref="ToDataSource(Func{string[], ModelData}, int, int)"/> then reshuffle every epoch).</summary>
    public bool Shuffle { get; }

    /// <summary>The seed the files were shuffled with.</summary>
    public uint Seed { get; }

    /// <summary>The number of files.</summary>
    public int SampleCount => paths.Length;

    /// <summary>The number of batches.</summary>
    public int Count => BatchSize is { } b ? (paths.Length + b - 1) / b : paths.Length;

    /// <summary>Reads batch <paramref name="index"/>.</summary>
    /// <param name="index">0 to <see cref="Count"/> - 1.</param>
    /// <returns>The texts and their encoded labels.</returns>
    /// <exception cref="InvalidDataException">A file cannot be read or is not valid UTF-8 (the file is named).</exception>
    public TextBatch GetBatch(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        var size = BatchSize ?? 1;
        var rows = Enumerable.Range(index * size, Math.Min(size, paths.Length - (index * size))).ToArray();
        return Batch(rows);
    }

    /// <summary>Every text, in order (e.g. for <see cref="Preprocessing.Tokenizer.FitOnTexts"/>).</summary>
    /// <returns>The texts, read one file at a time.</returns>
    public IEnumerable<string> Texts()
    {
        foreach (var path in paths)
        {
            yield return Read(path, MaxLength);
        }
    }

    /// <inheritdoc/>
    public IEnumerator<TextBatch> GetEnumerator()
    {
        for (var i = 0; i < Count; i++)
        {
            yield return GetBatch(i);
        }
    }

    /// <inheritdoc/>
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>
    /// A <see cref="DataSource"/> of the batches for <c>Fit</c>, <c>Evaluate</c> and <c>Predict</c>: each batch's texts
    /// go through <paramref name="encode"/> (e.g. a <see cref="Preprocessing.Tokenizer"/> and
    /// <see cref="Preprocessing.Sequences.PadSequences"/>, or an <see cref="Preprocessing.ImdbEncoder"/>) and its labels
    /// are the targets (none without labels). A shuffled dataset's source draws a new order of the files after every
    /// epoch (NumPy's shuffle from <see cref="Seed"/>), as Keras' <c>tf.data</c> shuffle does each iteration.
    /// </summary>
    /// <param name="encode">Turns a batch's texts into the model's inputs.</param>
    /// <param name="workers">Threads that read and encode batches ahead.</param>
    /// <param name="maxQueueSize">Batches prepared ahead at most.</param>
    /// <returns>The source.</returns>
    public DataSource ToDataSource(Func<string[], ModelData> encode, int workers = 1, int maxQueueSize = 10)
    {
        ArgumentNullException.ThrowIfNull(encode);
        return new Source(this, encode, workers, maxQueueSize);
    }

    /// <summary>
    /// A <see cref="DataSource"/> of the raw texts, as Keras' <c>text_dataset_from_directory</c> dataset: each batch's
    /// inputs are its files' contents as a <c>string[]</c> (batch,) and its targets the labels as
    /// <see cref="LabelMode"/> encodes them (<c>int[]</c> class ids for <c>"int"</c>, <c>float[,]</c> (batch, 1) for
    /// <c>"binary"</c>, one-hot <c>float[,]</c> (batch, classes) for <c>"categorical"</c>; none without labels), for a
    /// model whose input takes strings (<c>new Input(Array.Empty&lt;int&gt;(), DType.String)</c>, or shape [1]: the
    /// texts then go in as (batch,), which <see cref="Layers.TextVectorization"/> and <see cref="Layers.StringLookup"/>
    /// take as (batch, 1)). A model with a numeric input refuses the batches (asking for <c>DType.String</c>). A
    /// shuffled dataset's source draws a new order of the files after every epoch, as
    /// <see cref="ToDataSource(Func{string[], ModelData}, int, int)"/>.
    /// </summary>
    /// <param name="workers">Threads that read batches ahead.</param>
    /// <param name="maxQueueSize">Batches prepared ahead at most.</param>
    /// <returns>The source.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="workers"/> or <paramref name="maxQueueSize"/> is below 1.</exception>
    public DataSource ToDataSource(int workers = 1, int maxQueueSize = 10) => new Source(this, static texts => texts, workers, maxQueueSize);

    /// <summary>The texts batch by batch (Keras' <c>dataset.map(lambda x, y: x)</c>), e.g. for
    /// <see cref="Layers.TextVectorization.Adapt(IEnumerable{Array}, int?)"/>; files are read as each batch is made.</summary>
    /// <returns>One <c>string[]</c> per batch, in the dataset's order.</returns>
    public IEnumerable<string[]> TextBatches()
    {
        for (var i = 0; i < Count; i++)
        {
            var size = BatchSize ?? 1;
            yield return Enumerable.Range(i * size, Math.Min(size, paths.Length - (i * size))).Select(r => Read(paths[r], MaxLength)).ToArray();
        }
    }

    private TextBatch Batch(int[] rows)
    {
        var texts = rows.Select(r => Read(paths[r], MaxLength)).ToArray();
        return new TextBatch(texts, EncodeLabels(rows));
    }

    private Array? EncodeLabels(int[] rows)
    {
        switch (LabelMode)
        {
            case null:
                return null;
            case "int":
                return rows.Select(r => labels![r]).ToArray();
            case "binary":
                var binary = new float[rows.Length, 1];
                for (var i = 0; i < rows.Length; i++)
                {
                    binary[i, 0] = labels![rows[i]];
                }

                return binary;
            default:
                var classes = ClassNames!.Count;
                var onehot = new float[rows.Length, classes];
                for (var i = 0; i < rows.Length; i++)
                {
                    onehot[i, labels![rows[i]]] = 1f;
                }

                return onehot;
        }
    }

    /// <summary>Reads a file as <c>tf.io.read_file</c> and <c>tf.strings.substr(txt, 0, max_length)</c>: the raw bytes
    /// (a byte-order mark is kept, as U+FEFF), at most <paramref name="maxLength"/> of them, decoded as UTF-8; a cut
    /// through a multi-byte character drops that character's partial bytes.</summary>
    internal static string Read(string path, int? maxLength)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"TextDatasetFromDirectory: cannot read '{path}': {e.Message}", e);
        }

        var length = bytes.Length;
        if (maxLength is { } max && max < length)
        {
            length = max;
            var lead = length;
            while (lead > 0 && length - lead < 4 && (bytes[lead - 1] & 0xC0) == 0x80)
            {
                lead--;
            }

            if (lead > 0 && (bytes[lead - 1] & 0x80) != 0)
            {
                var first = bytes[lead - 1];
                var needed = first >= 0xF0 ? 4 : first >= 0xE0 ? 3 : first >= 0xC0 ? 2 : 1;
                if (length - (lead - 1) < needed)
                {
                    length = lead - 1;
                }
            }
        }

        try
        {
            return Utf8.GetString(bytes, 0, length);
        }
        catch (DecoderFallbackException e)
        {
            throw new InvalidDataException($"TextDatasetFromDirectory: '{path}' is not valid UTF-8 (at byte {e.Index}); Keras keeps the raw bytes, a .NET string cannot: convert the file to UTF-8.", e);
        }
    }

    private sealed class Source : DataSource
    {
        private readonly TextDataset dataset;
        private readonly Func<string[], ModelData> encode;
        private readonly int[] order;
        private readonly MersenneTwister? random;

        public Source(TextDataset dataset, Func<string[], ModelData> encode, int workers, int maxQueueSize)
            : base(workers, maxQueueSize)
        {
            this.dataset = dataset;
            this.encode = encode;
            order = Enumerable.Range(0, dataset.SampleCount).ToArray();
            random = dataset.Shuffle ? MersenneTwister.NumPy(dataset.Seed) : null;
        }

        public override int? Count => dataset.Count;

        public override DataBatch GetBatch(int index)
        {
            var size = dataset.BatchSize ?? 1;
            var rows = order.Skip(index * size).Take(size).ToArray();
            var batch = dataset.Batch(rows);
            var x = encode(batch.Texts) ?? throw new InvalidOperationException($"TextDataset.ToDataSource: the encoder returned null for batch {index}.");
            return new DataBatch(x, batch.Labels is null ? null : (ModelData)batch.Labels);
        }

        public override void OnEpochEnd() => random?.NumPyShuffle(order);
    }
}
