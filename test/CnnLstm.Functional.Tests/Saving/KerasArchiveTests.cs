using System.IO.Compression;
using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Tests.Models;
using KerasStyle.Training.Optimizers;
using PureHDF;

namespace KerasStyle.Tests.Saving;

/// <summary>Whole-model <c>.keras</c> files: round trips, optimizer state, resumed training, and a file laid out by hand as Keras 3 writes it.</summary>
public class KerasArchiveTests : SavingTestBase
{
    [Test]
    public void Regression_SaveLoad_PredictsBitForBit_WithSameSummaryAndNames()
    {
        var (x, _) = ModelFitTests.SineWindows(20);
        using var model = CnnLstmModels.Regression();
        var before = model.Predict(x);
        var path = PathOf("regression.keras");
        model.Save(path);

        using var loaded = Model.Load(path);
        Assert.That(Bits(loaded.Predict(x)), Is.EqualTo(Bits(before)));
        Assert.That(loaded.SummaryText(), Is.EqualTo(model.SummaryText()));
        Assert.That(loaded.Name, Is.EqualTo(model.Name));
        Assert.That(loaded.Layers.Select(l => l.Name), Is.EqualTo(model.Layers.Select(l => l.Name)));
        Assert.That(Bits(loaded), Is.EqualTo(Bits(model)));
        Assert.That(loaded.IsCompiled, Is.False);
    }

    [Test]
    public void Sentiment_SaveLoad_IsSequentialAndPredictsBitForBit()
    {
        using var model = CnnLstmModels.Sentiment(maxFeatures: 60, maxLen: 16, embeddingSize: 8, filters: 4, kernelSize: 3, poolSize: 2, lstmUnits: 5);
        var ids = TokenIds(12, 16, 60);
        var before = model.Predict(ids);
        var path = PathOf("sentiment.keras");
        model.Save(path);

        using var loaded = Model.Load(path);
        Assert.That(loaded, Is.InstanceOf<Sequential>());
        Assert.That(loaded.SummaryText(), Is.EqualTo(model.SummaryText()));
        Assert.That(Bits(loaded.Predict(ids)), Is.EqualTo(Bits(before)));
        // As in Keras 3, the sequence length lives on the input, not in the Embedding's config (input_length is gone).
        Assert.That(loaded.Inputs[0].Shape.ToString(), Is.EqualTo("(None, 16)"));
        Assert.That(((Embedding)loaded.Layers[0]).InputLength, Is.Null);
    }

    [Test]
    public void Sentiment_DefaultSize_SaveLoad_KeepsAll2638895Parameters()
    {
        using var model = CnnLstmModels.Sentiment();
        var path = PathOf("sentiment-full.keras");
        model.Save(path);
        using var loaded = Model.Load(path);
        Assert.That(loaded.CountParams(), Is.EqualTo(2_638_895));
        Assert.That(Bits(loaded), Is.EqualTo(Bits(model)));
    }

    [Test]
    public void MultiInputGraph_WithSharedLayer_SaveLoad_PredictsBitForBit()
    {
        using var model = MultiInputModel();
        var (a, _) = ModelFitTests.SeparableSequences(6);
        var b = new float[6, 5];
        for (var i = 0; i < 6; i++)
        {
            for (var j = 0; j < 5; j++)
            {
                b[i, j] = (i - j) * 0.1f;
            }
        }

        var before = model.Predict(new Array[] { a, b });
        var path = PathOf("multi.keras");
        model.Save(path);

        using var loaded = Model.Load(path);
        var after = loaded.Predict(new Array[] { a, b });
        Assert.That(after, Has.Count.EqualTo(2));
        Assert.That(Bits(after[0]), Is.EqualTo(Bits(before[0])));
        Assert.That(Bits(after[1]), Is.EqualTo(Bits(before[1])));
        Assert.That(loaded.SummaryText(), Is.EqualTo(model.SummaryText()));
        Assert.That(loaded.GetLayer("shared").InboundNodes, Has.Count.EqualTo(2));
    }

