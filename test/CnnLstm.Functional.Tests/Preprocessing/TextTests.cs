using KerasStyle.Preprocessing;

namespace KerasStyle.Tests.Preprocessing;

public class TextTests
{
    // Every ASCII punctuation character except the apostrophe, then tab and newline: Keras' default filters.
    private const string KerasDefaultFilters = "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n";

    private static IEnumerable<char> FilterCharacters => KerasDefaultFilters;

    [Test]
    public void DefaultFilters_AreKerasDefaults_AllAsciiPunctuationButTheApostropheThenTabAndNewline()
    {
        var asciiPunctuation = Enumerable.Range(0x21, 0x7F - 0x21).Select(c => (char)c).Where(char.IsPunctuation)
            .Concat(Enumerable.Range(0x21, 0x7F - 0x21).Select(c => (char)c).Where(char.IsSymbol))
            .Where(c => c != '\'')
            .OrderBy(c => c)
            .ToArray();

        Assert.That(Text.DefaultFilters, Is.EqualTo(KerasDefaultFilters));
        Assert.That(Text.DefaultFilters.Where(c => c is not ('\t' or '\n')).OrderBy(c => c), Is.EqualTo(asciiPunctuation));
    }

    [Test]
    public void TextToWordSequence_KerasTokenizerExample_LowerCasesAndDropsTheFullStop() =>
        Assert.That(Text.TextToWordSequence("The cat sat on the mat."), Is.EqualTo(new[] { "the", "cat", "sat", "on", "the", "mat" }));

    [TestCaseSource(nameof(FilterCharacters))]
    public void TextToWordSequence_EachDefaultFilterCharacter_SeparatesWords(char filter) =>
        Assert.That(Text.TextToWordSequence($"left{filter}right"), Is.EqualTo(new[] { "left", "right" }));

    [Test]
    public void TextToWordSequence_RunsOfSeparators_GiveNoEmptyWords() =>
        Assert.That(Text.TextToWordSequence("  Hello,,,  world!!\t\n(really)  "), Is.EqualTo(new[] { "hello", "world", "really" }));

    [TestCase("")]
    [TestCase("   ")]
    [TestCase("!?... --- ()")]
    public void TextToWordSequence_NoWords_GivesAnEmptySequence(string text) =>
        Assert.That(Text.TextToWordSequence(text), Is.Empty);

    [Test]
    public void TextToWordSequence_KeepsApostrophesInsideAndAroundWords() =>
        Assert.That(Text.TextToWordSequence("It's the 'best' film, isn't it?"), Is.EqualTo(new[] { "it's", "the", "'best'", "film", "isn't", "it" }));

    [Test]
    public void TextToWordSequence_KeepsDigitsAndNonAsciiLetters() =>
        Assert.That(Text.TextToWordSequence("Amélie (2001) is 10/10"), Is.EqualTo(new[] { "amélie", "2001", "is", "10", "10" }));

    // Expected values printed by Keras 3.16's text_to_word_sequence (keras.src.legacy.preprocessing.text).
    [TestCase("Great film.<br /><br />Loved it", new[] { "great", "film", "br", "br", "loved", "it" })]
    [TestCase("Great film.<BR /><br/>Loved it", new[] { "great", "film", "br", "br", "loved", "it" })]
    [TestCase("Great film. <br /> Loved it", new[] { "great", "film", "br", "loved", "it" })]
    public void TextToWordSequence_HtmlLineBreaks_LeaveTheWordBrAsKerasDoes(string text, string[] expected) =>
        Assert.That(Text.TextToWordSequence(text), Is.EqualTo(expected));

    [Test]
    public void TextToWordSequence_WithLowerFalse_KeepsCase() =>
        Assert.That(Text.TextToWordSequence("The Cat, the CAT", lower: false), Is.EqualTo(new[] { "The", "Cat", "the", "CAT" }));

    [Test]
    public void TextToWordSequence_WithCustomFilters_OnlyThoseAndSpacesSeparate() =>
        Assert.That(Text.TextToWordSequence("a,b c;d", filters: ";"), Is.EqualTo(new[] { "a,b", "c", "d" }));

    // Keras splits on split=" " only, after turning filter characters (which include \t and \n) into spaces. Other
    // whitespace stays inside words, as in the Keras IMDB word index, which has words such as "most\u0085and" and
    // "if\u00a0you" (the IMDB reviews hold 1,479 U+0085 and 44 U+00A0 characters).
    [TestCase("most\u0085and", "most\u0085and")]
    [TestCase("if\u00a0you", "if\u00a0you")]
    [TestCase("line\rend", "line\rend")]
    [TestCase("Tab\u000bbed", "tab\u000bbed")]
    public void TextToWordSequence_WhitespaceOtherThanSpaceTabNewline_StaysInsideTheWordAsInKeras(string text, string word) =>
        Assert.That(Text.TextToWordSequence(text), Is.EqualTo(new[] { word }));

    [Test]
    public void TextToWordSequence_NullTextOrFilters_ThrowsArgumentNull()
    {
        Assert.That(Assert.Throws<ArgumentNullException>(() => Text.TextToWordSequence(null!))!.ParamName, Is.EqualTo("text"));
        Assert.That(Assert.Throws<ArgumentNullException>(() => Text.TextToWordSequence("a", filters: null!))!.ParamName, Is.EqualTo("filters"));
    }
}
