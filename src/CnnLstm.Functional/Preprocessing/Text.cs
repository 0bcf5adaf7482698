using System.Text;

namespace KerasStyle.Preprocessing;

/// <summary>Keras' text helpers (<c>keras.preprocessing.text</c>).</summary>
public static class Text
{
    /// <summary>Keras' default filters: punctuation, tab and newline.</summary>
    public const string DefaultFilters = "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n";

    /// <summary>
    /// Keras' <c>text_to_word_sequence</c>: lower-cases, turns every filter character into a space, and splits on
    /// spaces, dropping empty pieces. There is no HTML rule, as in Keras: in <c>&lt;br /&gt;</c> (the IMDB reviews'
    /// line breaks) <c>&lt;</c>, <c>/</c> and <c>&gt;</c> are filtered and <c>br</c> stays a word, rank 7 in Keras'
    /// IMDB word index. As in Keras (<c>split=" "</c>), other whitespace such as <c>\r</c>, U+0085 or U+00A0 stays
    /// inside words; the Keras IMDB word index has such words (<c>"if\u00a0you"</c>).
    /// </summary>
    /// <param name="text">The text.</param>
    /// <param name="filters">Characters to remove.</param>
    /// <param name="lower">Whether to lower-case first.</param>
    public static IReadOnlyList<string> TextToWordSequence(string text, string filters = DefaultFilters, bool lower = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(filters);
        if (lower)
        {
            text = text.ToLowerInvariant();
        }

        var cleaned = new StringBuilder(text);
        for (var i = 0; i < cleaned.Length; i++)
        {
            if (filters.Contains(cleaned[i], StringComparison.Ordinal))
            {
                cleaned[i] = ' ';
            }
        }

        return cleaned.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries);
    }
}
