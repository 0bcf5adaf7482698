using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Saving;
using KerasStyle.Tests.Models;
using PureHDF;

namespace KerasStyle.Tests.Saving;

/// <summary>Keras 2 <c>.h5</c> weights: the layout written, files built by hand as Keras 2 writes them, by name, skipping mismatches.</summary>
public class Keras2WeightsH5Tests : SavingTestBase
{
    private static readonly float[] LstmKernel = { 0.5f, -0.25f, 0.75f, 0.1f, -0.3f, 0.2f, 0.05f, -0.6f };  // (2, 4)
    private static readonly float[] LstmRecurrent = { 0.2f, 0.3f, -0.4f, 0.6f };                            // (1, 4)
    private static readonly float[] LstmBias = { 0.1f, 1.0f, -0.1f, 0.05f };                                 // (4,)
    private static readonly float[] DenseKernel = { 1.5f, -0.5f };                                           // (1, 2)
    private static readonly float[] DenseBias = { -0.2f, 0.3f };                                             // (2,)

    [Test]
    public void SaveWeights_WritesKeras2Layout()
    {
        using var model = CnnLstmModels.Regression();
        var path = PathOf("regression.h5");
        model.SaveWeights(path);

        using var file = H5File.OpenRead(path);
        Assert.That(file.Attribute("layer_names").Read<string[]>(), Is.EqualTo(new[] { "input_1", "dropout_1", "conv1d_1", "max_pooling1d_1", "lstm_1", "dense_1" }));
        Assert.That(file.Attribute("layer_names").Type.Class, Is.EqualTo(H5DataTypeClass.String));
        Assert.That(file.Attribute("backend").Read<string>(), Is.EqualTo("tensorflow"));
        Assert.That(file.Group("lstm_1").Attribute("weight_names").Read<string[]>(), Is.EqualTo(new[] { "lstm_1/kernel:0", "lstm_1/recurrent_kernel:0", "lstm_1/bias:0" }));
        Assert.That(file.Group("dropout_1").Attribute("weight_names").Read<string[]>(), Is.Empty);
        var kernel = file.Dataset("lstm_1/lstm_1/kernel:0");
        Assert.That(kernel.Space.Dimensions, Is.EqualTo(new ulong[] { 10, 280 }));
        Assert.That(kernel.Type.Class, Is.EqualTo(H5DataTypeClass.FloatingPoint));
        Assert.That(kernel.Type.Size, Is.EqualTo(4));
        Assert.That(kernel.Read<float[]>(), Is.EqualTo(model.GetLayer("lstm_1").GetWeights()[0].Data));
    }

    [Test]
    public void SaveThenLoad_IntoFreshModel_RestoresWeightsBitForBit()
    {
        using var model = CnnLstmModels.Regression();
        var path = PathOf("w.h5");
        model.SaveWeights(path);
        Utils.SetRandomSeed(99);
        using var other = CnnLstmModels.Regression();
        Assert.That(Bits(other), Is.Not.EqualTo(Bits(model)));
        other.LoadWeights(path);
        Assert.That(Bits(other), Is.EqualTo(Bits(model)));
    }

    [Test]
    public void HandBuiltKeras2File_LoadsGateBlocksAndKernelsWhereKerasPutsThem()
    {
        var path = PathOf("keras2.h5");
        WriteKeras2File(path, root: null);
        using var model = SmallModel();
        model.LoadWeights(path);

        var weights = model.GetWeights();
        Assert.That(weights.Select(w => w.Data), Is.EqualTo(new[] { LstmKernel, LstmRecurrent, LstmBias, DenseKernel, DenseBias }));
        Assert.That(weights.Select(w => w.Shape), Is.EqualTo(new[] { new[] { 2, 4 }, new[] { 1, 4 }, new[] { 4 }, new[] { 1, 2 }, new[] { 2 } }));
        var x = new float[,,] { { { 0.3f, -0.1f }, { -0.6f, 0.4f }, { 0.2f, 0.9f } } };
        var predicted = (float[,])model.Predict(x);
        var expected = HandForward(x);
        Assert.That(predicted[0, 0], Is.EqualTo(expected[0]).Within(1e-6));
        Assert.That(predicted[0, 1], Is.EqualTo(expected[1]).Within(1e-6));
    }

