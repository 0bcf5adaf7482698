using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Saving;
using KerasStyle.Training.Optimizers;
using PureHDF;

namespace KerasStyle.Tests.Saving;

/// <summary>
/// Save(path, H5Format.TfKeras2) writes the full-model .h5 as tf.keras 2.11 does (issue 11: only Keras 3.16's form,
/// which tf.keras 2 cannot read, was written). Keras 3.16 loading these files is checked in
/// <see cref="LibraryFilesInKerasTests"/>; here, the layout against the tf.keras 2.11-form fixture and the round trip.
/// </summary>
public class TfKeras2H5Tests
{
    private static readonly string Fixtures = Path.Combine(TestContext.CurrentContext.TestDirectory, "Saving", "KerasFixtures");

    [Test]
    public void Save_TfKeras2_OfTheTfKeras2Fixture_WritesTheSameModelConfig()
    {
        // The fixture's model_config follows tf.keras 2.11's get_config (tools/keras-fixtures/generate.py).
        var fixture = Path.Combine(Fixtures, "tfkeras2-regression.h5");
        using var model = Model.Load(fixture);
        var saved = Temp("regression.h5");
        try
        {
            model.Save(saved, H5Format.TfKeras2);
            // The fixture's model_config also carries keras_version and backend, as tf.keras 2's to_json() does;
            // saving_utils.model_metadata puts those in root attributes of their own.
            var expected = JsonNode.Parse(Attribute(fixture, "model_config"))!.AsObject();
            expected.Remove("keras_version");
            expected.Remove("backend");
            Assert.That(JsonNode.DeepEquals(JsonNode.Parse(Attribute(saved, "model_config")), expected), Is.True,
                $"written:\n{Attribute(saved, "model_config")}\nfixture:\n{expected.ToJsonString()}");
            Assert.That(Attribute(saved, "keras_version"), Is.EqualTo("2.11.0"));
            using var back = Model.Load(saved);
            var x = new float[3, 1, 3] { { { 0.1f, 0.2f, 0.3f } }, { { -1, 0, 1 } }, { { 0.5f, -0.5f, 0.25f } } };
            Assert.That(back.Predict(x), Is.EqualTo(model.Predict(x)));
        }
        finally
        {
            File.Delete(saved);
        }
    }

