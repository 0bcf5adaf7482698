using KerasStyle.Graph;
using KerasStyle.Layers;

namespace KerasStyle.Tests.Layers;

public class EmbeddingTests
{
    [SetUp]
    public void FreshNames() => Backend.ClearSession();

    [TestCase(DType.Int64)]
    [TestCase(DType.Int32)]
    public void Call_OnTokenIds_GivesBatchLengthOutputDim(DType dtype)
    {
        var output = new Embedding(10, 4).Call(new Input(new[] { 5 }, dtype));
        Assert.That(output.Shape, Is.EqualTo(new Shape(null, 5, 4)));
        Assert.That(output.DType, Is.EqualTo(DType.Float32));
    }

    [Test]
    public void Weights_AreOneEmbeddingsMatrix()
    {
        var embedding = new Embedding(10, 4);
        embedding.Call(new Input(new[] { 5 }, DType.Int64));
        Assert.That(embedding.Weights.Select(w => w.Name), Is.EqualTo(new[] { "embeddings" }));
        Assert.That(embedding.Weights[0].Shape, Is.EqualTo(new[] { 10, 4 }));
        Assert.That(embedding.CountParams(), Is.EqualTo(40));
    }

    [Test]
    public void Build_InitialisesUniformWithinFiveHundredths()
    {
        var embedding = new Embedding(1000, 50);
        embedding.Call(new Input(new[] { 3 }, DType.Int64));
        var values = TestData.Flat(embedding.Weights[0]);

        Assert.That(values, Has.All.InRange(-0.05f, 0.05f));
        // 50,000 draws reach within 1% of both ends, and spread evenly around 0.
        Assert.That(values.Max(), Is.GreaterThan(0.0495f));
        Assert.That(values.Min(), Is.LessThan(-0.0495f));
        Assert.That(values.Average(v => (double)v), Is.EqualTo(0).Within(0.001));
    }

    [Test]
    public void Call_OnFloatInput_ThrowsLayerInputExceptionMentioningInt()
    {
        var error = Assert.Throws<LayerInputException>(() => new Embedding(10, 4).Call(new Input(new[] { 5 })))!;
        Assert.That(error.Message, Does.Contain("int"));
        Assert.That(error.Message, Does.Contain("float32"));
        Assert.That(error.Message, Does.Contain("embedding_1"));
    }

    [Test]
    public void Call_OnRank3Input_ThrowsLayerInputException()
    {
        var error = Assert.Throws<LayerInputException>(() => new Embedding(10, 4).Call(new Input(new[] { 5, 2 }, DType.Int64)))!;
        Assert.That(error.Message, Does.Contain("(None, 5, 2)"));
    }

    [Test]
    public void Call_WithOtherLengthThanInputLength_ThrowsLayerInputException()
    {
        var error = Assert.Throws<LayerInputException>(() => new Embedding(10, 4, inputLength: 6).Call(new Input(new[] { 5 }, DType.Int64)))!;
        Assert.That(error.Message, Does.Contain("(None, 5)"));
    }

    [TestCase(0, 4)]
    [TestCase(10, 0)]
    [TestCase(-1, 4)]
    public void Constructor_WithNonPositiveSizes_ThrowsArgumentOutOfRange(int inputDim, int outputDim) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new Embedding(inputDim, outputDim));

    [Test]
    public void Predict_LooksUpTheRowsOfTheEmbeddingsMatrix()
    {
        var embedding = new Embedding(10, 4);
        var ids = new long[,] { { 0, 9, 3 }, { 3, 3, 1 } };

        var y = (float[,,])TestData.Run(embedding, new[] { 3 }, ids, DType.Int64);

        var table = TestData.Weight2(embedding.Weights[0]);
        Assert.That(TestData.Dims(y), Is.EqualTo(new[] { 2, 3, 4 }));
        for (var b = 0; b < 2; b++)
        {
            for (var t = 0; t < 3; t++)
            {
                for (var d = 0; d < 4; d++)
                {
                    Assert.That(y[b, t, d], Is.EqualTo(table[ids[b, t], d]), $"y[{b}, {t}, {d}]");
                }
            }
        }
    }

    [Test]
    public void Predict_WithInt32Ids_GivesTheSameRows()
    {
        var embedding = new Embedding(10, 4);
        var model = TestData.Wrap(embedding, new[] { 2 }, DType.Int32);
        var fromInt = (float[,,])model.Predict(new[,] { { 7, 2 } });
        var fromLong = (float[,,])model.Predict(new long[,] { { 7, 2 } });
        Assert.That(fromInt, Is.EqualTo(fromLong));
    }

    [TestCase(10)]
    [TestCase(12)]
    [TestCase(-1)]
    public void Predict_WithTokenIdOutsideVocabulary_ThrowsArgumentOutOfRange(long badId)
    {
        var model = TestData.Wrap(new Embedding(10, 4), new[] { 3 }, DType.Int64);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => model.Predict(new long[,] { { 1, badId, 2 } }))!;
        Assert.That(error.Message, Does.Contain("embedding_1"));
        Assert.That(error.Message, Does.Contain("[0, 10)"));
    }

    [Test]
    public void Predict_WithFloatArray_ThrowsArgumentException()
    {
        var model = TestData.Wrap(new Embedding(10, 4), new[] { 3 }, DType.Int64);
        Assert.Throws<ArgumentException>(() => model.Predict(new float[1, 3]));
    }
}
