using KerasStyle.Preprocessing;

namespace KerasStyle.Tests.Preprocessing;

public class ImdbEncoderTests
{
    // A toy word index: rank 1 = most frequent.
    private static readonly Dictionary<string, int> Toy = new()
    {
        ["the"] = 1,
        ["and"] = 2,
        ["a"] = 3,
        ["film"] = 4,
        ["great"] = 5,
        ["it's"] = 6,
    };

    private static IReadOnlyDictionary<string, int>? realIndex;

    private static IReadOnlyDictionary<string, int> RealIndex => realIndex ??= ImdbEncoder.LoadWordIndex(TestPaths.DataFile("imdb/imdb_word_index.json"));

    [Test]
    public void Constants_AreKerasImdbDefaults()
    {
        Assert.That(ImdbEncoder.PadId, Is.EqualTo(0));
        Assert.That(ImdbEncoder.StartId, Is.EqualTo(1));
        Assert.That(ImdbEncoder.OovId, Is.EqualTo(2));
        Assert.That(ImdbEncoder.IndexFrom, Is.EqualTo(3));
    }

    [Test]
    public void Encode_StartsWithOneAndGivesEachWordItsRankPlusThree() =>
        Assert.That(new ImdbEncoder(Toy).Encode("The film, and a GREAT film."), Is.EqualTo(new[] { 1, 4, 7, 5, 6, 8, 7 }));

    [Test]
    public void Encode_UnknownWords_AreOovTwo() =>
        Assert.That(new ImdbEncoder(Toy).Encode("the unheard-of film"), Is.EqualTo(new[] { 1, 4, 2, 2, 7 }));

    [Test]
    public void Encode_EmptyReview_IsJustTheStartId() =>
        Assert.That(new ImdbEncoder(Toy).Encode(" ... "), Is.EqualTo(new[] { 1 }));

    [Test]
    public void Encode_KeepsApostrophes_AndHtmlLineBreaksAsTheWordBr() =>
        // Keras 3.16: ["it's", "great", "br", "br", "the", "film"]; "br" is not in the toy index, so out of vocabulary.
        Assert.That(new ImdbEncoder(Toy).Encode("It's great.<br /><br />The film"), Is.EqualTo(new[] { 1, 9, 8, 2, 2, 4, 7 }));

    [Test]
    public void Encode_WithNumWords_KeepsOnlyIdsBelowNumWords()
    {
        // numWords 7 keeps ids 3..6, i.e. ranks 1..3; "film" (rank 4, id 7) and "great" (rank 5, id 8) become OOV.
        var encoder = new ImdbEncoder(Toy, numWords: 7);

        Assert.That(encoder.NumWords, Is.EqualTo(7));
        Assert.That(encoder.Encode("the and a film great nonsense"), Is.EqualTo(new[] { 1, 4, 5, 6, 2, 2, 2 }));
    }

    [Test]
    public void Encode_WithoutNumWords_KeepsEveryKnownWord()
    {
        var encoder = new ImdbEncoder(Toy);

        Assert.That(encoder.NumWords, Is.Null);
        Assert.That(encoder.Encode("great it's"), Is.EqualTo(new[] { 1, 8, 9 }));
    }

    [TestCase(-1)]
    [TestCase(0)]
    [TestCase(3)]
    public void Constructor_NumWordsNotAboveThree_ThrowsArgumentOutOfRange(int numWords)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new ImdbEncoder(Toy, numWords))!;
        Assert.That(error.ParamName, Is.EqualTo("numWords"));
    }

    [Test]
    public void Constructor_NumWordsFour_KeepsOnlyTheStartAndOov() =>
        Assert.That(new ImdbEncoder(Toy, numWords: 4).Encode("the film"), Is.EqualTo(new[] { 1, 2, 2 }));

    [Test]
    public void Constructor_NullIndex_ThrowsArgumentNull() =>
        Assert.Throws<ArgumentNullException>(() => new ImdbEncoder(null!));

    [Test]
    public void LoadWordIndex_RealFile_HasTheKerasImdbIndex()
    {
        Assert.That(RealIndex, Has.Count.EqualTo(88584));
        Assert.That(RealIndex["the"], Is.EqualTo(1));
        Assert.That(RealIndex["and"], Is.EqualTo(2));
        Assert.That(RealIndex["br"], Is.EqualTo(7));
        Assert.That(RealIndex.Values.Min(), Is.EqualTo(1));
        Assert.That(RealIndex.Values.Max(), Is.EqualTo(88584));
    }

    [Test]
    public void Encode_RealIndexWithTwentyThousandWords_KeepsRank19996AsId19999AndMakesRank19997Oov()
    {
        var encoder = new ImdbEncoder(RealIndex, numWords: 20000);
        Assert.That(RealIndex["humanism"], Is.EqualTo(19996));
        Assert.That(RealIndex["charis"], Is.EqualTo(19997));

        Assert.That(encoder.Encode("The humanism, the charis!"), Is.EqualTo(new[] { 1, 4, 19999, 4, 2 }));
    }

    [Test]
    public void Encode_RealIndex_ApostropheWordsAreIndexedWhole()
    {
        var encoder = new ImdbEncoder(RealIndex, numWords: 20000);

        Assert.That(encoder.Encode("it's"), Is.EqualTo(new[] { 1, RealIndex["it's"] + 3 }));
        Assert.That(RealIndex["it's"] + 3, Is.LessThan(20000));
    }

    [Test]
    public void Encode_RealIndex_WordsJoinedByNonBreakingSpaceOrNelAreOneWordAsInTheIndex()
    {
        // The Keras index was built by splitting on spaces only: it has "if\u00a0you" and "\u0085" as words.
        var encoder = new ImdbEncoder(RealIndex);

        Assert.That(encoder.Encode("if\u00a0you"), Is.EqualTo(new[] { 1, RealIndex["if\u00a0you"] + 3 }));
        Assert.That(encoder.Encode("well \u0085 done"), Is.EqualTo(new[] { 1, RealIndex["well"] + 3, RealIndex["\u0085"] + 3, RealIndex["done"] + 3 }));
    }

    [Test]
    public void LoadWordIndex_MissingFile_ThrowsFileNotFoundNamingThePath()
    {
        var path = Path.Combine(Path.GetTempPath(), $"no-such-word-index-{Guid.NewGuid():N}.json");

        var error = Assert.Throws<FileNotFoundException>(() => ImdbEncoder.LoadWordIndex(path))!;

        Assert.That(error.FileName, Is.EqualTo(path));
        Assert.That(error.Message, Does.Contain(path));
    }

    [TestCase("{\"the\": 1,\n \"and\": \"two\"}", 2)]
    [TestCase("[1, 2, 3]", 1)]
    [TestCase("{\"the\": 1,\n\n \"and\": 2", 3)]
    public void LoadWordIndex_MalformedJson_ThrowsInvalidDataNamingTheFileAndLine(string json, int line)
    {
        var directory = Directory.CreateTempSubdirectory("kerasstyle-test-");
        try
        {
            var path = Path.Combine(directory.FullName, "bad_word_index.json");
            File.WriteAllText(path, json);

            var error = Assert.Throws<InvalidDataException>(() => ImdbEncoder.LoadWordIndex(path))!;

            Assert.That(error.Message, Does.Contain("bad_word_index.json"));
            Assert.That(error.Message, Does.Match($@"line {line}\b"));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
