using System.IO.Compression;
using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;

namespace KerasStyle.Tests.Saving;

/// <summary>
/// The Keras version rule (docs/saving.md, "Keras version rule"): a file is computed as the Keras that wrote it, a
/// model built in code as Keras 3.16; <see cref="Model.KerasVersion"/> and <see cref="Model.ComputesAsKeras2"/> say
/// which. The same config read as Keras 2 and as Keras 3 gives the two Keras' numbers, in every file form.
/// </summary>
public class KerasVersionRuleTests
{
    private static string RealModels => Path.GetFullPath(Path.Combine(TestPaths.RepositoryRoot, "..", "shared", "real-models"));

    [SetUp]
    public void Fresh() => Backend.ClearSession();

    [Test]
    public void ModelBuiltInCode_HasNoKerasVersion_AndComputesAsKeras3()
    {
        using var model = HardSigmoidModel();

        Assert.That(model.KerasVersion, Is.Null);
        Assert.That(model.ComputesAsKeras2, Is.False);
        Assert.That(Predict(model, 1f), Is.EqualTo(4f / 6).Within(1e-6), "Keras 3.16's hard_sigmoid: relu6(x + 3) / 6");
    }

    // x = 1 through Dense(1, hard_sigmoid) with kernel 1, bias 0: Keras 2's clip(0.2 x + 0.5, 0, 1) = 0.7, Keras 3's relu6(x + 3) / 6 = 0.6667.
    [TestCase("2.15.0", true, 0.7f, Description = "tf.keras 2.13 to 2.15 wrote .keras archives")]
    [TestCase("2.13.1", true, 0.7f)]
    [TestCase("3.16.0", false, 4f / 6)]
    [TestCase("3.0.0", false, 4f / 6)]
    [TestCase(null, false, 4f / 6, Description = "no metadata.json: a .keras archive is Keras 3's form")]
    public void Load_KerasArchive_ComputesAsTheKerasInItsMetadata(string? version, bool keras2, float expected)
    {
        var path = TempFile(".keras");
        try
        {
            using (var model = HardSigmoidModel())
            {
                model.Save(path);
            }

            SetArchiveVersion(path, version);
            using var loaded = Model.Load(path);

            Assert.That(loaded.KerasVersion, Is.EqualTo(version));
            Assert.That(loaded.ComputesAsKeras2, Is.EqualTo(keras2));
            Assert.That(Predict(loaded, 1f), Is.EqualTo(expected).Within(1e-6));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void Load_H5InEachKerasForm_ReportsTheVersionItRecords()
    {
        var path = TempFile(".h5");
        try
        {
            using var model = HardSigmoidModel();
            model.Save(path);
            using (var keras3 = Model.Load(path))
            {
                Assert.That(keras3.KerasVersion, Does.StartWith("3."));
                Assert.That(keras3.ComputesAsKeras2, Is.False);
                Assert.That(Predict(keras3, 1f), Is.EqualTo(4f / 6).Within(1e-6));
            }

            // A Keras 2 model (its hard_sigmoid is Keras 2's) saved in the tf.keras 2.11 form.
            var json = JsonNode.Parse(model.ToJson())!.AsObject();
            json.Remove("module");
            using var keras2Model = Model.FromJson(json.ToJsonString());
            Assert.That(keras2Model.ComputesAsKeras2, Is.True, "a config without 'module' is Keras 2's form");
            keras2Model.SetWeights(model.GetWeights());
            keras2Model.Save(path, H5Format.TfKeras2);
            using var keras2 = Model.Load(path);
            Assert.That(keras2.KerasVersion, Is.EqualTo("2.11.0"));
            Assert.That(keras2.ComputesAsKeras2, Is.True);
            Assert.That(Predict(keras2, 1f), Is.EqualTo(0.7f).Within(1e-6));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void FromJson_ReportsTheKerasVersionKey_OrNoneForKeras3sToJson()
    {
        using var model = HardSigmoidModel();
        using (var keras3 = Model.FromJson(model.ToJson()))
        {
            Assert.That(keras3.KerasVersion, Is.Null, "Keras 3's to_json() records no version");
            Assert.That(keras3.ComputesAsKeras2, Is.False);
        }

        var json = JsonNode.Parse(model.ToJson())!.AsObject();
        json.Remove("module");
        json["keras_version"] = "2.4.0";
        using var keras2 = Model.FromJson(json.ToJsonString());
        Assert.That(keras2.KerasVersion, Is.EqualTo("2.4.0"));
        Assert.That(keras2.ComputesAsKeras2, Is.True);
    }

    /// <summary>
    /// GRU without <c>reset_after</c>: Keras before 2.1.3 had no such argument and computed the reset gate before the
    /// recurrent product (False); Keras 3's default is True. Later Keras 2 and tf.keras 2 always write the key.
    /// </summary>
    [TestCase("2.0.8", false)]
    [TestCase("2.1.2", false)]
    [TestCase("3.16.0", true)]
    public void FromJson_GruWithoutResetAfter_TakesTheDefaultOfTheKerasThatWroteIt(string version, bool resetAfter)
    {
        var json = """
            {"class_name": "Model", "config": {"name": "m", "layers": [
              {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 3, 2], "dtype": "float32", "sparse": false, "name": "x"}, "name": "x", "inbound_nodes": []},
              {"class_name": "GRU", "config": {"name": "g", "trainable": true, "units": 4, "activation": "tanh", "recurrent_activation": "sigmoid", "use_bias": true, "return_sequences": false},
                "name": "g", "inbound_nodes": [[["x", 0, 0, {}]]]}],
              "input_layers": [["x", 0, 0]], "output_layers": [["g", 0, 0]]}, "keras_version": "VERSION"}
            """.Replace("VERSION", version, StringComparison.Ordinal);

        using var model = Model.FromJson(json);

        var gru = (GRU)model.GetLayer("g");
        Assert.That(gru.ResetAfter, Is.EqualTo(resetAfter));
        Assert.That(gru.GetWeights()[2].Shape, Is.EqualTo(resetAfter ? new[] { 2, 12 } : new[] { 12 }), "the bias: two rows only with reset_after");
    }

    /// <summary>
    /// Keras 2.2.2's LSTM with hard_sigmoid gates (set2/ORACLE.txt): .y.npy is Keras 2's maths, .y_keras3.npy what
    /// Keras 3.16 computes from the same file (0.0425 apart); the library gives the former.
    /// </summary>
    [Test]
    public void Load_RealKeras2File_PredictsKeras2sHardSigmoid_NotKeras316s()
    {
        if (!Directory.Exists(RealModels))
        {
            Assert.Ignore($"{RealModels} is absent.");
        }

        var file = Path.Combine(RealModels, "set2", "galalen__arabic-sentiment-analysis__lstm_model.h5");
        Warnings.Raised += Ignore;
        try
        {
            using var model = Model.Load(file, compile: false);
            Assert.That(model.KerasVersion, Is.EqualTo("2.2.2"));
            Assert.That(model.ComputesAsKeras2, Is.True);
            var actual = Flat(model.Predict(new[] { NpyFile.Read(file + ".x.npy") })[0]);
            var keras2 = Flat(NpyFile.Read(file + ".y.npy"));
            var keras3 = Flat(NpyFile.Read(file + ".y_keras3.npy"));
            Assert.That(actual.Zip(keras2, (a, e) => Math.Abs(a - e)).Max(), Is.LessThanOrEqualTo(1e-4), "Keras 2's numbers");
            Assert.That(actual.Zip(keras3, (a, e) => Math.Abs(a - e)).Max(), Is.GreaterThan(1e-2), "not Keras 3.16's");
        }
        finally
        {
            Warnings.Raised -= Ignore;
        }
    }

    private static void Ignore(object? sender, string message)
    {
    }

    /// <summary>Input(1) > Dense(1, hard_sigmoid) named 'd', kernel 1 and bias 0, built in code.</summary>
    private static Model HardSigmoidModel()
    {
        var input = new Input(shape: 1);
        var dense = new Dense(1, activation: "hard_sigmoid", name: "d");
        var model = new Model(input, dense.Call(input));
        dense.SetWeights(new[] { new WeightArray(new[] { 1, 1 }, new[] { 1f }), new WeightArray(new[] { 1 }, new[] { 0f }) });
        return model;
    }

    /// <summary>Rewrites metadata.json's keras_version, or removes metadata.json when <paramref name="version"/> is null.</summary>
    private static void SetArchiveVersion(string path, string? version)
    {
        using var zip = ZipFile.Open(path, ZipArchiveMode.Update);
        var entry = zip.GetEntry("metadata.json")!;
        JsonObject metadata;
        using (var reader = new StreamReader(entry.Open()))
        {
            metadata = JsonNode.Parse(reader.ReadToEnd())!.AsObject();
        }

        entry.Delete();
        if (version is null)
        {
            return;
        }

        metadata["keras_version"] = version;
        using var writer = new StreamWriter(zip.CreateEntry("metadata.json").Open());
        writer.Write(metadata.ToJsonString());
    }

    private static float Predict(Model model, float x) => ((float[,])model.Predict(new float[,] { { x } }))[0, 0];

    private static double[] Flat(Array a) => a.Cast<object>().Select(Convert.ToDouble).ToArray();

    private static string TempFile(string extension) => Path.Combine(Path.GetTempPath(), $"ks-version-{Guid.NewGuid():N}{extension}");
}
