using KerasStyle.Preprocessing;

namespace KerasStyle.Tests.Preprocessing;

public class SequencesTests
{
    // The example of Keras' pad_sequences docstring.
    private static int[][] Example => new[] { new[] { 1 }, new[] { 2, 3 }, new[] { 4, 5, 6 } };

    [Test]
    public void PadSequences_Defaults_PadAtTheStartToTheLongestWithZeros() =>
        Assert.That(Sequences.PadSequences(Example), Is.EqualTo(new[,] { { 0, 0, 1 }, { 0, 2, 3 }, { 4, 5, 6 } }));

    [Test]
    public void PadSequences_Value_IsThePaddingValue() =>
        Assert.That(Sequences.PadSequences(Example, value: -1), Is.EqualTo(new[,] { { -1, -1, 1 }, { -1, 2, 3 }, { 4, 5, 6 } }));

    [Test]
    public void PadSequences_PaddingPost_PadsAtTheEnd() =>
        Assert.That(Sequences.PadSequences(Example, padding: "post"), Is.EqualTo(new[,] { { 1, 0, 0 }, { 2, 3, 0 }, { 4, 5, 6 } }));

    [Test]
    public void PadSequences_ShorterMaxLen_CutsAtTheStartByDefault() =>
        Assert.That(Sequences.PadSequences(Example, maxLen: 2), Is.EqualTo(new[,] { { 0, 1 }, { 2, 3 }, { 5, 6 } }));

    [Test]
    public void PadSequences_TruncatingPost_CutsAtTheEnd() =>
        Assert.That(Sequences.PadSequences(Example, maxLen: 2, truncating: "post"), Is.EqualTo(new[,] { { 0, 1 }, { 2, 3 }, { 4, 5 } }));

    [Test]
    public void PadSequences_PostPost_PadsAndCutsAtTheEnd() =>
        Assert.That(Sequences.PadSequences(Example, maxLen: 2, padding: "post", truncating: "post"), Is.EqualTo(new[,] { { 1, 0 }, { 2, 3 }, { 4, 5 } }));

    [Test]
    public void PadSequences_PaddingPostTruncatingPre_AreIndependent() =>
        Assert.That(Sequences.PadSequences(new[] { new[] { 1 }, new[] { 2, 3, 4, 5 } }, maxLen: 3, padding: "post", truncating: "pre"),
            Is.EqualTo(new[,] { { 1, 0, 0 }, { 3, 4, 5 } }));

    [Test]
    public void PadSequences_LongerMaxLen_PadsEverySequence() =>
        Assert.That(Sequences.PadSequences(Example, maxLen: 5, value: 9), Is.EqualTo(new[,] { { 9, 9, 9, 9, 1 }, { 9, 9, 9, 2, 3 }, { 9, 9, 4, 5, 6 } }));

    [Test]
    public void PadSequences_EmptySequence_IsAllPadding() =>
        Assert.That(Sequences.PadSequences(new[] { Array.Empty<int>(), new[] { 7, 8 } }, value: -2), Is.EqualTo(new[,] { { -2, -2 }, { 7, 8 } }));

    [Test]
    public void PadSequences_NoSequences_GivesZeroRows()
    {
        Assert.That(TestData.Dims(Sequences.PadSequences(Array.Empty<int[]>())), Is.EqualTo(new[] { 0, 0 }));
        Assert.That(TestData.Dims(Sequences.PadSequences(Array.Empty<int[]>(), maxLen: 4)), Is.EqualTo(new[] { 0, 4 }));
    }

    [Test]
    public void PadSequences_ImdbExampleLength_KeepsTheLast100Ids()
    {
        var review = Enumerable.Range(1, 250).ToArray();

        var padded = Sequences.PadSequences(new[] { review }, maxLen: 100);

        Assert.That(TestData.Dims(padded), Is.EqualTo(new[] { 1, 100 }));
        Assert.That(padded[0, 0], Is.EqualTo(151));
        Assert.That(padded[0, 99], Is.EqualTo(250));
    }

    [Test]
    public void PadSequences_DoesNotChangeTheInput()
    {
        var sequences = Example;

        Sequences.PadSequences(sequences, maxLen: 2, padding: "post");

        Assert.That(sequences, Is.EqualTo(Example));
    }

    [TestCase("left")]
    [TestCase("Pre")]
    [TestCase("")]
    public void PadSequences_UnknownPadding_ThrowsArgumentNamingIt(string padding)
    {
        var error = Assert.Throws<ArgumentException>(() => Sequences.PadSequences(Example, padding: padding))!;

        Assert.That(error.ParamName, Is.EqualTo("padding"));
        Assert.That(error.Message, Does.Contain($"'{padding}'").And.Contain("'pre' or 'post'"));
    }

    [TestCase("end")]
    [TestCase("POST")]
    public void PadSequences_UnknownTruncating_ThrowsArgumentNamingIt(string truncating)
    {
        var error = Assert.Throws<ArgumentException>(() => Sequences.PadSequences(Example, truncating: truncating))!;

        Assert.That(error.ParamName, Is.EqualTo("truncating"));
        Assert.That(error.Message, Does.Contain($"'{truncating}'"));
    }

    [Test]
    public void PadSequences_NegativeMaxLen_ThrowsArgumentOutOfRange()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Sequences.PadSequences(Example, maxLen: -1))!;
        Assert.That(error.ParamName, Is.EqualTo("maxLen"));
    }

    [Test]
    public void PadSequences_NullSequenceOrList_ThrowsArgumentNull()
    {
        Assert.Throws<ArgumentNullException>(() => Sequences.PadSequences(null!));
        var error = Assert.Throws<ArgumentNullException>(() => Sequences.PadSequences(new[] { new[] { 1 }, null! }, maxLen: 2))!;
        Assert.That(error.Message, Does.Contain("sequence 1"));
    }
}
