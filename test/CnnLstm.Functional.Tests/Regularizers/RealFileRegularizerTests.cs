using System.Text.Json.Nodes;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Regularizers;

namespace KerasStyle.Tests.Regularizers;

/// <summary>
/// The real tf.keras 2.10 file of ../shared/real-models whose Dense has <c>kernel_regularizer</c> L1L2 (it was refused
/// before regularizers existed): it loads as a user loads it, predicts as Keras 3.16 within 1e-4, and writes the
/// regularizer back in Keras 3.16's form.
/// </summary>
public class RealFileRegularizerTests
{
    private const string Name = "set2/6llz__deep-learning-NSSA__n_cnn_bigru_model.h5";

    private static string RealModels => Path.GetFullPath(Path.Combine(TestPaths.RepositoryRoot, "..", "shared", "real-models"));

    [Test]
    public void Load_TfKeras2DenseWithL1L2KernelRegularizer_PredictsAsKerasWithin1e4()
    {
        if (!Directory.Exists(RealModels))
        {
            Assert.Ignore($"{RealModels} is absent.");
        }

        var file = Path.Combine(RealModels, Name);
        using var model = Model.Load(file);
        var regularized = model.Layers.OfType<Dense>().Where(d => d.KernelRegularizer is not null).ToArray();
        Assert.That(regularized, Has.Length.EqualTo(1));
        var l1l2 = (L1L2)regularized[0].KernelRegularizer!;
        Assert.That((l1l2.L1Factor, l1l2.L2Factor), Is.EqualTo((0.0010000000474974513, 0.0010000000474974513)));
        Assert.That(regularized[0].GetWeights().Count, Is.EqualTo(2));
        Assert.That(model.TrainableWeights.Count(w => w.Regularizer is not null), Is.EqualTo(1));

        var expected = NpyFile.Read(file + ".y.npy").Cast<float>().ToArray();
        var actual = model.Predict(NpyFile.Read(file + ".x.npy")).Cast<float>().ToArray();
        Assert.That(actual, Has.Length.EqualTo(expected.Length));
        var worst = expected.Zip(actual, (e, a) => Math.Abs(e - a) / Math.Max(1, Math.Abs(e))).Max();
        Assert.That(worst, Is.LessThanOrEqualTo(1e-4));

        var written = JsonNode.Parse(model.ToJson())!["config"]!["layers"]!.AsArray()
            .Single(l => l!["config"]!["name"]!.GetValue<string>() == regularized[0].Name)!["config"]!["kernel_regularizer"];
        Assert.That(JsonNode.DeepEquals(written, JsonNode.Parse("""{"module": "keras.regularizers", "class_name": "L1L2", "config": {"l1": 0.0010000000474974513, "l2": 0.0010000000474974513}, "registered_name": null}""")), Is.True, written?.ToJsonString());
    }
}