    [Test]
    public void FullModelKeras2File_WeightsUnderModelWeights_Load()
    {
        var path = PathOf("full.h5");
        WriteKeras2File(path, root: "model_weights");
        using var model = SmallModel();
        model.LoadWeights(path);
        Assert.That(model.GetWeights().Select(w => w.Data), Is.EqualTo(new[] { LstmKernel, LstmRecurrent, LstmBias, DenseKernel, DenseBias }));
    }

    [Test]
    public void FullModelKeras2File_LoadsWithItsModelConfigAndTrainingConfig()
    {
        var path = PathOf("full-model.h5");
        WriteKeras2File(path, root: "model_weights", modelConfig: Keras2SmallModelConfig,
            trainingConfig: """{"optimizer_config": {"class_name": "Adam", "config": {"lr": 0.0005, "beta_1": 0.9, "beta_2": 0.999, "decay": 0.0, "epsilon": 1e-07, "amsgrad": false}}, "loss": "mse", "metrics": ["mae"], "sample_weight_mode": null, "loss_weights": null}""");
        using var model = Model.Load(path);
        Assert.That(model.Layers.Select(l => l.Name), Is.EqualTo(new[] { "input_1", "lstm_1", "dense_1" }));
        Assert.That(model.GetWeights().Select(w => w.Data), Is.EqualTo(new[] { LstmKernel, LstmRecurrent, LstmBias, DenseKernel, DenseBias }));
        Assert.That(model.Optimizer!.LearningRate, Is.EqualTo(0.0005));
        Assert.That(model.MetricsNames, Is.EqualTo(new[] { "loss", "mae" }));
    }

