namespace KerasStyle.Preprocessing;

/// <summary>Keras' sequence helpers (<c>keras.preprocessing.sequence</c>).</summary>
public static class Sequences
{
    /// <summary>
    /// Keras' <c>pad_sequences</c>: makes every sequence <paramref name="maxLen"/> long, padding with
    /// <paramref name="value"/> and cutting long ones, at the start (<c>pre</c>, the default) or the end (<c>post</c>).
    /// </summary>
    /// <param name="sequences">The id sequences.</param>
    /// <param name="maxLen">The length; null uses the longest sequence.</param>
    /// <param name="padding"><c>pre</c> or <c>post</c>: where padding goes.</param>
    /// <param name="truncating"><c>pre</c> or <c>post</c>: where long sequences are cut.</param>
    /// <param name="value">The padding value.</param>
    /// <returns>An array of shape (sequences, maxLen).</returns>
    public static int[,] PadSequences(IReadOnlyList<int[]> sequences, int? maxLen = null, string padding = "pre", string truncating = "pre", int value = 0)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        var padPre = Side(padding, nameof(padding));
        var cutPre = Side(truncating, nameof(truncating));
        if (maxLen is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(maxLen), maxLen, "PadSequences: maxLen must not be negative.");
        }

        var length = maxLen ?? (sequences.Count == 0 ? 0 : sequences.Max(s => s?.Length ?? 0));
        var result = new int[sequences.Count, length];
        for (var i = 0; i < sequences.Count; i++)
        {
            var sequence = sequences[i] ?? throw new ArgumentNullException(nameof(sequences), $"PadSequences: sequence {i} is null.");
            var kept = sequence.Length <= length ? sequence : cutPre ? sequence[^length..] : sequence[..length];
            var offset = padPre ? length - kept.Length : 0;
            for (var j = 0; j < length; j++)
            {
                result[i, j] = value;
            }

            for (var j = 0; j < kept.Length; j++)
            {
                result[i, offset + j] = kept[j];
            }
        }

        return result;
    }

    private static bool Side(string side, string argument) => side switch
    {
        "pre" => true,
        "post" => false,
        _ => throw new ArgumentException($"PadSequences: {argument} must be 'pre' or 'post', got '{side}'.", argument),
    };
}
