using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Training;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Models;

/// <summary>The data forms Fit, Evaluate and TrainOnBatch accept, and models with several inputs and outputs.</summary>
public class ModelInputsTests
{
    [SetUp]
    public void Seed()
    {
        Backend.ClearSession();
        Utils.SetRandomSeed(23);
    }

    [Test]
    public void SequencesAsFloat3D_TargetsAsFlatOrColumn_GiveTheSameResult()
    {
        var (x, y) = ModelFitTests.SeparableSequences(12);
        var column = new float[12, 1];
        for (var i = 0; i < 12; i++)
        {
            column[i, 0] = y[i];
        }

        Assert.That(Train(x, column), Is.EqualTo(Train(x, y)));
    }

    [Test]
    public void TensorsAndArrays_GiveTheSameResult()
    {
        var (x, y) = ModelFitTests.SeparableSequences(12);
        using var xt = tensor(x.Cast<float>().ToArray(), new long[] { 12, 4, 2 });
        using var yt = tensor(y, new long[] { 12 });
        Assert.That(Train(xt, yt), Is.EqualTo(Train(x, y)));
    }

    [Test]
    public void DoubleArrays_AreConvertedToFloat32()
    {
        var (x, y) = ModelFitTests.SeparableSequences(12);
        var xd = new double[12, 4, 2];
        foreach (var (i, t, f) in from i in Enumerable.Range(0, 12) from t in Enumerable.Range(0, 4) from f in Enumerable.Range(0, 2) select (i, t, f))
        {
            xd[i, t, f] = x[i, t, f];
        }

        Assert.That(Train(xd, y.Select(v => (double)v).ToArray()), Is.EqualTo(Train(x, y)));
    }

    [Test]
    public void TokenIds_AsIntOrLong_GiveTheSameResult()
    {
        var ints = new int[8, 5];
        var longs = new long[8, 5];
        for (var i = 0; i < 8; i++)
        {
            for (var t = 0; t < 5; t++)
            {
                ints[i, t] = (i * 3 + t) % 10;
                longs[i, t] = ints[i, t];
            }
        }

        var y = Enumerable.Range(0, 8).Select(i => (float)(i % 2)).ToArray();
        float[] TrainIds(ModelData x)
        {
            Backend.ClearSession();
            Utils.SetRandomSeed(29);
            var input = new Input(new[] { 5 }, dtype: DType.Int64);
            using var model = new Model(input, new Dense(1, activation: "sigmoid").Call(new LSTM(2).Call(new Embedding(10, 3).Call(input))));
            model.Compile("adam", "binary_crossentropy");
            model.Fit(x, y, batchSize: 4, epochs: 2, verbose: 0);
            return TinyModels.Flat(model);
        }

        Assert.That(TrainIds(ints), Is.EqualTo(TrainIds(longs)));
    }

    [Test]
    public void SeveralInputsAndOutputs_TakeListsInModelOrder_AndLogPerOutputValues()
    {
        var a = new Input(new[] { 2 }, name: "a");
        var b = new Input(new[] { 3 }, name: "b");
        var outA = new Dense(1, activation: "sigmoid", name: "out_a").Call(a);
        var outB = new Dense(1, activation: "sigmoid", name: "out_b").Call(b);
        using var model = new Model(new[] { a, b }, new[] { outA, outB });
        model.Compile("adam", "binary_crossentropy", new[] { "accuracy" });
        var (xa, ya) = TinyModels.Blobs(10);
        var xb = new float[10, 3];
        var yb = new float[10];
        var history = model.Fit(new Array[] { xa, xb }, new Array[] { ya, yb }, batchSize: 5, epochs: 1, verbose: 0);
        var names = new[] { "loss", "out_a_loss", "out_b_loss", "out_a_accuracy", "out_b_accuracy" };
        Assert.That(model.MetricsNames, Is.EqualTo(names));
        Assert.That(history.Values.Keys, Is.EqualTo(names));
        var scores = model.Evaluate(new List<Array> { xa, xb }, new List<Array> { ya, yb });
        Assert.That(scores["loss"], Is.EqualTo(scores["out_a_loss"] + scores["out_b_loss"]).Within(1e-5), "Keras sums the output losses");

        var predictions = model.Predict(new Array[] { xa, xb });
        Assert.That(predictions, Has.Count.EqualTo(2));
        Assert.That(((float[,])predictions[1]).GetLength(0), Is.EqualTo(10));
        Assert.That(Assert.Throws<ArgumentException>(() => model.Predict(xa))!.Message, Does.Contain("has 2 inputs"));
    }

    [Test]
    public void SeveralInputs_SampleCountsMustAgree()
    {
        var a = new Input(new[] { 2 });
        var b = new Input(new[] { 3 });
        using var model = new Model(new[] { a, b }, new[] { new Dense(1).Call(a), new Dense(1).Call(b) });
        model.Compile("sgd", "mse");
        var e = Assert.Throws<ArgumentException>(() => model.Fit(new Array[] { new float[10, 2], new float[9, 3] }, new Array[] { new float[10], new float[10] }, verbose: 0));
        Assert.That(e!.ParamName, Is.EqualTo("x"));
        Assert.That(e.Message, Does.Contain("has 10 and").And.Contain("has 9"));
    }

    [Test]
    public void TrainOnBatch_ReturnsTheBatchValuesBeforeTheUpdate()
    {
        using var model = TinyModels.Linear(new float[,] { { 1f } });
        model.Compile(new KerasStyle.Training.Optimizers.SGD(learningRate: 0.1), "mse");
        var first = model.TrainOnBatch(new float[,] { { 1f } }, new float[] { 0f });
        var second = model.TrainOnBatch(new float[,] { { 1f } }, new float[] { 0f });
        Assert.That(first["loss"], Is.EqualTo(1.0).Within(1e-7));
        Assert.That(second["loss"], Is.EqualTo(0.8 * 0.8).Within(1e-6), "w = 1 - 0.1 * 2 = 0.8 after the first update");
    }

    private static float[] Train(ModelData x, ModelData y)
    {
        Backend.ClearSession();
        Utils.SetRandomSeed(29);
        var input = new Input(new[] { 4, 2 });
        using var model = new Model(input, new Dense(1, activation: "sigmoid").Call(new LSTM(3).Call(input)));
        model.Compile("adam", "binary_crossentropy", new[] { "accuracy" });
        model.Fit(x, y, batchSize: 4, epochs: 2, verbose: 0);
        return TinyModels.Flat(model);
    }
}