    [Test]
    public void Save_TfKeras2_Trained_WritesTfKeras211OptimizerLayout_AndLoadsBackWithTheSameState()
    {
        var (x, y) = TinyModels.Blobs(16);
        var y2 = new float[y.Length, 1];
        for (var i = 0; i < y.Length; i++)
        {
            y2[i, 0] = y[i];
        }

        using var model = TinyModels.Mlp();
        model.Compile(new Adam(learningRate: 0.05), "binary_crossentropy", new[] { "accuracy" });
        model.Fit(x, y2, batchSize: 4, epochs: 2, verbose: 0, shuffle: false);
        var path = Temp("trained.h5");
        try
        {
            model.Save(path, H5Format.TfKeras2);
            var training = JsonNode.Parse(Attribute(path, "training_config"))!;
            Assert.That(training["loss"]!.GetValue<string>(), Is.EqualTo("binary_crossentropy"));
            var optimizer = training["optimizer_config"]!;
            Assert.That(optimizer["class_name"]!.GetValue<string>(), Is.EqualTo("Adam"));
            Assert.That(optimizer["config"]!["is_legacy_optimizer"]!.GetValue<bool>(), Is.False);
            Assert.That(optimizer["config"]!["jit_compile"]!.GetValue<bool>(), Is.True);
            using (var file = H5File.OpenRead(path))
            {
                var names = file.Group("optimizer_weights").Attribute("weight_names").Read<string[]>();
                var trainable = model.TrainableWeights;
                var expected = new[] { "iteration:0" }.Concat(trainable.SelectMany(w => new[] { $"Adam/m/{w.FullName}", $"Adam/v/{w.FullName}" }));
                Assert.That(names, Is.EqualTo(expected), "tf.keras 2.11 restores by position: iteration, then m and v of each weight in turn");
                Assert.That(file.Group("optimizer_weights").Dataset("iteration:0").Read<long>(), Is.EqualTo(8));
            }

            using var back = Model.Load(path);
            Assert.That(back.Optimizer, Is.InstanceOf<Adam>());
            Assert.That(back.Optimizer!.Iterations, Is.EqualTo(8));
            Assert.That(back.Optimizer.LearningRate, Is.EqualTo(0.05));
            var before = model.Optimizer!.ExportState(model.TrainableWeights);
            var after = back.Optimizer.ExportState(back.TrainableWeights);
            Assert.That(after.Slots!.SelectMany(s => s).SelectMany(w => w.Data), Is.EqualTo(before.Slots!.SelectMany(s => s).SelectMany(w => w.Data)));

            back.Fit(x, y2, batchSize: 4, epochs: 1, verbose: 0, shuffle: false);
            model.Fit(x, y2, batchSize: 4, epochs: 1, verbose: 0, shuffle: false);
            Assert.That(back.Predict(x), Is.EqualTo(model.Predict(x)), "the same Adam state came back");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void Save_TfKeras2_Uncompiled_HasNoTrainingConfigOrOptimizerWeights()
    {
        using var model = TinyModels.Mlp();
        var path = Temp("plain.h5");
        try
        {
            model.Save(path, H5Format.TfKeras2);
            using var file = H5File.OpenRead(path);
            Assert.That(file.AttributeExists("training_config"), Is.False);
            Assert.That(file.LinkExists("optimizer_weights"), Is.False);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void Save_TfKeras2WithKerasExtension_ThrowsWithoutWriting()
    {
        using var model = TinyModels.Mlp();
        var path = Temp("m.keras");
        var e = Assert.Throws<ArgumentException>(() => model.Save(path, H5Format.TfKeras2))!;
        Assert.That(e.Message, Does.Contain(".h5 files only"));
        Assert.That(File.Exists(path), Is.False);
    }

    [Test]
    public void Model_Keras3OnlyArgumentWithAValue_ThrowsNamingLayerKeyAndValue()
    {
        var input = new Input(new[] { 4, 2 });
        using var model = new Model(input, new LSTM(3, name: "encoder").Call(input));
        var config = JsonNode.Parse(model.ToJson())!.AsObject();
        config["config"]!["layers"]![1]!["config"]!["seed"] = 5;
        var e = Assert.Throws<NotSupportedException>(() => TfKeras2Config.Model(config))!;
        Assert.That(e.Message, Does.Contain("'encoder' (LSTM)").And.Contain("seed=5"));
    }

    [Test]
    public void Model_RnnOfCells_WritesTfKeras211RnnAndCellConfigs()
    {
        // tf.keras 2.11's RNN.get_config writes time_major; its cells have no seed, and LSTMCell/GRUCell write
        // implementation (base_rnn.py, lstm.py, gru.py, simple_rnn.py at v2.11.0).
        var input = new Input(new[] { 4, 2 });
        var cells = new StackedRNNCells(new RecurrentCell[] { new LSTMCell(3, name: "l"), new GRUCell(2, name: "g"), new SimpleRNNCell(2, name: "s") });
        using var model = new Model(input, new RNN(cells, name: "rnn").Call(input));
        var rnn = TfKeras2Config.Model(JsonNode.Parse(model.ToJson())!.AsObject())["config"]!["layers"]![1]!["config"]!;
        Assert.That(rnn["time_major"]!.GetValue<bool>(), Is.False);
        var written = rnn["cell"]!["config"]!["cells"]!.AsArray().Select(c => c!["config"]!.AsObject()).ToList();
        Assert.That(written.Select(c => c.ContainsKey("seed")), Is.All.False);
        Assert.That(written.Select(c => c["implementation"]?.GetValue<int>()), Is.EqualTo(new int?[] { 2, 2, null }));
    }

    [Test]
    public void Model_CellWithKeras3HardSigmoid_ThrowsNamingTheCell()
    {
        // Keras 3's hard_sigmoid is another function than tf.keras 2's: refused in a cell as in an LSTM layer.
        var input = new Input(new[] { 4, 2 });
        using var model = new Model(input, new RNN(new LSTMCell(3, recurrentActivation: "hard_sigmoid", name: "cell"), name: "rnn").Call(input));
        var e = Assert.Throws<NotSupportedException>(() => TfKeras2Config.Model(JsonNode.Parse(model.ToJson())!.AsObject()))!;
        Assert.That(e.Message, Does.Contain("layer 'cell'").And.Contain("recurrent_activation"));
    }

    private static string Temp(string name) => Path.Combine(Path.GetTempPath(), $"ks-tfkeras2-{Guid.NewGuid():N}-{name}");

    private static string Attribute(string path, string name)
    {
        using var file = H5File.OpenRead(path);
        return file.Attribute(name).Read<string>();
    }
}
