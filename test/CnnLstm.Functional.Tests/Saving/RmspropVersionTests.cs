using KerasStyle.Models;
using KerasStyle.Tests.Training.Optimizers;
using KerasStyle.Training.Optimizers;

namespace KerasStyle.Tests.Saving;

/// <summary>
/// The Keras version rule for RMSprop (docs/saving.md, "Keras version rule"): compiled from the training config of a
/// file written by Keras 2.0-2.3 or tf.keras 2.0-2.10 (or tf.keras 2.11+'s legacy optimizer, a config without
/// <c>"is_legacy_optimizer": false</c>), RMSprop keeps training with that Keras' update, lr g / (√a + ε); Keras 3
/// files, tf.keras 2.11+'s new optimizer and models built in code use Keras 3's lr g / √(a + ε). Expected kernels from
/// tools/keras-fixtures/rmsprop_keras2_update.py.
/// </summary>
public class RmspropVersionTests
{
    private static readonly List<double[]> Keras2Steps = new()
    {
        new[] { 0.4856571931, 0.2325240084 },
        new[] { 0.4742544790, 0.2191102434 },
        new[] { 0.4642566576, 0.2075258165 },
    };

    private static readonly List<double[]> Keras3Steps = new()
    {
        new[] { 0.4824588396, 0.2292049902 },
        new[] { 0.4686172464, 0.2137014783 },
        new[] { 0.4565921108, 0.2005112668 },
    };

    private static string RealModels => Path.GetFullPath(Path.Combine(TestPaths.RepositoryRoot, "..", "shared", "real-models"));

    [SetUp]
    public void Fresh() => Backend.ClearSession();

    [TestCase("set2/galalen__arabic-sentiment-analysis__lstm_model.h5", "2.2.2", true, Description = "Keras 2.2 optimizers.py")]
    [TestCase("set1/Chinmayadas2003__imdb-sentimentAnalysis__sentiment_model.h5", "3.4.1", false, Description = "Keras 3")]
    public void Load_RealFileCompiledWithRmsprop_TrainsWithTheUpdateOfTheKerasThatWroteIt(string file, string version, bool keras2)
    {
        var path = Path.Combine(RealModels, file);
        if (!File.Exists(path))
        {
            Assert.Ignore($"{path} is absent.");
        }

        using var model = Model.Load(path);

        Assert.That(model.KerasVersion, Is.EqualTo(version));
        Assert.That(model.Optimizer, Is.TypeOf<RMSprop>());
        Assert.That(((RMSprop)model.Optimizer!).Keras2Update, Is.EqualTo(keras2));
    }

    [Test]
    public void TfKeras2File_LegacyRmsprop_ResumesWithKeras2sUpdateAndItsOptimizerWeights()
    {
        var steps = TrainSaveLoadTrain(new RMSprop(learningRate: 0.01, rho: 0.8, epsilon: 0.5, keras2Update: true), ".h5", H5Format.TfKeras2, out var keras2Update);

        Assert.That(keras2Update, Is.True, "a tf.keras 2 training_config without is_legacy_optimizer: false is the legacy optimizer");
        OptimizerProblem.AssertSteps(steps, Keras2Steps);
    }

    [TestCase(".h5", H5Format.TfKeras2, Description = "tf.keras 2.11's new optimizer: is_legacy_optimizer false")]
    [TestCase(".keras", H5Format.Keras3)]
    [TestCase(".h5", H5Format.Keras3)]
    public void Keras3Rmsprop_SavedAndLoaded_ResumesWithKeras3sUpdate(string extension, H5Format format)
    {
        var steps = TrainSaveLoadTrain(new RMSprop(learningRate: 0.01, rho: 0.8, epsilon: 0.5), extension, format, out var keras2Update);

        Assert.That(keras2Update, Is.False);
        OptimizerProblem.AssertSteps(steps, Keras3Steps);
    }

    /// <summary>One step, saved and loaded (compiled from the file, with its optimizer state), then two more steps.</summary>
    private static List<double[]> TrainSaveLoadTrain(RMSprop optimizer, string extension, H5Format format, out bool keras2Update)
    {
        var path = Path.Combine(Path.GetTempPath(), $"ks-rmsprop-{Guid.NewGuid():N}{extension}");
        var x = new float[,] { { 1f, 2f } };
        var y = new float[,] { { 0f } };
        try
        {
            var steps = new List<double[]>();
            using (var model = TinyModels.Linear(new float[,] { { 0.5f }, { 0.25f } }))
            {
                model.Compile(optimizer, "mse");
                model.TrainOnBatch(x, y);
                steps.Add(Kernel(model));
                model.Save(path, format);
            }

            using var loaded = Model.Load(path);
            keras2Update = ((RMSprop)loaded.Optimizer!).Keras2Update;
            for (var i = 0; i < 2; i++)
            {
                loaded.TrainOnBatch(x, y);
                steps.Add(Kernel(loaded));
            }

            return steps;
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static double[] Kernel(Model model) => model.GetWeights()[0].Data.Select(v => (double)v).ToArray();
}
