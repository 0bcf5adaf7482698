using KerasStyle.Preprocessing;

namespace KerasStyle.Tests.Preprocessing;

public class TokenizerTests
{
    // Keras' own Tokenizer example texts.
    private static readonly string[] Samples = { "The cat sat on the mat.", "The dog ate my homework." };

    private static Dictionary<string, int> Index(Tokenizer tokenizer) => tokenizer.WordIndex.ToDictionary(p => p.Key, p => p.Value);

    [Test]
    public void FitOnTexts_KerasExample_MostFrequentWordIsOneThenFirstAppearance()
    {
        var tokenizer = new Tokenizer();

        tokenizer.FitOnTexts(Samples);

        Assert.That(Index(tokenizer), Is.EquivalentTo(new Dictionary<string, int>
        {
            ["the"] = 1, ["cat"] = 2, ["sat"] = 3, ["on"] = 4, ["mat"] = 5, ["dog"] = 6, ["ate"] = 7, ["my"] = 8, ["homework"] = 9,
        }));
        Assert.That(tokenizer.WordCounts["the"], Is.EqualTo(3));
        Assert.That(tokenizer.WordCounts["homework"], Is.EqualTo(1));
        Assert.That(tokenizer.WordCounts, Has.Count.EqualTo(9));
    }

    [Test]
    public void TextsToSequences_KerasExample_GivesTheWordIds()
    {
        var tokenizer = new Tokenizer();
        tokenizer.FitOnTexts(Samples);

        Assert.That(tokenizer.TextsToSequences(Samples), Is.EqualTo(new[] { new[] { 1, 2, 3, 4, 1, 5 }, new[] { 1, 6, 7, 8, 9 } }));
    }

    [Test]
    public void FitOnTexts_RanksByCountDescending()
    {
        var tokenizer = new Tokenizer();

        tokenizer.FitOnTexts(new[] { "b a a c c c", "d b a" });

        // a: 3, c: 3, b: 2, d: 1; a and c tie, a was seen first.
        Assert.That(Index(tokenizer), Is.EquivalentTo(new Dictionary<string, int> { ["a"] = 1, ["c"] = 2, ["b"] = 3, ["d"] = 4 }));
    }

    [Test]
    public void FitOnTexts_Ties_KeepOrderOfFirstAppearanceAcrossTexts()
    {
        var tokenizer = new Tokenizer();

        tokenizer.FitOnTexts(new[] { "zebra yak", "yak zebra xerus", "xerus" });

        Assert.That(Index(tokenizer), Is.EquivalentTo(new Dictionary<string, int> { ["zebra"] = 1, ["yak"] = 2, ["xerus"] = 3 }));
    }

    [Test]
    public void FitOnTexts_CalledAgain_AccumulatesCountsAndReranks()
    {
        var tokenizer = new Tokenizer();
        tokenizer.FitOnTexts(new[] { "a b" });
        Assert.That(Index(tokenizer), Is.EquivalentTo(new Dictionary<string, int> { ["a"] = 1, ["b"] = 2 }));

        tokenizer.FitOnTexts(new[] { "b c" });

        Assert.That(tokenizer.WordCounts["b"], Is.EqualTo(2));
        Assert.That(Index(tokenizer), Is.EquivalentTo(new Dictionary<string, int> { ["b"] = 1, ["a"] = 2, ["c"] = 3 }));
    }

    [Test]
    public void FitOnTexts_UsesTextToWordSequence_LowerCaseFiltersAndApostrophes()
    {
        var tokenizer = new Tokenizer();

        tokenizer.FitOnTexts(new[] { "It's GOOD.<br />it's good, it's" });

        // Keras 3.16's Tokenizer on the same text: {"it's": 1, "good": 2, "br": 3}.
        Assert.That(Index(tokenizer), Is.EquivalentTo(new Dictionary<string, int> { ["it's"] = 1, ["good"] = 2, ["br"] = 3 }));
    }

    [Test]
    public void FitOnTexts_WithLowerFalse_KeepsCaseDistinct()
    {
        var tokenizer = new Tokenizer(lower: false);

        tokenizer.FitOnTexts(new[] { "The the THE the" });

        Assert.That(Index(tokenizer), Is.EquivalentTo(new Dictionary<string, int> { ["the"] = 1, ["The"] = 2, ["THE"] = 3 }));
    }

    [Test]
    public void FitOnTexts_WithCustomFilters_SplitsOnlyOnThoseAndSpaces()
    {
        var tokenizer = new Tokenizer(filters: "|");

        tokenizer.FitOnTexts(new[] { "a.b|c a.b" });

        Assert.That(Index(tokenizer), Is.EquivalentTo(new Dictionary<string, int> { ["a.b"] = 1, ["c"] = 2 }));
    }

