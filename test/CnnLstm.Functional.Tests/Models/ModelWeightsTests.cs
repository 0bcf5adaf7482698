using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;

namespace KerasStyle.Tests.Models;

public class ModelWeightsTests
{
    private string directory = null!;

    [SetUp]
    public void Setup()
    {
        Backend.ClearSession();
        Utils.SetRandomSeed(13);
        directory = Directory.CreateTempSubdirectory("ks-weights-").FullName;
    }

    [TearDown]
    public void RemoveFiles() => Directory.Delete(directory, recursive: true);

    [Test]
    public void GetWeights_RegressionModel_KerasOrderAndShapes()
    {
        using var model = CnnLstmModels.Regression();
        var weights = model.GetWeights();
        Assert.That(weights.Select(w => w.ShapeText()), Is.EqualTo(new[]
        {
            "(1, 3, 10)", "(10,)", "(10, 280)", "(70, 280)", "(280,)", "(70, 1)", "(1,)",
        }));
        Assert.That(weights.Sum(w => w.Data.Length), Is.EqualTo(22791));
        Assert.That(model.Layers.SelectMany(l => l.Weights).Select(w => w.FullName), Is.EqualTo(new[]
        {
            "conv1d_1/kernel:0", "conv1d_1/bias:0", "lstm_1/kernel:0", "lstm_1/recurrent_kernel:0", "lstm_1/bias:0", "dense_1/kernel:0", "dense_1/bias:0",
        }));
    }

    [Test]
    public void Dense_KernelIsInputsByUnits()
    {
        var input = new Input(new[] { 2 });
        using var model = new Model(input, new Dense(3).Call(input));
        var kernel = new float[2, 3];
        kernel[0, 2] = 1;
        kernel[1, 0] = 10;
        model.SetWeights(new[] { WeightArray.FromArray(kernel), new WeightArray(new[] { 3 }, new[] { 0f, 0.5f, 0f }) });
        var y = (float[,])model.Predict(new float[,] { { 3f, 5f } });
        Assert.That(y, Is.EqualTo(new float[,] { { 50f, 0.5f, 3f } }));
    }

    [Test]
    public void Conv1D_KernelIsWindowByInChannelsByFilters()
    {
        var input = new Input(new[] { 4, 2 });
        using var model = new Model(input, new Conv1D(filters: 3, kernelSize: 2).Call(input));
        Assert.That(model.GetWeights()[0].ShapeText(), Is.EqualTo("(2, 2, 3)"));
        var kernel = new float[2, 2, 3];
        kernel[1, 0, 2] = 1; // filter 2 reads channel 0 of the window's second step
        model.SetWeights(new[] { WeightArray.FromArray(kernel), new WeightArray(new[] { 3 }, new float[3]) });
        var x = new float[1, 4, 2];
        for (var t = 0; t < 4; t++)
        {
            x[0, t, 0] = t + 1;
            x[0, t, 1] = 100;
        }

        var y = (float[,,])model.Predict(x);
        Assert.That(Enumerable.Range(0, 3).Select(t => y[0, t, 2]), Is.EqualTo(new[] { 2f, 3f, 4f }));
        Assert.That(Enumerable.Range(0, 3).Select(t => y[0, t, 0]), Is.All.EqualTo(0f));
    }