    [Test]
    public void CompiledModel_SaveLoad_RestoresCompileConfigAndAdamState()
    {
        var (x, y) = ModelFitTests.SineWindows(32);
        using var model = CnnLstmModels.Regression(dropoutRate: 0);
        model.Compile(new Adam(learningRate: 0.003, beta1: 0.8), "mse", new[] { "mae" });
        model.Fit(x, y, batchSize: 8, epochs: 1, verbose: 0, shuffle: false);
        var path = PathOf("compiled.keras");
        model.Save(path);

        using var loaded = Model.Load(path);
        Assert.That(loaded.IsCompiled, Is.True);
        var adam = (Adam)loaded.Optimizer!;
        Assert.That(adam.LearningRate, Is.EqualTo(0.003));
        Assert.That(adam.Beta1, Is.EqualTo(0.8));
        Assert.That(adam.Iterations, Is.EqualTo(4));
        Assert.That(loaded.MetricsNames, Is.EqualTo(new[] { "loss", "mae" }));

        using var uncompiled = Model.Load(path, compile: false);
        Assert.That(uncompiled.IsCompiled, Is.False);
    }

    [Test]
    public void ResumeAfterLoad_GivesSameWeightsAsUninterruptedTraining()
    {
        var (x, y) = ModelFitTests.SineWindows(48);
        float[] Uninterrupted()
        {
            Backend.ClearSession();
            Utils.SetRandomSeed(5);
            using var model = CnnLstmModels.Regression(dropoutRate: 0);
            model.Compile("adam", "mse");
            model.Fit(x, y, batchSize: 8, epochs: 3, verbose: 0, shuffle: false);
            Assert.That(model.Optimizer!.Iterations, Is.EqualTo(18));
            return model.GetWeights().SelectMany(w => w.Data).ToArray();
        }

        float[] Resumed()
        {
            Backend.ClearSession();
            Utils.SetRandomSeed(5);
            var path = PathOf("resume.keras");
            using (var model = CnnLstmModels.Regression(dropoutRate: 0))
            {
                model.Compile("adam", "mse");
                model.Fit(x, y, batchSize: 8, epochs: 1, verbose: 0, shuffle: false);
                model.Save(path);
            }

            using var loaded = Model.Load(path);
            loaded.Fit(x, y, batchSize: 8, epochs: 3, verbose: 0, shuffle: false, initialEpoch: 1);
            Assert.That(loaded.Optimizer!.Iterations, Is.EqualTo(18));
            return loaded.GetWeights().SelectMany(w => w.Data).ToArray();
        }

        Assert.That(Resumed().Select(BitConverter.SingleToInt32Bits), Is.EqualTo(Uninterrupted().Select(BitConverter.SingleToInt32Bits)));
    }

    [Test]
    public void ResumeAfterLoad_WithSgdMomentumAndRmsprop_MatchesUninterrupted()
    {
        var (x, y) = ModelFitTests.SeparableSequences(24);
        foreach (var make in new Func<Optimizer>[] { () => new SGD(0.05, momentum: 0.9, nesterov: true), () => new RMSprop(0.01) })
        {
            int[] Run(bool interrupt)
            {
                Backend.ClearSession();
                Utils.SetRandomSeed(3);
                var input = new Input(new[] { 4, 2 });
                var model = new Model(input, new Dense(1, activation: "sigmoid").Call(new LSTM(3).Call(input)));
                model.Compile(make(), "binary_crossentropy");
                model.Fit(x, y, batchSize: 6, epochs: 1, verbose: 0, shuffle: false);
                if (interrupt)
                {
                    var path = PathOf("opt.keras");
                    model.Save(path);
                    model.Dispose();
                    model = Model.Load(path);
                }

                using (model)
                {
                    model.Fit(x, y, batchSize: 6, epochs: 2, verbose: 0, shuffle: false, initialEpoch: 1);
                    return Bits(model);
                }
            }

            Assert.That(Run(interrupt: true), Is.EqualTo(Run(interrupt: false)), make().GetType().Name);
        }
    }

