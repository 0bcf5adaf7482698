namespace KerasStyle.Datasets;

/// <summary>
/// The <c>labels</c> argument of <see cref="TextDatasetUtils.TextDatasetFromDirectory"/>, Keras' <c>"inferred"</c>,
/// <c>None</c> or a list of integer labels: <see cref="Inferred"/> (the default value of the type), <see cref="None"/>,
/// or <see cref="Of"/>. Converts implicitly from a string as Keras takes it: <c>"inferred"</c>, or null for
/// <c>None</c>; any other string is refused with Keras' message.
/// </summary>
public readonly struct DirectoryLabels : IEquatable<DirectoryLabels>
{
    private readonly int kind; // 0 inferred, 1 none, 2 given
    private readonly int[]? given;

    private DirectoryLabels(int kind, int[]? given)
    {
        this.kind = kind;
        this.given = given;
    }

    /// <summary>Labels from the class subfolders (Keras' <c>"inferred"</c>).</summary>
    public static DirectoryLabels Inferred => default;

    /// <summary>No labels (Keras' <c>None</c>): the whole folder tree is read and batches hold texts only.</summary>
    public static DirectoryLabels None => new(1, null);

    /// <summary>Whether the labels come from the class subfolders.</summary>
    public bool IsInferred => kind == 0;

    /// <summary>Whether there are no labels.</summary>
    public bool IsNone => kind == 1;

    /// <summary>The given labels (one per file, in the files' alphanumeric order), or null.</summary>
    public IReadOnlyList<int>? Given => given;

    /// <summary>Keras' <c>"inferred"</c>, or null for <c>None</c>.</summary>
    /// <param name="labels">The string.</param>
    /// <exception cref="ArgumentException">Another string (Keras' message).</exception>
    public static implicit operator DirectoryLabels(string? labels) => labels switch
    {
        null => None,
        "inferred" => Inferred,
        _ => throw new ArgumentException($"`labels` argument should be a list/tuple of integer labels, of the same size as the number of text files in the target directory. If you wish to infer the labels from the subdirectory names in the target directory, pass `labels=\"inferred\"`. If you wish to get a dataset that only contains text samples (no labels), pass `labels=None`. Received: labels={labels}", nameof(labels)),
    };

    /// <summary>Whether two values are the same choice (given labels compared by value).</summary>
    public static bool operator ==(DirectoryLabels left, DirectoryLabels right) => left.Equals(right);

    /// <summary>Whether two values differ.</summary>
    public static bool operator !=(DirectoryLabels left, DirectoryLabels right) => !left.Equals(right);

    /// <summary>Given integer labels, one per <c>.txt</c> file, in the order the files are indexed (alphanumeric, as
    /// <c>os.walk</c> sorted by Keras' <c>index_directory</c>).</summary>
    /// <param name="labels">The labels.</param>
    public static DirectoryLabels Of(IReadOnlyList<int> labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        return new DirectoryLabels(2, labels.ToArray());
    }

    /// <summary>Keras' <c>"inferred"</c> or <c>None</c>, from a string (see the implicit conversion).</summary>
    /// <param name="labels">The string.</param>
    public static DirectoryLabels FromString(string? labels) => labels;

    /// <inheritdoc/>
    public bool Equals(DirectoryLabels other) => kind == other.kind && (given ?? []).SequenceEqual(other.given ?? []);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is DirectoryLabels other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(kind, given?.Length ?? -1);

    /// <summary>As Keras prints the argument.</summary>
    public override string ToString() => kind switch { 0 => "inferred", 1 => "None", _ => $"[{string.Join(", ", given!)}]" };
}
