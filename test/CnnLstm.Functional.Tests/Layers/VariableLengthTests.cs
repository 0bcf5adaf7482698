using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Tests.Saving;
using KerasStyle.Tests.Saving.Onnx;

namespace KerasStyle.Tests.Layers;

/// <summary>
/// Unknown (None) dimensions after the batch (issue 22): models whose inputs take any sequence length, against real
/// Keras 3.16 (tools/keras-fixtures/variable_length.py) and the published files that declare such inputs.
/// </summary>
public class VariableLengthTests
{
    private static readonly string Folder = Path.Combine(TestContext.CurrentContext.TestDirectory, "Layers", "KerasFixtures", "varlen");

    private static string RealModels => Path.GetFullPath(Path.Combine(TestPaths.RepositoryRoot, "..", "shared", "real-models"));

    private static JsonObject Fixture(string model) => JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "varlen.json")))!["models"]![model]!.AsObject();

    [TestCase("ids")]
    [TestCase("steps")]
    [TestCase("mixed")]
    [TestCase("small")]
    public void Load_KerasModelWithUnknownLength_PredictsBothLengthsAsKerasWithin1e4(string name)
    {
        using var model = Model.Load(Path.Combine(Folder, name + ".keras"));
        AssertAsKeras(model, name);
    }

    [TestCase("ids")]
    [TestCase("steps")]
    [TestCase("mixed")]
    [TestCase("small")]
    public void BuiltInCode_UnknownLength_InfersKerasOutputShapes(string name)
    {
        using var model = Build(name);
        var shapes = Fixture(name)["shapes"]!.AsObject();
        Assert.That(model.Layers.Select(l => l.Name), Is.EqualTo(shapes.Select(s => s.Key)));
        foreach (var layer in model.Layers)
        {
            Assert.That(model.TopologyNodes.Single(n => n.Layer == layer).Outputs[0].Shape.ToString(), Is.EqualTo(shapes[layer.Name]!.GetValue<string>()), layer.Name);
        }
    }

    [TestCase("ids")]
    [TestCase("steps")]
    [TestCase("mixed")]
    [TestCase("small")]
    public void BuiltInCode_WithKerasWeights_PredictsAsKerasAndSurvivesEveryFileForm(string name)
    {
        using var keras = Model.Load(Path.Combine(Folder, name + ".keras"));
        using var model = Build(name);
        model.SetWeights(keras.GetWeights());
        AssertAsKeras(model, name);
        ModelFiles.CheckEveryForm(model, back =>
        {
            Assert.That(back.Inputs[0].Shape, Is.EqualTo(model.Inputs[0].Shape), "the unknown dimensions survive saving");
            AssertAsKeras(back, name);
        });
        var config = JsonNode.Parse(model.ToJson())!["config"]!["layers"]![0]!["config"]!["batch_shape"]!.ToJsonString();
        Assert.That(config, Is.EqualTo(name is "ids" or "small" ? "[null,null]" : "[null,null,4]"), "Keras writes None as null");
    }

    [TestCase("small")]
    [TestCase("steps")]
    [NonParallelizable]
    public void Summary_UnknownLength_PrintsNoneAsKeras316ByteForByte(string name)
    {
        using var model = Model.Load(Path.Combine(Folder, name + ".keras"));
        Backend.ConsoleStyle = ConsoleStyle.Keras3;
        try
        {
            Assert.That(model.SummaryText(), Is.EqualTo(Fixture(name)["summary"]!.GetValue<string>()));
        }
        finally
        {
            Backend.ConsoleStyle = ConsoleStyle.Keras2;
        }
    }

    [Test]
    public void Summary_Keras2Style_PrintsNoneForTheUnknownLength()
    {
        using var model = Model.Load(Path.Combine(Folder, "small.keras"));
        Assert.That(model.SummaryText(), Does.Contain("(None, None, 8)").And.Contain("(None, None)"));
    }

    [Test]
    public void FromJson_Keras2SequentialWithEmbeddingOfUnknownLength_BuildsAndPredictsAnyLength()
    {
        // Keras 2.2's Sequential form: the first layer declares batch_input_shape [null, null] and input_length null.
        const string json = """
            {"class_name": "Sequential", "config": {"name": "sequential_1", "layers": [
              {"class_name": "Embedding", "config": {"name": "embedding_1", "trainable": true, "batch_input_shape": [null, null], "dtype": "float32", "input_dim": 50, "output_dim": 4,
                "embeddings_initializer": {"class_name": "RandomUniform", "config": {"minval": -0.05, "maxval": 0.05, "seed": null}}, "embeddings_regularizer": null, "activity_regularizer": null, "embeddings_constraint": null, "mask_zero": false, "input_length": null}},
              {"class_name": "GlobalAveragePooling1D", "config": {"name": "global_average_pooling1d_1", "trainable": true, "data_format": "channels_last"}},
              {"class_name": "Dense", "config": {"name": "dense_1", "trainable": true, "units": 2, "activation": "linear", "use_bias": true,
                "kernel_initializer": {"class_name": "VarianceScaling", "config": {"scale": 1.0, "mode": "fan_avg", "distribution": "uniform", "seed": null}}, "bias_initializer": {"class_name": "Zeros", "config": {}},
                "kernel_regularizer": null, "bias_regularizer": null, "activity_regularizer": null, "kernel_constraint": null, "bias_constraint": null}}]},
             "keras_version": "2.2.4", "backend": "tensorflow"}
            """;
        using var model = Model.FromJson(json);
        Assert.That(model.Inputs[0].Shape.ToString(), Is.EqualTo("(None, None)"));
        Assert.That(model.Predict(new long[2, 3]).GetLength(1), Is.EqualTo(2));
        Assert.That(model.Predict(new long[2, 17]).GetLength(1), Is.EqualTo(2));
        Assert.That(JsonNode.Parse(model.ToJson())!["config"]!["layers"]![0]!["config"]!["batch_shape"]!.ToJsonString(), Is.EqualTo("[null,null]"));
    }

    [Test]
    public void Input_NullableTuple_IsKerasShapeWithNone()
    {
        var input = new Input((null, 74));
        Assert.That(input.Shape.ToString(), Is.EqualTo("(None, None, 74)"));
        Assert.That(new Input(new int?[] { null }, DType.Int64).Shape.ToString(), Is.EqualTo("(None, None)"));
        Assert.That(new Input((1, 3)).Shape.ToString(), Is.EqualTo("(None, 1, 3)"), "the int overloads still apply");
    }

    [Test]
    public void Input_NonPositiveKnownSize_IsRefused()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Input(new int?[] { null, 0 }));
        Assert.That(error!.Message, Does.Contain("(None, 0)"));
    }

    [Test]
    public void Predict_WrongKnownDimension_IsRefusedNamingTheShapes()
    {
        using var model = Model.Load(Path.Combine(Folder, "steps.keras"));
        var error = Assert.Throws<ArgumentException>(() => model.Predict(new float[2, 6, 3]));
        Assert.That(error!.Message, Does.Contain("(None, None, 4)").And.Contain("(2, 6, 3)"));
    }

    [Test]
    public void Fit_BatchesOfDifferentLengths_TrainsOnEach()
    {
        using var model = Build("steps");
        model.Compile("adam", "mse");
        var lossShort = model.Fit(new float[4, 6, 4], new float[4, 3, 2], batchSize: 2, epochs: 1, verbose: 0)["loss"][0];
        var lossLong = model.Fit(new float[4, 10, 4], new float[4, 5, 2], batchSize: 2, epochs: 1, verbose: 0)["loss"][0];
        Assert.That(double.IsFinite(lossShort) && double.IsFinite(lossLong), Is.True);
        Assert.That(model.Evaluate(new float[2, 8, 4], new float[2, 4, 2])["loss"], Is.GreaterThanOrEqualTo(0));
    }

    [Test]
    public void Dense_UnknownLastAxis_IsRefusedNamingLayerAndShape()
    {
        var input = new Input(new int?[] { 5, null });
        var error = Assert.Throws<LayerInputException>(() => new Dense(3, name: "head").Call(input));
        Assert.That(error!.Message, Does.Contain("head").And.Contain("(None, 5, None)"));
    }

    [Test]
    public void Conv1D_UnknownChannels_IsRefusedNamingLayerAndShape()
    {
        var input = new Input(new int?[] { null, null });
        var error = Assert.Throws<LayerInputException>(() => new Conv1D(4, 3, name: "conv").Call(input));
        Assert.That(error!.Message, Does.Contain("conv").And.Contain("(None, None, None)"));
    }

    [Test]
    public void FlattenThenDense_UnknownLength_IsRefusedAtTheDenseAsKeras()
    {
        // Keras 3: Flatten gives (None, None); the Dense after it raises for its undefined last dimension.
        var input = new Input((null, 4));
        var flat = new Flatten(name: "flat").Call(input);
        Assert.That(flat.Shape.ToString(), Is.EqualTo("(None, None)"));
        var error = Assert.Throws<LayerInputException>(() => new Dense(1, name: "after").Call(flat));
        Assert.That(error!.Message, Does.Contain("after").And.Contain("(None, None)"));
    }

    [Test]
    public void Reshape_UnknownLength_KeepsTheInferredAxisUnknownAsKeras()
    {
        var input = new Input((null, 4));
        Assert.That(new Reshape(new[] { -1, 2 }).Call(input).Shape.ToString(), Is.EqualTo("(None, None, 2)"));
    }

    [TestCase("ids")]
    [TestCase("steps")]
    [TestCase("small")]
    public void ExportOnnx_UnknownLength_RunsInOnnxRuntimeAtTwoLengths(string name)
    {
        using var model = Model.Load(Path.Combine(Folder, name + ".keras"));
        var path = Path.Combine(Path.GetTempPath(), $"ks-varlen-{Guid.NewGuid():N}.onnx");
        try
        {
            model.Export(path);
            foreach (var steps in new[] { 4, 11 })
            {
                OnnxCheck.AssertFileMatchesPredict(path, model, OnnxCheck.RandomInputs(model, 3, steps, unknownSteps: steps), 1e-4);
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestCase("set1/AdamVenroy__sentiment-classifer__model.keras")]
    [TestCase("set2/anushree1001__Comparing-Multiple-Pre-trained-Neural-network-models-on-IMDB-dataset__bigru_model.h5")]
    [TestCase("set2/anushree1001__Comparing-Multiple-Pre-trained-Neural-network-models-on-IMDB-dataset__bilstm_model.h5")]
    [TestCase("set2/anushree1001__Comparing-Multiple-Pre-trained-Neural-network-models-on-IMDB-dataset__simplernn_model.h5")]
    [TestCase("set2/udnet96__lstm_seq2seq__s2s.h5")]
    public void Load_RealFileWithUnknownLength_PredictsAsKerasWithin1e4(string name)
    {
        if (!Directory.Exists(RealModels))
        {
            Assert.Ignore($"{RealModels} is absent.");
        }

        var file = Path.Combine(RealModels, name);
        using var model = Model.Load(file, compile: false);
        Assert.That(model.Inputs[0].Shape[1], Is.Null, "the file declares an input of unknown length");
        var inputs = new List<Array> { NpyFile.Read(file + ".x.npy") };
        if (File.Exists(file + ".x1.npy"))
        {
            inputs.Add(NpyFile.Read(file + ".x1.npy"));
        }

        var output = model.Predict(inputs)[0];
        var expected = NpyFile.Read(file + ".y.npy").Cast<float>().ToArray();
        var actual = output.Cast<float>().ToArray();
        Assert.That(actual, Has.Length.EqualTo(expected.Length));
        var worst = expected.Zip(actual, (e, a) => Math.Abs(e - a) / Math.Max(1, Math.Abs(e))).Max();
        Assert.That(worst, Is.LessThanOrEqualTo(1e-4), name);
    }

    [TestCase("conv1d")]
    [TestCase("conv1d_same_strided")]
    [TestCase("conv1d_causal_dilated")]
    [TestCase("separable_conv1d")]
    [TestCase("max_pooling1d")]
    [TestCase("average_pooling1d_same")]
    [TestCase("global_max_pooling1d")]
    [TestCase("global_average_pooling1d_keepdims")]
    [TestCase("cropping1d")]
    [TestCase("zero_padding1d")]
    [TestCase("up_sampling1d")]
    [TestCase("spatial_dropout1d")]
    [TestCase("permute")]
    [TestCase("gaussian_noise")]
    [TestCase("layer_normalization")]
    [TestCase("batch_normalization")]
    [TestCase("flatten")]
    [TestCase("reshape")]
    [TestCase("dense")]
    [TestCase("lstm_sequences")]
    [TestCase("gru")]
    [TestCase("simple_rnn_sequences")]
    [TestCase("bidirectional")]
    [TestCase("time_distributed")]
    [TestCase("masking")]
    [TestCase("conv2d")]
    [TestCase("max_pooling2d")]
    [TestCase("average_pooling2d_same")]
    [TestCase("global_average_pooling2d")]
    public void Layer_OverUnknownLength_HasKerasOutputShapeAndPredictsBothLengthsAsKerasAndInOnnx(string name)
    {
        var fixture = JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "varlen.json")))!["layers"]![name]!.AsObject();
        var input = new Input(name.EndsWith("2d", StringComparison.Ordinal) || name.EndsWith("2d_same", StringComparison.Ordinal) ? new int?[] { null, null, 3 } : new int?[] { null, 4 });
        Assert.That(input.Shape.ToString(), Is.EqualTo(fixture["input"]!.GetValue<string>()));
        var layer = LayerCase(name);
        using var model = new Model(input, layer.Call(input));
        Assert.That(model.Outputs[0].Shape.ToString(), Is.EqualTo(fixture["output"]!.GetValue<string>()));
        layer.SetWeights(fixture["weights"]!.AsArray().Select(w => WeightArray.FromArray(FixtureJson.ToArray(w as JsonArray ?? new JsonArray(w!.DeepClone())))).ToArray());
        foreach (var run in fixture["runs"]!.AsArray())
        {
            var x = FixtureJson.ToArray(run!["x"]!.AsArray());
            var actual = model.Predict(x).Cast<float>().Select(v => (double)v).ToArray();
            Assert.That(actual, Is.EqualTo(FixtureJson.Flatten(run["y"]!).ToArray()).Within(1e-4), $"{name} at length {x.GetLength(1)}");
        }

        // The exported graph declares the unknown axes as dynamic: one file runs at both lengths.
        var path = Path.Combine(Path.GetTempPath(), $"ks-varlen-{Guid.NewGuid():N}.onnx");
        try
        {
            model.Export(path);
            foreach (var run in fixture["runs"]!.AsArray())
            {
                OnnxCheck.AssertFileMatchesPredict(path, model, new[] { FixtureJson.ToArray(run!["x"]!.AsArray()) }, 1e-4);
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static Layer LayerCase(string name) => name switch
    {
        "conv1d" => new Conv1D(3, 2),
        "conv1d_same_strided" => new Conv1D(3, 3, strides: 2, padding: "same"),
        "conv1d_causal_dilated" => new Conv1D(3, 2, padding: "causal", dilationRate: 2),
        "separable_conv1d" => new SeparableConv1D(3, 2),
        "max_pooling1d" => new MaxPooling1D(2),
        "average_pooling1d_same" => new AveragePooling1D(3, strides: 2, padding: "same"),
        "global_max_pooling1d" => new GlobalMaxPooling1D(),
        "global_average_pooling1d_keepdims" => new GlobalAveragePooling1D(keepdims: true),
        "cropping1d" => new Cropping1D((1, 2)),
        "zero_padding1d" => new ZeroPadding1D(2),
        "up_sampling1d" => new UpSampling1D(3),
        "spatial_dropout1d" => new SpatialDropout1D(0.2),
        "permute" => new Permute(new[] { 2, 1 }),
        "gaussian_noise" => new GaussianNoise(0.1),
        "layer_normalization" => new LayerNormalization(),
        "batch_normalization" => new BatchNormalization(),
        "flatten" => new Flatten(),
        "reshape" => new Reshape(new[] { -1, 2 }),
        "dense" => new Dense(3),
        "lstm_sequences" => new LSTM(3, returnSequences: true),
        "gru" => new GRU(3),
        "simple_rnn_sequences" => new SimpleRNN(3, returnSequences: true),
        "bidirectional" => new Bidirectional(new LSTM(2, returnSequences: true)),
        "time_distributed" => new TimeDistributed(new Dense(2)),
        "masking" => new Masking(),
        "conv2d" => new Conv2D(2, 3),
        "max_pooling2d" => new MaxPooling2D((2, 2)),
        "average_pooling2d_same" => new AveragePooling2D((2, 2), padding: "same"),
        "global_average_pooling2d" => new GlobalAveragePooling2D(),
        _ => throw new ArgumentException(name),
    };

    private static void AssertAsKeras(Model model, string name)
    {
        foreach (var run in Fixture(name)["runs"]!.AsArray())
        {
            var rows = run!["x"]!.AsArray();
            Array x = name is "ids" or "small" ? FixtureJson.ToInt2(rows) : FixtureJson.ToFloat3(rows);
            var expected = FixtureJson.Flatten(run["y"]!).ToArray();
            var actual = model.Predict(x).Cast<float>().Select(v => (double)v).ToArray();
            Assert.That(actual, Is.EqualTo(expected).Within(1e-4), $"{name} at length {x.GetLength(1)}");
        }
    }

    private static Model Build(string name)
    {
        switch (name)
        {
            case "ids":
            {
                var x = new Input(new int?[] { null }, DType.Int32, name: "ids");
                var h = new Embedding(30, 8, name: "embed", maskZero: true).Call(x);
                h = new Bidirectional(new LSTM(6, returnSequences: true, name: "lstm"), name: "bi").Call(h);
                h = new GRU(5, name: "gru").Call(h);
                return new Model(x, new Dense(3, name: "out").Call(h), name: "ids");
            }

            case "steps":
            {
                var x = new Input((null, 4), name: "steps");
                var h = new Conv1D(6, 3, padding: "same", activation: "relu", name: "conv").Call(x);
                h = new MaxPooling1D(2, name: "pool").Call(h);
                h = new LSTM(5, returnSequences: true, name: "lstm").Call(h);
                return new Model(x, new TimeDistributed(new Dense(2), name: "td").Call(h), name: "steps");
            }

            case "mixed":
            {
                var x = new Input((null, 4), name: "series");
                var a = new Dense(6, name: "dense").Call(x);
                var b = new Conv1D(6, 1, name: "conv").Call(x);
                var h = new Concatenate(name: "concat").Call(a, b);
                h = new Dropout(0.5, name: "drop").Call(h);
                h = new Activation("tanh", name: "act").Call(h);
                h = new Masking(0.0, name: "masking").Call(h);
                h = new SimpleRNN(4, returnSequences: true, name: "rnn").Call(h);
                h = new AveragePooling1D(2, name: "avg").Call(h);
                h = new GlobalAveragePooling1D(name: "gap").Call(h);
                h = new RepeatVector(3, name: "repeat").Call(h);
                return new Model(x, new GRU(2, name: "gru2").Call(h), name: "mixed");
            }

            default:
            {
                var x = new Input(new int?[] { null }, DType.Int32, name: "tokens");
                var h = new Embedding(30, 8, name: "embedding").Call(x);
                h = new LSTM(4, name: "lstm").Call(h);
                return new Model(x, new Dense(1, name: "dense").Call(h), name: "small");
            }
        }
    }
}