    [Test]
    public void Lstm_KernelsAndOneBias_InGateOrderIFCO_MatchKerasStepByStep()
    {
        const int units = 2, features = 3, steps = 3;
        var input = new Input(new[] { steps, features });
        using var model = new Model(input, new LSTM(units).Call(input));
        var shapes = model.GetWeights().Select(w => w.ShapeText());
        Assert.That(shapes, Is.EqualTo(new[] { "(3, 8)", "(2, 8)", "(8,)" }));

        var random = new Random(2);
        float[] Values(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        var kernel = Values(features * 4 * units);
        var recurrent = Values(units * 4 * units);
        var bias = Values(4 * units);
        model.SetWeights(new[] { new WeightArray(new[] { features, 4 * units }, kernel), new WeightArray(new[] { units, 4 * units }, recurrent), new WeightArray(new[] { 4 * units }, bias) });
        var x = new float[1, steps, features];
        foreach (var (t, f) in from t in Enumerable.Range(0, steps) from f in Enumerable.Range(0, features) select (t, f))
        {
            x[0, t, f] = (float)(random.NextDouble() * 2 - 1);
        }

        // Keras: z = x K + h R + b, blocks i, f, c, o; c = f c + i tanh(z_c); h = o tanh(c).
        var h = new double[units];
        var c = new double[units];
        for (var t = 0; t < steps; t++)
        {
            var z = new double[4 * units];
            for (var j = 0; j < 4 * units; j++)
            {
                z[j] = bias[j];
                for (var f = 0; f < features; f++)
                {
                    z[j] += x[0, t, f] * kernel[(f * 4 * units) + j];
                }

                for (var u = 0; u < units; u++)
                {
                    z[j] += h[u] * recurrent[(u * 4 * units) + j];
                }
            }

            for (var u = 0; u < units; u++)
            {
                var i = Sigmoid(z[u]);
                var forget = Sigmoid(z[units + u]);
                var candidate = Math.Tanh(z[(2 * units) + u]);
                var o = Sigmoid(z[(3 * units) + u]);
                c[u] = (forget * c[u]) + (i * candidate);
                h[u] = o * Math.Tanh(c[u]);
            }
        }

        var y = (float[,])model.Predict(x);
        Assert.That(new double[] { y[0, 0], y[0, 1] }, Is.EqualTo(h).Within(1e-6));
    }

    [Test]
    public void Lstm_InitialBias_HasTheForgetBlockAtOne()
    {
        var input = new Input(new[] { 1, 3 });
        using var model = new Model(input, new LSTM(2).Call(input));
        Assert.That(model.GetWeights()[2].Data, Is.EqualTo(new float[] { 0, 0, 1, 1, 0, 0, 0, 0 }));
    }

    [Test]
    public void Embedding_RowIsTheVectorOfThatId()
    {
        var input = new Input(new[] { 3 }, dtype: DType.Int64);
        using var model = new Model(input, new Embedding(4, 2).Call(input));
        Assert.That(model.GetWeights()[0].ShapeText(), Is.EqualTo("(4, 2)"));
        model.SetWeights(new[] { new WeightArray(new[] { 4, 2 }, new float[] { 0, 1, 10, 11, 20, 21, 30, 31 }) });
        var y = (float[,,])model.Predict(new long[,] { { 3, 0, 2 } });
        Assert.That(y, Is.EqualTo(new float[,,] { { { 30, 31 }, { 0, 1 }, { 20, 21 } } }));
    }

    [Test]
    public void SetWeights_GetWeights_RoundTrip()
    {
        using var model = CnnLstmModels.Regression();
        var changed = model.GetWeights().Select(w => new WeightArray(w.Shape.ToArray(), w.Data.Select(v => v + 0.25f).ToArray())).ToArray();
        model.SetWeights(changed);
        Assert.That(model.GetWeights().Select(w => w.Data), Is.EqualTo(changed.Select(w => w.Data)));
    }

    [Test]
    public void SetWeights_WrongCount_SaysHowManyAndChangesNothing()
    {
        using var model = CnnLstmModels.Regression();
        var before = TinyModels.Flat(model);
        var values = model.GetWeights().Take(6).ToArray();
        var e = Assert.Throws<ArgumentException>(() => model.SetWeights(values));
        Assert.That(e!.ParamName, Is.EqualTo("values"));
        Assert.That(e.Message, Does.Contain("has 7 weights, but 6 values were given"));
        Assert.That(TinyModels.Flat(model), Is.EqualTo(before));
    }

    [Test]
    public void SetWeights_WrongShape_NamesLayerWeightAndBothShapes_AndWritesNothing()
    {
        using var model = CnnLstmModels.Regression();
        var before = TinyModels.Flat(model);
        var values = model.GetWeights().Select(w => new WeightArray(w.Shape.ToArray(), new float[w.Data.Length])).ToArray();
        values[3] = new WeightArray(new[] { 70, 279 }, new float[70 * 279]);
        var e = Assert.Throws<ArgumentException>(() => model.SetWeights(values));
        Assert.That(e!.Message, Is.EqualTo("LSTM 'lstm_1': weight 'recurrent_kernel' has shape (70, 280), but the value given has shape (70, 279). (Parameter 'values')"));
        Assert.That(TinyModels.Flat(model), Is.EqualTo(before), "the conv1d values before the bad one were not written either");
    }

    [Test]
    public void LayerSetWeights_WrongCount_ListsTheLayersWeights()
    {
        using var model = CnnLstmModels.Regression();
        var dense = model.GetLayer("dense_1");
        var e = Assert.Throws<ArgumentException>(() => dense.SetWeights(new[] { dense.GetWeights()[0] }));
        Assert.That(e!.Message, Does.Contain("Dense 'dense_1' has 2 weights (kernel (70, 1), bias (1,)), but 1 values were given"));
    }

    [Test]
    public void WeightArray_DataNotMatchingShape_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => new WeightArray(new[] { 2, 3 }, new float[5]));
        Assert.That(e!.Message, Does.Contain("shape (2, 3) holds 6 values, but 5 were given"));
    }

    [Test]
    public void WeightArray_FromArrayAndToArray_KeepShapeAndRowMajorOrder()
    {
        var values = new float[,] { { 1, 2, 3 }, { 4, 5, 6 } };
        var weight = WeightArray.FromArray(values);
        Assert.That(weight.Shape, Is.EqualTo(new[] { 2, 3 }));
        Assert.That(weight.Data, Is.EqualTo(new float[] { 1, 2, 3, 4, 5, 6 }));
        Assert.That(weight.ToArray(), Is.EqualTo(values));
    }

    [Test]
    public void SaveWeights_LoadWeights_RoundTripRestoresPredictions()
    {
        using var model = CnnLstmModels.Regression();
        var x = new float[,,] { { { 0.1f, 0.5f, 0.9f } }, { { 0.3f, 0.2f, 0.1f } } };
        var expected = (float[,])model.Predict(x);
        var saved = TinyModels.Flat(model);
        var path = Path.Combine(directory, "regression.weights.h5");
        model.SaveWeights(path);
        model.SetWeights(model.GetWeights().Select(w => new WeightArray(w.Shape.ToArray(), new float[w.Data.Length])).ToArray());
        model.LoadWeights(path);
        Assert.That(TinyModels.Flat(model), Is.EqualTo(saved));
        Assert.That(model.Predict(x), Is.EqualTo(expected));
    }

    [Test]
    public void SaveWeights_IntoAnotherModelOfTheSameArchitecture()
    {
        var path = Path.Combine(directory, "w.weights.h5");
        using var first = CnnLstmModels.Regression();
        first.SaveWeights(path);
        using var second = CnnLstmModels.Regression();
        Assert.That(TinyModels.Flat(second), Is.Not.EqualTo(TinyModels.Flat(first)));
        second.LoadWeights(path);
        Assert.That(TinyModels.Flat(second), Is.EqualTo(TinyModels.Flat(first)));
    }

    [Test]
    public void SaveWeights_OverwritesAnExistingFile()
    {
        var path = Path.Combine(directory, "w.weights.h5");
        using var model = CnnLstmModels.Regression();
        model.SaveWeights(path);
        var changed = model.GetWeights().Select(w => new WeightArray(w.Shape.ToArray(), w.Data.Select(v => v * 2).ToArray())).ToArray();
        model.SetWeights(changed);
        model.SaveWeights(path);
        using var other = CnnLstmModels.Regression();
        other.LoadWeights(path);
        Assert.That(TinyModels.Flat(other), Is.EqualTo(TinyModels.Flat(model)));
        Assert.That(Directory.GetFiles(directory), Has.Length.EqualTo(1));
    }

    [Test]
    public void SaveWeights_LongFileName_Works()
    {
        // A valid name close to the 255-byte limit: the temporary file beside it must still have a valid name.
        var path = Path.Combine(directory, new string('w', 240) + ".weights.h5");
        using var model = CnnLstmModels.Regression();
        model.SaveWeights(path);
        model.LoadWeights(path);
        Assert.That(Directory.GetFiles(directory), Is.EqualTo(new[] { path }));
    }

    [Test]
    public void SaveWeights_FailingLayer_LeavesTheOldFileIntact()
    {
        var path = Path.Combine(directory, "w.weights.h5");
        using var model = CnnLstmModels.Regression();
        model.SaveWeights(path);
        var old = File.ReadAllBytes(path);
        model.GetLayer("lstm_1").Dispose(); // its weights can no longer be read
        Assert.Catch<Exception>(() => model.SaveWeights(path));
        Assert.That(File.ReadAllBytes(path), Is.EqualTo(old));
        Assert.That(Directory.GetFiles(directory), Is.EqualTo(new[] { path }), "no temporary file left behind");
    }

    [Test]
    public void SaveWeights_FailingRename_LeavesNoTemporaryFile()
    {
        // The target is a directory: the data is written to a temporary file, then the rename fails.
        var target = Directory.CreateDirectory(Path.Combine(directory, "taken.weights.h5")).FullName;
        File.WriteAllText(Path.Combine(target, "keep.txt"), "keep");
        using var model = CnnLstmModels.Regression();
        Assert.Catch<IOException>(() => model.SaveWeights(target));
        Assert.That(Directory.GetFiles(directory), Is.Empty);
        Assert.That(File.ReadAllText(Path.Combine(target, "keep.txt")), Is.EqualTo("keep"));
    }

    [Test]
    public void SaveWeights_MissingDirectory_NamesIt()
    {
        using var model = CnnLstmModels.Regression();
        var e = Assert.Throws<DirectoryNotFoundException>(() => model.SaveWeights(Path.Combine(directory, "nope", "w.weights.h5")));
        Assert.That(e!.Message, Does.Contain(Path.Combine(directory, "nope")));
    }

    [TestCase(3)]
    [TestCase(20)]
    [TestCase(200)]
    [TestCase(-2000)]
    public void LoadWeights_TruncatedFile_ThrowsKerasFileExceptionNamingTheFile_AndChangesNothing(int keep)
    {
        var path = Path.Combine(directory, "w.weights.h5");
        using var model = CnnLstmModels.Regression();
        model.SaveWeights(path);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(keep > 0 ? keep : bytes.Length + keep)]);
        using var other = CnnLstmModels.Regression();
        var before = TinyModels.Flat(other);
        var e = Assert.Throws<KerasStyle.Saving.KerasFileException>(() => other.LoadWeights(path));
        Assert.That(e!.Message, Does.Contain(path));
        Assert.That(TinyModels.Flat(other), Is.EqualTo(before));
    }

    [Test]
    public void LoadWeights_FileMissingItsLastBytes_ThrowsOrLoadsExactlyTheSavedValues()
    {
        // HDF5 may end in bytes no weight needs; what must never happen is a silent load of wrong values.
        var path = Path.Combine(directory, "w.weights.h5");
        using var model = CnnLstmModels.Regression();
        model.SaveWeights(path);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^4]);
        using var other = CnnLstmModels.Regression();
        var before = TinyModels.Flat(other);
        try
        {
            other.LoadWeights(path);
            Assert.That(TinyModels.Flat(other), Is.EqualTo(TinyModels.Flat(model)));
        }
        catch (KerasStyle.Saving.KerasFileException e)
        {
            Assert.That(e.Message, Does.Contain(path));
            Assert.That(TinyModels.Flat(other), Is.EqualTo(before));
        }
    }

    [Test]
    public void LoadWeights_OtherArchitecture_ThrowsKerasFileExceptionAndChangesNothing()
    {
        var path = Path.Combine(directory, "w.weights.h5");
        using (var small = CnnLstmModels.Regression(lstmUnits: 5))
        {
            small.SaveWeights(path);
        }

        using var model = CnnLstmModels.Regression();
        var before = TinyModels.Flat(model);
        var e = Assert.Throws<KerasStyle.Saving.KerasFileException>(() => model.LoadWeights(path));
        Assert.That(e!.Message, Does.Contain(path).And.Contain("(10, 20)").And.Contain("(10, 280)"));
        Assert.That(TinyModels.Flat(model), Is.EqualTo(before));
    }

    [Test]
    public void LoadWeights_NotAWeightsFile_ThrowsKerasFileException()
    {
        var path = Path.Combine(directory, "notes.weights.h5");
        File.WriteAllText(path, "these are not weights");
        using var model = CnnLstmModels.Regression();
        var e = Assert.Throws<KerasStyle.Saving.KerasFileException>(() => model.LoadWeights(path));
        Assert.That(e!.Message, Does.Contain(path));
    }

    private static double Sigmoid(double z) => 1 / (1 + Math.Exp(-z));
}