    [Test]
    public void Archive_HoldsKerasEntriesAndLayout()
    {
        using var model = CnnLstmModels.Regression();
        model.Compile("adam", "mse");
        var path = PathOf("layout.keras");
        model.Save(path);

        using (var zip = ZipFile.OpenRead(path))
        {
            Assert.That(zip.Entries.Select(e => e.FullName), Is.EqualTo(new[] { "metadata.json", "config.json", "model.weights.h5" }));
            using var reader = new StreamReader(zip.GetEntry("metadata.json")!.Open());
            var metadata = JsonNode.Parse(reader.ReadToEnd())!;
            Assert.That(metadata["keras_version"]!.GetValue<string>(), Does.StartWith("3."));
            Assert.That(metadata["date_saved"]!.GetValue<string>(), Does.Match(@"^\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d$"));
            using var config = new StreamReader(zip.GetEntry("config.json")!.Open());
            var root = JsonNode.Parse(config.ReadToEnd())!;
            Assert.That(root["class_name"]!.GetValue<string>(), Is.EqualTo("Functional"));
            Assert.That(root["compile_config"]!["optimizer"]!["class_name"]!.GetValue<string>(), Is.EqualTo("Adam"));
            Assert.That(root["compile_config"]!["loss"]!.GetValue<string>(), Is.EqualTo("mean_squared_error"));

            using var h5 = new MemoryStream();
            zip.GetEntry("model.weights.h5")!.Open().CopyTo(h5);
            h5.Position = 0;
            using var file = H5File.Open(h5);
            // Keras 3 addresses layers by class name, not by layer name; the LSTM's weights belong to its cell.
            Assert.That(file.Dataset("layers/conv1d/vars/0").Space.Dimensions, Is.EqualTo(new ulong[] { 1, 3, 10 }));
            Assert.That(file.Dataset("layers/lstm/cell/vars/1").Space.Dimensions, Is.EqualTo(new ulong[] { 70, 280 }));
            Assert.That(file.Dataset("layers/dense/vars/1").Space.Dimensions, Is.EqualTo(new ulong[] { 1 }));
            Assert.That(file.Group("layers/input_layer/vars").Children(), Is.Empty);
            Assert.That(file.Group("layers/lstm/vars").Children(), Is.Empty);
            Assert.That(file.Dataset("optimizer/vars/0").Read<long>(), Is.EqualTo(0));
            Assert.That(file.Dataset("optimizer/vars/1").Read<float>(), Is.EqualTo(0.001f));
            Assert.That(file.Group("optimizer/vars").Children().Count(), Is.EqualTo(2), "an unused optimizer is not built yet, as in Keras");
        }
    }

