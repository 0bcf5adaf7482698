using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Training.Optimizers;
using PureHDF;

namespace KerasStyle.Tests.Saving;

/// <summary>Save("m.h5") writes the legacy full-model file as Keras 3.16 does (issue 11: it could not be written).</summary>
public class LegacyH5SaveTests
{
    // The file names the optimizer by its default name ("adam"), which counts optimizers made since the last ClearSession.
    [SetUp]
    public void Fresh() => Backend.ClearSession();

    [Test]
    public void SaveThenLoad_TrainedModel_KeepsPredictionsAndOptimizerState_AndTrainsOnAsTheKerasArchive()
    {
        var directory = Directory.CreateTempSubdirectory("ks-legacy-").FullName;
        try
        {
            var (x, y) = TinyModels.Blobs(16);
            var targets = y.Select(v => new[] { v }).ToArray();
            var y2 = new float[targets.Length, 1];
            for (var i = 0; i < targets.Length; i++)
            {
                y2[i, 0] = targets[i][0];
            }

            using var model = TinyModels.Mlp();
            model.Compile(new Adam(learningRate: 0.05), "binary_crossentropy", new[] { "accuracy" });
            model.Fit(x, y2, batchSize: 4, epochs: 2, verbose: 0, shuffle: false);
            var h5 = Path.Combine(directory, "m.h5");
            var keras = Path.Combine(directory, "m.keras");
            model.Save(h5);
            model.Save(keras);

            using (var file = H5File.OpenRead(h5))
            {
                Assert.That(file.Attribute("keras_version").Read<string>(), Is.EqualTo("3.16.0"));
                Assert.That(file.Group("optimizer_weights").Attribute("weight_names").Read<string[]>()[..2], Is.EqualTo(new[] { "adam/iteration", "adam/learning_rate" }));
            }

            using var fromH5 = Model.Load(h5);
            using var fromKeras = Model.Load(keras);
            Assert.That(fromH5.Predict(x), Is.EqualTo(model.Predict(x)));
            Assert.That(fromH5.Optimizer!.Iterations, Is.EqualTo(model.Optimizer!.Iterations));
            Assert.That(fromH5.Optimizer.LearningRate, Is.EqualTo(0.05));

            fromH5.Fit(x, y2, batchSize: 4, epochs: 1, verbose: 0, shuffle: false);
            fromKeras.Fit(x, y2, batchSize: 4, epochs: 1, verbose: 0, shuffle: false);
            Assert.That(fromH5.Predict(x), Is.EqualTo(fromKeras.Predict(x)), "the same optimizer state came back from both files");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Test]
    public void Save_OtherExtension_ThrowsNamingBothModelFormats()
    {
        var input = new Input(new[] { 2 });
        using var model = new Model(input, new Dense(1).Call(input));
        var error = Assert.Throws<ArgumentException>(() => model.Save("m.json"));
        Assert.That(error!.Message, Does.Contain(".keras").And.Contain(".h5"));
    }
}
