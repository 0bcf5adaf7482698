using KerasStyle.Graph;
using KerasStyle.Layers;

namespace KerasStyle.Tests.Layers;

public class MaxPooling1DTests
{
    [SetUp]
    public void FreshNames() => Backend.ClearSession();

    // Input (None, 10, 3). Keras: valid -> floor((L - pool) / strides) + 1; same -> ceil(L / strides).
    [TestCase(2, null, "valid", 5)]
    [TestCase(3, null, "valid", 3)]
    [TestCase(3, null, "same", 4)]
    [TestCase(3, 2, "valid", 4)]
    [TestCase(3, 2, "same", 5)]
    [TestCase(4, 1, "valid", 7)]
    [TestCase(10, null, "valid", 1)]
    [TestCase(1, null, "valid", 10)]
    [TestCase(4, null, "same", 3)]
    public void Call_OnLength10_GivesKerasOutputLength(int poolSize, int? strides, string padding, int expectedSteps)
    {
        var output = new MaxPooling1D(poolSize, strides, padding).Call(new Input(new[] { 10, 3 }));
        Assert.That(output.Shape, Is.EqualTo(new Shape(null, expectedSteps, 3)));
    }

    [Test]
    public void Constructor_Defaults_ArePoolTwoStridesEqualPoolValid()
    {
        var pool = new MaxPooling1D();
        Assert.That(pool.PoolSize, Is.EqualTo(2));
        Assert.That(pool.Strides, Is.EqualTo(2));
        Assert.That(pool.Padding, Is.EqualTo("valid"));
    }

    [Test]
    public void Constructor_WithoutStrides_UsesPoolSize()
    {
        Assert.That(new MaxPooling1D(4).Strides, Is.EqualTo(4));
        Assert.That(new MaxPooling1D(4, strides: 1).Strides, Is.EqualTo(1));
    }

    [Test]
    public void Call_HasNoWeights()
    {
        var pool = new MaxPooling1D(4);
        pool.Call(new Input(new[] { 96, 64 }));
        Assert.That(pool.Weights, Is.Empty);
        Assert.That(pool.CountParams(), Is.EqualTo(0));
    }

    [Test]
    public void Call_WithPoolLongerThanSequence_ThrowsNamingLayerAndShape()
    {
        // The seed's MaxPooling1D(pool_length=4) on the regression model's (None, 1, 10).
        var pool = new MaxPooling1D(4);
        var error = Assert.Throws<LayerInputException>(() => pool.Call(new Input(new[] { 1, 10 })))!;
        Assert.That(error.Message, Does.Contain("max_pooling1d_1"));
        Assert.That(error.Message, Does.Contain("(None, 1, 10)"));
        Assert.That(error.LayerName, Is.EqualTo("max_pooling1d_1"));
        Assert.That(pool.InboundNodes, Is.Empty);
    }

    [Test]
    public void Call_WithPoolLongerThanSequenceAndSamePadding_GivesOneStep()
    {
        var output = new MaxPooling1D(4, padding: "same").Call(new Input(new[] { 1, 10 }));
        Assert.That(output.Shape, Is.EqualTo(new Shape(null, 1, 10)));
    }

    [Test]
    public void Call_OnRank2Input_ThrowsLayerInputException()
    {
        var error = Assert.Throws<LayerInputException>(() => new MaxPooling1D().Call(new Input(new[] { 8 })))!;
        Assert.That(error.Message, Does.Contain("(None, 8)"));
    }

    [TestCase(0)]
    [TestCase(-3)]
    public void Constructor_WithNonPositivePoolOrStrides_ThrowsArgumentOutOfRange(int value)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new MaxPooling1D(value));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MaxPooling1D(2, strides: value));
    }

    [Test]
    public void Constructor_WithCausalPadding_ThrowsArgumentExceptionNamingIt()
    {
        var error = Assert.Throws<ArgumentException>(() => new MaxPooling1D(2, padding: "causal"))!;
        Assert.That(error.Message, Does.Contain("'causal'"));
    }

    [Test]
    public void Predict_Valid_TakesWindowMaximaAndDropsTheRemainder()
    {
        var x = Channels(new float[] { 1, 3, -2, 5, 9 }, new float[] { -1, -4, -6, -3, -7 });

        var y = (float[,,])TestData.Run(new MaxPooling1D(2), new[] { 5, 2 }, x);

        // Windows [0, 1] and [2, 3]; step 4 does not fill a window.
        Assert.That(y, Is.EqualTo(Channels(new float[] { 3, 5 }, new float[] { -1, -3 })));
    }

    [Test]
    public void Predict_SameWithRightPadding_PaddedCellNeverWins()
    {
        var x = Channels(new float[] { 1, 3, -2, 5, 9 }, new float[] { -1, -4, -6, -3, -7 });

        var y = (float[,,])TestData.Run(new MaxPooling1D(2, padding: "same"), new[] { 5, 2 }, x);

        // ceil(5 / 2) = 3 windows: [0, 1], [2, 3], [4, pad]. A zero pad would turn -7 into 0.
        Assert.That(y, Is.EqualTo(Channels(new float[] { 3, 5, 9 }, new float[] { -1, -3, -7 })));
    }

    [Test]
    public void Predict_SameWithPaddingOnBothSides_PaddedCellsNeverWin()
    {
        var x = Channels(new float[] { -5, -2, -8, -1 }, new float[] { -3, -9, -4, -6 });

        var y = (float[,,])TestData.Run(new MaxPooling1D(3, strides: 1, padding: "same"), new[] { 4, 2 }, x);

        // Total padding (4 - 1) * 1 + 3 - 4 = 2: one cell on each side. Windows [pad, 0, 1], [0, 1, 2], [1, 2, 3], [2, 3, pad].
        Assert.That(y, Is.EqualTo(Channels(new float[] { -2, -2, -1, -1 }, new float[] { -3, -3, -4, -4 })));
    }

    [Test]
    public void Predict_SameWithStridesLongerThanPool_UsesTensorFlowWindows()
    {
        var x = Channels(new float[] { -1, -2, -3, -4, -5, -6, -7 });

        var y = (float[,,])TestData.Run(new MaxPooling1D(2, strides: 3, padding: "same"), new[] { 7, 1 }, x);

        // ceil(7 / 3) = 3 windows; total padding 2 * 3 + 2 - 7 = 1, on the right: [0, 1], [3, 4], [6, pad].
        Assert.That(y, Is.EqualTo(Channels(new float[] { -1, -4, -7 })));
    }

    [Test]
    public void Predict_OverTwoSamples_PoolsEachSampleSeparately()
    {
        var x = new float[2, 4, 1];
        for (var t = 0; t < 4; t++)
        {
            x[0, t, 0] = t;
            x[1, t, 0] = -t;
        }

        var y = (float[,,])TestData.Run(new MaxPooling1D(2), new[] { 4, 1 }, x);

        Assert.That(y, Is.EqualTo(new float[,,] { { { 1 }, { 3 } }, { { 0 }, { -2 } } }));
    }

    /// <summary>One sample whose channel c runs over <paramref name="channels"/>[c].</summary>
    private static float[,,] Channels(params float[][] channels)
    {
        var x = new float[1, channels[0].Length, channels.Length];
        for (var c = 0; c < channels.Length; c++)
        {
            for (var t = 0; t < channels[c].Length; t++)
            {
                x[0, t, c] = channels[c][t];
            }
        }

        return x;
    }
}
