using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Tests.Models;
using KerasStyle.Training.Optimizers;
using PureHDF;

namespace KerasStyle.Tests.Saving;

/// <summary>Keras 3 <c>.weights.h5</c> files: layout, round trips and the optimizer variables Keras keeps in them.</summary>
public class Keras3WeightsH5Tests : SavingTestBase
{
    [Test]
    public void SaveWeights_NamesLayerGroupsByClassWithCounters()
    {
        var input = new Input(new[] { 4 });
        var hidden = new Dense(3, name: "first").Call(input);
        using var model = new Model(input, new Dense(2, name: "second").Call(new Dense(5, name: "third").Call(hidden)));
        var path = PathOf("counters.weights.h5");
        model.SaveWeights(path);

        using var file = H5File.OpenRead(path);
        Assert.That(file.Group("layers").Children().Select(c => c.Name), Is.EquivalentTo(new[] { "input_layer", "dense", "dense_1", "dense_2" }));
        Assert.That(file.Dataset("layers/dense/vars/0").Space.Dimensions, Is.EqualTo(new ulong[] { 4, 3 }));
        Assert.That(file.Dataset("layers/dense_1/vars/0").Space.Dimensions, Is.EqualTo(new ulong[] { 3, 5 }));
        Assert.That(file.Dataset("layers/dense_2/vars/1").Read<float[]>(), Is.EqualTo(model.GetLayer("second").GetWeights()[1].Data));
        Assert.That(file.LinkExists("optimizer"), Is.False, "an uncompiled model has no optimizer");
    }

    [Test]
    public void SaveThenLoad_RestoresWeightsAndOptimizerState()
    {
        var (x, y) = ModelFitTests.SeparableSequences(20);
        using var model = LstmClassifier();
        model.Compile("adam", "binary_crossentropy");
        model.Fit(x, y, batchSize: 5, epochs: 1, verbose: 0, shuffle: false);
        var path = PathOf("state.weights.h5");
        model.SaveWeights(path);

        Utils.SetRandomSeed(42);
        using var other = LstmClassifier();
        other.Compile("adam", "binary_crossentropy");
        other.LoadWeights(path);
        Assert.That(Bits(other), Is.EqualTo(Bits(model)));
        Assert.That(other.Optimizer!.Iterations, Is.EqualTo(4));

        model.Fit(x, y, batchSize: 5, epochs: 1, verbose: 0, shuffle: false);
        other.Fit(x, y, batchSize: 5, epochs: 1, verbose: 0, shuffle: false);
        Assert.That(Bits(other), Is.EqualTo(Bits(model)), "the moments were restored, so the next epoch is identical");
    }

    [Test]
    public void StoredAdamMoments_DriveTheNextUpdate_AsKerasFormula()
    {
        // One weight w, loss (w x - y)^2 with x = 1, y = 0: gradient 2 w. The file holds step 5 and moments m, v.
        const float w = 0.5f, m = 0.3f, v = 0.04f;
        var path = PathOf("adam.weights.h5");
        new H5File
        {
            ["layers"] = new H5Group
            {
                ["input_layer"] = new H5Group { ["vars"] = new H5Group() },
                ["dense"] = new H5Group { ["vars"] = new H5Group { ["0"] = new H5Dataset(new[] { w }, fileDims: new ulong[] { 1, 1 }) } },
            },
            ["optimizer"] = new H5Group
            {
                ["vars"] = new H5Group
                {
                    ["0"] = 5L,
                    ["1"] = 0.1f,
                    ["2"] = new H5Dataset(new[] { m }, fileDims: new ulong[] { 1, 1 }),
                    ["3"] = new H5Dataset(new[] { v }, fileDims: new ulong[] { 1, 1 }),
                },
            },
            ["vars"] = new H5Group(),
        }.Write(path);

        var input = new Input(new[] { 1 });
        using var model = new Model(input, new Dense(1, useBias: false).Call(input));
        model.Compile(new Adam(learningRate: 0.1), "mse");
        model.LoadWeights(path);
        Assert.That(model.Optimizer!.LearningRate, Is.EqualTo(0.1), "0.1f is the float32 of the exact 0.1 kept");
        model.TrainOnBatch(new float[,] { { 1f } }, new float[,] { { 0f } });

        double g = 2 * w, step = 6;
        var mNew = (0.9 * m) + (0.1 * g);
        var vNew = (0.999 * v) + (0.001 * g * g);
        var lrT = 0.1 * Math.Sqrt(1 - Math.Pow(0.999, step)) / (1 - Math.Pow(0.9, step));
        var expected = w - (lrT * mNew / (Math.Sqrt(vNew) + 1e-7));
        Assert.That(model.GetWeights()[0].Data[0], Is.EqualTo((float)expected).Within(1e-6));
        Assert.That(model.Optimizer.Iterations, Is.EqualTo(6));
    }

    [Test]
    public void OptimizerVariablesThatDoNotFit_AreSkippedWithAWarning()
    {
        var (x, y) = ModelFitTests.SeparableSequences(10);
        using var model = LstmClassifier();
        model.Compile("adam", "binary_crossentropy");
        model.Fit(x, y, batchSize: 5, epochs: 1, verbose: 0);
        var path = PathOf("adam.weights.h5");
        model.SaveWeights(path);

        using var other = LstmClassifier();
        other.Compile(new SGD(0.1, momentum: 0.5), "binary_crossentropy");
        other.LoadWeights(path);
        Assert.That(Bits(other), Is.EqualTo(Bits(model)));
        Assert.That(other.Optimizer!.Iterations, Is.EqualTo(0));
        Assert.That(RaisedWarnings, Has.One.Contains("optimizer variables").And.Contains("SGD"));
    }

    [Test]
    public void ByName_IsRefusedForKeras3Files()
    {
        using var model = LstmClassifier();
        var path = PathOf("k3.weights.h5");
        model.SaveWeights(path);
        Assert.That(() => model.LoadWeights(path, byName: true), Throws.ArgumentException.With.Message.Contains("Keras 2"));
    }

    [Test]
    public void LoadWeights_FromKerasArchive_Works()
    {
        using var model = CnnLstmModels.Regression();
        var path = PathOf("whole.keras");
        model.Save(path);
        Utils.SetRandomSeed(8);
        using var other = CnnLstmModels.Regression();
        other.LoadWeights(path);
        Assert.That(Bits(other), Is.EqualTo(Bits(model)));
    }

    [Test]
    public void SaveWeights_UnknownExtensions_AreRefused()
    {
        using var model = LstmClassifier();
        Assert.That(() => model.SaveWeights(PathOf("w.keras")), Throws.ArgumentException.With.Message.Contains("Save"));
        Assert.That(() => model.SaveWeights(PathOf("w.ksw")), Throws.ArgumentException.With.Message.Contains(".weights.h5"));
        Assert.That(() => model.LoadWeights(PathOf("w.bin")), Throws.ArgumentException);
    }

    private static Model LstmClassifier()
    {
        var input = new Input(new[] { 4, 2 });
        return new Model(input, new Dense(1, activation: "sigmoid").Call(new LSTM(3).Call(input)));
    }
}