    [Test]
    public void HandBuiltKeras3File_LoadsValuesWhereKerasPutsThem_AndRestoresAdamState()
    {
        // A .keras file laid out as Keras 3 writes one for: Input(2, 1) -> LSTM(1) -> Dense(1), compiled with Adam.
        var kernel = new[] { 0.5f, -0.25f, 0.75f, 0.1f };          // (1, 4): gates i, f, c, o
        var recurrent = new[] { 0.2f, 0.3f, -0.4f, 0.6f };         // (1, 4)
        var bias = new[] { 0.1f, 1.0f, -0.1f, 0.05f };             // (4,)
        var denseKernel = new[] { 1.5f };
        var denseBias = new[] { -0.2f };
        var path = PathOf("hand.keras");
        WriteArchive(path, Keras3Config, new H5File
        {
            ["layers"] = new H5Group
            {
                ["input_layer"] = new H5Group { ["vars"] = new H5Group() },
                ["lstm"] = new H5Group
                {
                    ["vars"] = new H5Group(),
                    ["cell"] = new H5Group
                    {
                        ["vars"] = new H5Group
                        {
                            ["0"] = new H5Dataset(kernel, fileDims: new ulong[] { 1, 4 }),
                            ["1"] = new H5Dataset(recurrent, fileDims: new ulong[] { 1, 4 }),
                            ["2"] = new H5Dataset(bias, fileDims: new ulong[] { 4 }),
                        },
                    },
                },
                ["dense"] = new H5Group { ["vars"] = new H5Group { ["0"] = new H5Dataset(denseKernel, fileDims: new ulong[] { 1, 1 }), ["1"] = denseBias } },
            },
            ["optimizer"] = new H5Group
            {
                ["vars"] = new H5Group
                {
                    ["0"] = 7L,
                    ["1"] = 0.002f,
                    // momentum, velocity of each trainable weight in turn.
                    ["2"] = new H5Dataset(new[] { 0.01f, 0.02f, 0.03f, 0.04f }, fileDims: new ulong[] { 1, 4 }),
                    ["3"] = new H5Dataset(new[] { 0.1f, 0.2f, 0.3f, 0.4f }, fileDims: new ulong[] { 1, 4 }),
                    ["4"] = new H5Dataset(new[] { 0.05f, 0.06f, 0.07f, 0.08f }, fileDims: new ulong[] { 1, 4 }),
                    ["5"] = new H5Dataset(new[] { 0.5f, 0.6f, 0.7f, 0.8f }, fileDims: new ulong[] { 1, 4 }),
                    ["6"] = new[] { 0f, 0f, 0f, 0f },
                    ["7"] = new[] { 0f, 0f, 0f, 0f },
                    ["8"] = new H5Dataset(new[] { 0f }, fileDims: new ulong[] { 1, 1 }),
                    ["9"] = new H5Dataset(new[] { 0f }, fileDims: new ulong[] { 1, 1 }),
                    ["10"] = new[] { 0f },
                    ["11"] = new[] { 0f },
                },
            },
            ["vars"] = new H5Group(),
        });

        using var model = Model.Load(path);
        Assert.That(model.Layers.Select(l => l.Name), Is.EqualTo(new[] { "input_layer", "lstm", "dense" }));
        var weights = model.GetWeights();
        Assert.That(weights.Select(w => w.Data), Is.EqualTo(new[] { kernel, recurrent, bias, denseKernel, denseBias }));
        Assert.That(weights[1].Shape, Is.EqualTo(new[] { 1, 4 }));
        Assert.That(model.Optimizer!.Iterations, Is.EqualTo(7));
        Assert.That(model.Optimizer.LearningRate, Is.EqualTo(0.002).Within(1e-9));

        // Forward pass by hand: Keras' LSTM with gate blocks i, f, c, o and one bias.
        var x = new float[,,] { { { 0.3f }, { -0.6f } } };
        double h = 0, c = 0;
        foreach (var xt in new[] { 0.3, -0.6 })
        {
            double Z(int gate) => (xt * kernel[gate]) + (h * recurrent[gate]) + bias[gate];
            var i = Sigmoid(Z(0));
            var f = Sigmoid(Z(1));
            var g = Math.Tanh(Z(2));
            var o = Sigmoid(Z(3));
            c = (f * c) + (i * g);
            h = o * Math.Tanh(c);
        }

        var predicted = (float[,])model.Predict(x);
        Assert.That(predicted[0, 0], Is.EqualTo((h * 1.5) - 0.2).Within(1e-6));

        // The moments landed on the right weights: saving again writes them back unchanged and in place.
        var again = PathOf("again.keras");
        model.Save(again);
        using var zip = ZipFile.OpenRead(again);
        using var h5 = new MemoryStream();
        zip.GetEntry("model.weights.h5")!.Open().CopyTo(h5);
        h5.Position = 0;
        using var file = H5File.Open(h5);
        Assert.That(file.Dataset("optimizer/vars/4").Read<float[]>(), Is.EqualTo(new[] { 0.05f, 0.06f, 0.07f, 0.08f }));
        Assert.That(file.Dataset("optimizer/vars/5").Read<float[]>(), Is.EqualTo(new[] { 0.5f, 0.6f, 0.7f, 0.8f }));
        Assert.That(file.Dataset("optimizer/vars/0").Read<long>(), Is.EqualTo(7));
    }

    internal static Model MultiInputModel()
    {
        var sequences = new Input(new[] { 4, 2 }, name: "sequences");
        var features = new Input(new[] { 5 }, name: "features");
        var shared = new Dense(2, activation: "tanh", name: "shared");
        var a = shared.Call(new LSTM(3, returnSequences: false).Call(new Conv1D(3, 2, padding: "causal").Call(sequences)));
        var b = shared.Call(new Dense(3, activation: "relu").Call(features));
        return new Model(new KerasTensor[] { sequences, features }, new[] { new Dense(1, activation: "sigmoid").Call(a), new Activation("softmax").Call(b) }, name: "two_inputs");
    }

