namespace KerasStyle.Saving;

/// <summary>
/// A model or weights file cannot be read, or does not fit the model: the file is truncated, corrupted or not a Keras
/// file, its config is invalid, or its weights differ from the model's in count or shape. The message names the file
/// and, where it applies, the layer, the weight and both shapes. When this is thrown nothing has been changed.
/// </summary>
public sealed class KerasFileException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="path">The file.</param>
    /// <param name="message">What is wrong, without the file name (it is prepended).</param>
    /// <param name="inner">The underlying error, if any.</param>
    public KerasFileException(string path, string message, Exception? inner = null)
        : base($"'{path}': {message}", inner)
    {
        Path = path;
    }

    /// <summary>The file that was read or written.</summary>
    public string Path { get; }

    /// <summary>The model layer concerned, when the problem is about one layer.</summary>
    public string? Layer { get; init; }

    /// <summary>The weight concerned (Keras name, e.g. <c>kernel</c>), when the problem is about one weight.</summary>
    public string? Weight { get; init; }

    /// <summary>The shape the model expects, when the problem is a shape.</summary>
    public IReadOnlyList<int>? ExpectedShape { get; init; }

    /// <summary>The shape found in the file, when the problem is a shape.</summary>
    public IReadOnlyList<int>? FileShape { get; init; }
}