    [TestCase(@"""decay"": 0.01", "decay")]
    [TestCase(@"""clipnorm"": 1.0", "clipnorm")]
    [TestCase(@"""clipvalue"": 0.5", "clipvalue")]
    [TestCase(@"""global_clipnorm"": 1.0", "global_clipnorm")]
    [TestCase(@"""weight_decay"": 0.004", "weight_decay")]
    [TestCase(@"""use_ema"": true", "use_ema")]
    [TestCase(@"""schedule_decay"": 0.004", "schedule_decay")]
    public void FullModelKeras2File_OptimizerArgumentThisLibraryLacks_LoadsUncompiled_WarningNamingIt(string extra, string key)
    {
        // tf.keras 2's optimizers apply these (decay shrinks the learning rate every step); training on without them
        // would give other weights than Keras, so the optimizer is not built without them. How a model was trained
        // never stops it from loading (issue 22): it loads uncompiled, with one warning naming the argument.
        var path = PathOf("optimizer-" + key + ".h5");
        WriteKeras2File(path, root: "model_weights", modelConfig: Keras2SmallModelConfig,
            trainingConfig: "{\"optimizer_config\": {\"class_name\": \"SGD\", \"config\": {\"lr\": 0.01, \"momentum\": 0.9, \"nesterov\": true, " + extra + "}}, \"loss\": \"mse\", \"metrics\": [\"mae\"], \"sample_weight_mode\": null, \"loss_weights\": null}");
        var warnings = new List<string>();
        void Record(object? sender, string message) => warnings.Add(message);
        KerasStyle.Warnings.Raised += Record;
        try
        {
            using var model = Model.Load(path);
            Assert.That(model.IsCompiled, Is.False);
            Assert.That(model.GetWeights().Select(w => w.Data), Is.EqualTo(new[] { LstmKernel, LstmRecurrent, LstmBias, DenseKernel, DenseBias }));
        }
        finally
        {
            KerasStyle.Warnings.Raised -= Record;
        }

        Assert.That(warnings, Has.Count.EqualTo(1));
        Assert.That(warnings[0], Does.Contain($"'{key}'").And.Contain("uncompiled").And.Not.Contain("\"SGD\""));
    }

    [Test]
    public void FullModelKeras2File_SgdMomentumAndNesterov_AreRead()
    {
        var path = PathOf("sgd-nesterov.h5");
        WriteKeras2File(path, root: "model_weights", modelConfig: Keras2SmallModelConfig,
            trainingConfig: """{"optimizer_config": {"class_name": "SGD", "config": {"lr": 0.02, "momentum": 0.8, "decay": 0.0, "nesterov": true}}, "loss": "mse", "metrics": [], "sample_weight_mode": null, "loss_weights": null}""");
        using var model = Model.Load(path);
        var sgd = (KerasStyle.Training.Optimizers.SGD)model.Optimizer!;
        Assert.That((sgd.LearningRate, sgd.Momentum, sgd.Nesterov), Is.EqualTo((0.02, 0.8, true)));
    }

    [Test]
    public void ByName_LoadsMatchingLayersInAnyOrder_AndLeavesOthers()
    {
        var path = PathOf("byname.h5");
        WriteKeras2File(path, root: null, layerOrder: new[] { "dense_1", "extra_1", "lstm_1" });
        using var model = SmallModel();
        var before = model.GetLayer("dense_1").GetWeights();
        model.LoadWeights(path, byName: true);
        Assert.That(model.GetLayer("lstm_1").GetWeights().Select(w => w.Data), Is.EqualTo(new[] { LstmKernel, LstmRecurrent, LstmBias }));
        Assert.That(model.GetLayer("dense_1").GetWeights().Select(w => w.Data), Is.EqualTo(new[] { DenseKernel, DenseBias }));
        Assert.That(before.Select(w => w.Data), Is.Not.EqualTo(new[] { DenseKernel, DenseBias }));
    }

    [Test]
    public void SkipMismatch_SkipsTheLayerThatDiffers_WithAWarning()
    {
        var path = PathOf("mismatch.h5");
        WriteKeras2File(path, root: null);
        var input = new Input(new[] { 3, 2 });
        using var model = new Model(input, new Dense(3, name: "dense_1").Call(new LSTM(1, name: "lstm_1").Call(input)));
        var denseBefore = Bits(model.GetLayer("dense_1").GetWeights());

        var error = Assert.Throws<KerasFileException>(() => model.LoadWeights(path))!;
        Assert.That(error.Layer, Is.EqualTo("dense_1"));
        Assert.That(model.GetLayer("lstm_1").GetWeights()[0].Data, Is.Not.EqualTo(LstmKernel), "nothing is half-loaded");

        model.LoadWeights(path, skipMismatch: true);
        Assert.That(model.GetLayer("lstm_1").GetWeights().Select(w => w.Data), Is.EqualTo(new[] { LstmKernel, LstmRecurrent, LstmBias }));
        Assert.That(Bits(model.GetLayer("dense_1").GetWeights()), Is.EqualTo(denseBefore));
        Assert.That(RaisedWarnings, Has.One.Contains("dense_1").And.Contains("(1, 3)").And.Contains("(1, 2)").And.Contains("Skipped"));
    }

    [Test]
    public void KerasFixtureWrittenByH5py_Loads()
    {
        // Written with h5py (the HDF5 C library) exactly as Keras 2's save_weights does; see Data/make_fixtures.py.
        var path = Path.Combine(TestContext.CurrentContext.TestDirectory, "Saving", "Data", "keras2_small.h5");
        using var model = SmallModel();
        model.LoadWeights(path);
        Assert.That(model.GetWeights().Select(w => w.Data), Is.EqualTo(new[] { LstmKernel, LstmRecurrent, LstmBias, DenseKernel, DenseBias }));
    }

    /// <summary>Input(3, 2) -> LSTM(1) -> Dense(2), named as Keras 2 names them.</summary>
    internal static Model SmallModel()
    {
        var input = new Input(new[] { 3, 2 }, name: "input_1");
        return new Model(input, new Dense(2, name: "dense_1").Call(new LSTM(1, name: "lstm_1").Call(input)));
    }

    /// <summary>The model's output computed by hand from the weights above.</summary>
    internal static double[] HandForward(float[,,] x)
    {
        double h = 0, c = 0;
        for (var t = 0; t < x.GetLength(1); t++)
        {
            double Z(int gate) => (x[0, t, 0] * LstmKernel[gate]) + (x[0, t, 1] * LstmKernel[4 + gate]) + (h * LstmRecurrent[gate]) + LstmBias[gate];
            var i = Sigmoid(Z(0));
            var f = Sigmoid(Z(1));
            var g = Math.Tanh(Z(2));
            var o = Sigmoid(Z(3));
            c = (f * c) + (i * g);
            h = o * Math.Tanh(c);
        }

        return new[] { (h * DenseKernel[0]) + DenseBias[0], (h * DenseKernel[1]) + DenseBias[1] };
    }

    /// <summary>Writes the small model's weights as Keras 2's save_weights does (byte-string attributes, datasets at 'layer/layer/kernel:0').</summary>
    private static void WriteKeras2File(string path, string? root, string[]? layerOrder = null, string? modelConfig = null, string? trainingConfig = null)
    {
        var layers = new Dictionary<string, H5Group>
        {
            ["input_1"] = new() { Attributes = new() { ["weight_names"] = Array.Empty<string>() } },
            ["lstm_1"] = new()
            {
                Attributes = new() { ["weight_names"] = new[] { "lstm_1/kernel:0", "lstm_1/recurrent_kernel:0", "lstm_1/bias:0" } },
                ["lstm_1"] = new H5Group
                {
                    ["kernel:0"] = new H5Dataset(LstmKernel, fileDims: new ulong[] { 2, 4 }),
                    ["recurrent_kernel:0"] = new H5Dataset(LstmRecurrent, fileDims: new ulong[] { 1, 4 }),
                    ["bias:0"] = LstmBias,
                },
            },
            ["dense_1"] = new()
            {
                Attributes = new() { ["weight_names"] = new[] { "dense_1/kernel:0", "dense_1/bias:0" } },
                ["dense_1"] = new H5Group { ["kernel:0"] = new H5Dataset(DenseKernel, fileDims: new ulong[] { 1, 2 }), ["bias:0"] = DenseBias },
            },
            ["extra_1"] = new()
            {
                Attributes = new() { ["weight_names"] = new[] { "extra_1/kernel:0" } },
                ["extra_1"] = new H5Group { ["kernel:0"] = new[] { 9f } },
            },
        };
        var order = layerOrder ?? new[] { "input_1", "lstm_1", "dense_1" };
        var weights = new H5Group { Attributes = new() { ["layer_names"] = order, ["backend"] = "tensorflow", ["keras_version"] = "2.1.6" } };
        foreach (var name in order)
        {
            weights[name] = layers[name];
        }

        H5File file;
        if (root is null)
        {
            file = new H5File { Attributes = weights.Attributes };
            foreach (var (name, group) in weights)
            {
                file[name] = group;
            }
        }
        else
        {
            file = new H5File { [root] = weights, Attributes = new() { ["keras_version"] = "2.1.6", ["backend"] = "tensorflow" } };
            if (modelConfig is not null)
            {
                file.Attributes["model_config"] = modelConfig;
            }

            if (trainingConfig is not null)
            {
                file.Attributes["training_config"] = trainingConfig;
            }
        }

        file.Write(path, new H5WriteOptions(DefaultStringLength: 2048));
    }

    private static double Sigmoid(double z) => 1 / (1 + Math.Exp(-z));

    /// <summary>model_config of the small model as tf.keras 2 writes it.</summary>
    private const string Keras2SmallModelConfig = """
        {"class_name": "Model", "config": {"name": "model_1", "layers": [
          {"name": "input_1", "class_name": "InputLayer", "config": {"batch_input_shape": [null, 3, 2], "dtype": "float32", "sparse": false, "name": "input_1"}, "inbound_nodes": []},
          {"name": "lstm_1", "class_name": "LSTM", "config": {"name": "lstm_1", "trainable": true, "return_sequences": false, "return_state": false, "go_backwards": false, "stateful": false, "unroll": false,
            "units": 1, "activation": "tanh", "recurrent_activation": "sigmoid", "use_bias": true,
            "kernel_initializer": {"class_name": "VarianceScaling", "config": {"scale": 1.0, "mode": "fan_avg", "distribution": "uniform", "seed": null}},
            "recurrent_initializer": {"class_name": "Orthogonal", "config": {"gain": 1.0, "seed": null}}, "bias_initializer": {"class_name": "Zeros", "config": {}}, "unit_forget_bias": true,
            "kernel_regularizer": null, "recurrent_regularizer": null, "bias_regularizer": null, "activity_regularizer": null, "kernel_constraint": null, "recurrent_constraint": null, "bias_constraint": null,
            "dropout": 0.0, "recurrent_dropout": 0.0, "implementation": 1}, "inbound_nodes": [[["input_1", 0, 0, {}]]]},
          {"name": "dense_1", "class_name": "Dense", "config": {"name": "dense_1", "trainable": true, "units": 2, "activation": "linear", "use_bias": true,
            "kernel_initializer": {"class_name": "VarianceScaling", "config": {"scale": 1.0, "mode": "fan_avg", "distribution": "uniform", "seed": null}}, "bias_initializer": {"class_name": "Zeros", "config": {}},
            "kernel_regularizer": null, "bias_regularizer": null, "activity_regularizer": null, "kernel_constraint": null, "bias_constraint": null}, "inbound_nodes": [[["lstm_1", 0, 0, {}]]]}],
          "input_layers": [["input_1", 0, 0]], "output_layers": [["dense_1", 0, 0]]}, "keras_version": "2.1.6", "backend": "tensorflow"}
        """;
}
