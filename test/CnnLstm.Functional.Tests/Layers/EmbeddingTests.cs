using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;

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

    /// <summary>
    /// Issue 20: <c>TimeDistributed(Embedding(10))</c> fed id 15 failed with libtorch's bare <c>ExternalException</c>:
    /// the model's token-id check only looked at Embeddings its inputs fed directly or through a nested model. Wherever
    /// the Embedding sits, ids out of range are refused before anything runs, naming the Embedding and the range.
    /// </summary>
    [TestCase("TimeDistributed", 15)]
    [TestCase("TimeDistributed", -1)]
    [TestCase("nested model in a nested model", -3)]
    [TestCase("Sequential with TimeDistributed", 10)]
    public void TokenIdsOutOfRange_WhereverTheEmbeddingSits_AreRefusedBeforeAnythingRuns(string where, int badId)
    {
        var (model, embedding) = IdModel(where);
        using (model)
        {
            model.Compile("sgd", "mse");
            var weights = TinyModels.Flat(model);
            var x = new long[4, 3, 5];
            x[2, 1, 3] = badId;
            void Refused(Action call, string what)
            {
                var error = Assert.Throws<ArgumentOutOfRangeException>(() => call(), what);
                Assert.That(error!.ParamName, Is.EqualTo("x"), what);
                Assert.That(error.Message, Does.Contain($"Embedding '{embedding.Name}' accepts ids in [0, 10)").And.Contain(badId.ToString(System.Globalization.CultureInfo.InvariantCulture)), what);
            }

            Refused(() => model.Predict(x), "Predict");
            Refused(() => model.Fit(x, new float[4, 3, 2], verbose: 0), "Fit");
            Refused(() => model.Evaluate(x, new float[4, 3, 2]), "Evaluate");
            using var ids = TorchSharp.torch.tensor(x.Cast<long>().ToArray(), new long[] { 4, 3, 5 });
            Refused(() => model.PredictTensors(new[] { ids }), "PredictTensors");
            Assert.That(TinyModels.Flat(model), Is.EqualTo(weights), "nothing trained");
            Assert.That(model.Optimizer!.Iterations, Is.EqualTo(0));
            x[2, 1, 3] = 9;
            Assert.That(((float[,,])model.Predict(x)).GetLength(1), Is.EqualTo(3), "ids in range run");
        }
    }

    /// <summary>Ids that reach an Embedding another way than from a model input as they are, here through a Reshape, are checked by the layer.</summary>
    [TestCase(12)]
    [TestCase(-2)]
    public void TokenIdsOutOfRange_ComputedBeforeTheEmbedding_AreRefusedByTheLayer_NamingItAndTheRange(int badId)
    {
        var input = new Input(new[] { 2, 3 }, DType.Int64);
        var embedding = new Embedding(10, 2);
        using var model = new Model(input, embedding.Call(new Reshape(new[] { 6 }).Call(input)));
        var x = new long[2, 2, 3];
        x[1, 1, 2] = badId;
        foreach (var training in new[] { false, true })
        {
            var error = Assert.Throws<ArgumentOutOfRangeException>(() => model.Run(new[] { TorchSharp.torch.tensor(x.Cast<long>().ToArray(), new long[] { 2, 6 }) }, training));
            Assert.That(error!.Message, Does.Contain($"Embedding '{embedding.Name}'").And.Contain("[0, 10)").And.Contain($"id {badId} is out of range"));
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => model.Predict(x));
    }

    private static (Model Model, Embedding Embedding) IdModel(string where)
    {
        var embedding = new Embedding(10, 2);
        var ids = new Input(new[] { 3, 5 }, DType.Int64);
        KerasTensor Pool(KerasTensor t) => new TimeDistributed(new GlobalAveragePooling1D()).Call(t);
        switch (where)
        {
            case "TimeDistributed":
                return (new Model(ids, Pool(new TimeDistributed(embedding).Call(ids))), embedding);
            case "nested model in a nested model":
                var innerIds = new Input(new[] { 3, 5 }, DType.Int64);
                var inner = new Model(innerIds, new TimeDistributed(embedding).Call(innerIds));
                var middleIds = new Input(new[] { 3, 5 }, DType.Int64);
                var middle = new Model(middleIds, inner.Call(middleIds));
                return (new Model(ids, Pool(middle.Call(ids))), embedding);
            default:
                var sequential = new Sequential();
                sequential.Add(new Input(new[] { 3, 5 }, DType.Int64));
                sequential.Add(new TimeDistributed(embedding));
                sequential.Add(new TimeDistributed(new GlobalAveragePooling1D()));
                return (sequential, embedding);
        }
    }
}