    internal static long[,] TokenIds(int samples, int length, int vocabulary)
    {
        var ids = new long[samples, length];
        for (var i = 0; i < samples; i++)
        {
            for (var t = 0; t < length; t++)
            {
                ids[i, t] = ((i * 7) + (t * 3)) % vocabulary;
            }
        }

        return ids;
    }

    internal static void WriteArchive(string path, string config, H5File weights)
    {
        using var h5 = new MemoryStream();
        weights.Write(h5);
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        using (var writer = new StreamWriter(zip.CreateEntry("metadata.json").Open()))
        {
            writer.Write("""{"keras_version": "3.5.0", "date_saved": "2024-09-01@10:00:00"}""");
        }

        using (var writer = new StreamWriter(zip.CreateEntry("config.json").Open()))
        {
            writer.Write(config);
        }

        using var entry = zip.CreateEntry("model.weights.h5").Open();
        h5.Position = 0;
        h5.CopyTo(entry);
    }

    private static double Sigmoid(double z) => 1 / (1 + Math.Exp(-z));

    /// <summary>config.json as Keras 3 writes it for the hand-built model (dtype policies, build configs, Keras tensors).</summary>
    internal const string Keras3Config = """
        {"module": "keras", "class_name": "Functional", "config": {"name": "functional", "trainable": true, "layers": [
          {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [null, 2, 1], "dtype": "float32", "sparse": false, "name": "input_layer"}, "registered_name": null, "name": "input_layer", "inbound_nodes": []},
          {"module": "keras.layers", "class_name": "LSTM", "config": {"name": "lstm", "trainable": true, "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null},
            "return_sequences": false, "return_state": false, "go_backwards": false, "stateful": false, "unroll": false, "zero_output_for_mask": false, "units": 1, "activation": "tanh", "recurrent_activation": "sigmoid", "use_bias": true,
            "kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform", "config": {"seed": null}, "registered_name": null},
            "recurrent_initializer": {"module": "keras.initializers", "class_name": "Orthogonal", "config": {"gain": 1.0, "seed": null}, "registered_name": null},
            "bias_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {}, "registered_name": null}, "unit_forget_bias": true,
            "kernel_regularizer": null, "recurrent_regularizer": null, "bias_regularizer": null, "activity_regularizer": null, "kernel_constraint": null, "recurrent_constraint": null, "bias_constraint": null,
            "dropout": 0.0, "recurrent_dropout": 0.0, "seed": null}, "registered_name": null, "build_config": {"input_shape": [null, 2, 1]}, "name": "lstm",
            "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [null, 2, 1], "dtype": "float32", "keras_history": ["input_layer", 0, 0]}}], "kwargs": {"training": false, "mask": null}}]},
          {"module": "keras.layers", "class_name": "Dense", "config": {"name": "dense", "trainable": true, "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null},
            "units": 1, "activation": "linear", "use_bias": true,
            "kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform", "config": {"seed": null}, "registered_name": null},
            "bias_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {}, "registered_name": null},
            "kernel_regularizer": null, "bias_regularizer": null, "kernel_constraint": null, "bias_constraint": null}, "registered_name": null, "build_config": {"input_shape": [null, 1]}, "name": "dense",
            "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [null, 1], "dtype": "float32", "keras_history": ["lstm", 0, 0]}}], "kwargs": {}}]}],
          "input_layers": [["input_layer", 0, 0]], "output_layers": [["dense", 0, 0]]},
         "registered_name": "Functional", "build_config": {"input_shape": null},
         "compile_config": {"optimizer": {"module": "keras.optimizers", "class_name": "Adam", "config": {"name": "adam", "learning_rate": 0.0020000000949949026, "weight_decay": null, "clipnorm": null, "global_clipnorm": null, "clipvalue": null,
           "use_ema": false, "ema_momentum": 0.99, "ema_overwrite_frequency": null, "loss_scale_factor": null, "gradient_accumulation_steps": null, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07, "amsgrad": false}, "registered_name": null},
           "loss": "mean_squared_error", "loss_weights": null, "metrics": null, "weighted_metrics": null, "run_eagerly": false, "steps_per_execution": 1, "jit_compile": false}}
        """;
}