    [Test]
    public void TextsToSequences_WithoutOovToken_DropsUnknownWords()
    {
        var tokenizer = new Tokenizer();
        tokenizer.FitOnTexts(Samples);

        Assert.That(tokenizer.TextsToSequences(new[] { "The unicorn sat on a mat", "nothing known here" }),
            Is.EqualTo(new[] { new[] { 1, 3, 4, 5 }, Array.Empty<int>() }));
    }

    [Test]
    public void FitOnTexts_WithOovToken_GivesTheTokenIdOneAndShiftsWordsByOne()
    {
        var tokenizer = new Tokenizer(oovToken: "<OOV>");

        tokenizer.FitOnTexts(Samples);

        Assert.That(tokenizer.OovToken, Is.EqualTo("<OOV>"));
        Assert.That(Index(tokenizer), Is.EquivalentTo(new Dictionary<string, int>
        {
            ["<OOV>"] = 1, ["the"] = 2, ["cat"] = 3, ["sat"] = 4, ["on"] = 5, ["mat"] = 6, ["dog"] = 7, ["ate"] = 8, ["my"] = 9, ["homework"] = 10,
        }));
        Assert.That(tokenizer.WordCounts.ContainsKey("<OOV>"), Is.False);
    }

    [Test]
    public void TextsToSequences_WithOovToken_MapsUnknownWordsToOne()
    {
        var tokenizer = new Tokenizer(oovToken: "<OOV>");
        tokenizer.FitOnTexts(Samples);

        Assert.That(tokenizer.TextsToSequences(new[] { "The unicorn sat on a mat" }), Is.EqualTo(new[] { new[] { 2, 1, 4, 5, 1, 6 } }));
    }

    [Test]
    public void TextsToSequences_WithNumWords_KeepsOnlyIdsBelowNumWordsButTheIndexKeepsEveryWord()
    {
        var tokenizer = new Tokenizer(numWords: 4);
        tokenizer.FitOnTexts(Samples);

        Assert.That(tokenizer.NumWords, Is.EqualTo(4));
        Assert.That(tokenizer.WordIndex, Has.Count.EqualTo(9));
        // the 1, cat 2, sat 3 kept; on 4, mat 5, dog 6, ... dropped.
        Assert.That(tokenizer.TextsToSequences(Samples), Is.EqualTo(new[] { new[] { 1, 2, 3, 1 }, new[] { 1 } }));
    }

    [Test]
    public void TextsToSequences_WithNumWordsAndOovToken_MapsDroppedAndUnknownWordsToOne()
    {
        var tokenizer = new Tokenizer(numWords: 4, oovToken: "<OOV>");
        tokenizer.FitOnTexts(Samples);

        // <OOV> 1, the 2, cat 3 kept; sat 4 and above become 1, as do unknown words.
        Assert.That(tokenizer.TextsToSequences(new[] { "The cat sat on the unicorn" }), Is.EqualTo(new[] { new[] { 2, 3, 1, 1, 2, 1 } }));
    }

    [Test]
    public void TextsToSequences_BeforeFitting_GivesEmptySequences()
    {
        var tokenizer = new Tokenizer(oovToken: "<OOV>");

        Assert.That(tokenizer.WordIndex, Is.Empty);
        Assert.That(tokenizer.TextsToSequences(new[] { "any words" }), Is.EqualTo(new[] { Array.Empty<int>() }));
    }

    [TestCase(0)]
    [TestCase(-5)]
    public void Constructor_NumWordsNotPositive_ThrowsArgumentOutOfRange(int numWords)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new Tokenizer(numWords))!;
        Assert.That(error.ParamName, Is.EqualTo("numWords"));
    }

    [Test]
    public void Constructor_Defaults_AreKeras()
    {
        var tokenizer = new Tokenizer();

        Assert.That(tokenizer.NumWords, Is.Null);
        Assert.That(tokenizer.OovToken, Is.Null);
        Assert.That(tokenizer.Filters, Is.EqualTo(Text.DefaultFilters));
        Assert.That(tokenizer.Lower, Is.True);
    }

    [Test]
    public void FitOnTextsAndTextsToSequences_NullTexts_ThrowArgumentNull()
    {
        var tokenizer = new Tokenizer();

        Assert.Throws<ArgumentNullException>(() => tokenizer.FitOnTexts(null!));
        Assert.Throws<ArgumentNullException>(() => tokenizer.FitOnTexts(new[] { "a", null! }));
        Assert.Throws<ArgumentNullException>(() => tokenizer.TextsToSequences(null!));
    }
}
