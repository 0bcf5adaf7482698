using KerasStyle.Engine;
using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Saving;
using KerasStyle.Training.Optimizers;

namespace KerasStyle.Tests.Saving;

/// <summary>ToJson / FromJson: the Keras 3 form written, the Keras 2 forms read, the registry, and clear errors.</summary>
public class ModelConfigTests : SavingTestBase
{
    [Test]
    public void ToJson_Regression_HasKeras3FunctionalConfig()
    {
        using var model = CnnLstmModels.Regression();
        var root = JsonNode.Parse(model.ToJson())!;
        Assert.That(root["module"]!.GetValue<string>(), Is.EqualTo("keras.src.models.functional"), "what Keras 3.16 writes; it cannot deserialize \"keras\" + \"Functional\"");
        Assert.That(root["class_name"]!.GetValue<string>(), Is.EqualTo("Functional"));
        var config = root["config"]!;
        Assert.That(config["name"]!.GetValue<string>(), Is.EqualTo("model_1"));
        Assert.That(config["input_layers"]!.ToJsonString(), Is.EqualTo("""[["input_1",0,0]]"""));
        Assert.That(config["output_layers"]!.ToJsonString(), Is.EqualTo("""[["dense_1",0,0]]"""));

        var layers = config["layers"]!.AsArray();
        Assert.That(layers.Select(l => l!["class_name"]!.GetValue<string>()), Is.EqualTo(new[] { "InputLayer", "Dropout", "Conv1D", "MaxPooling1D", "LSTM", "Dense" }));
        Assert.That(layers[0]!["config"]!.ToJsonString(), Is.EqualTo("""{"batch_shape":[null,1,3],"dtype":"float32","sparse":false,"ragged":false,"name":"input_1","optional":false}"""), "what Keras 3.16 writes");
        Assert.That(layers[0]!["inbound_nodes"]!.AsArray(), Is.Empty);

        var conv = layers[2]!;
        Assert.That(conv["module"]!.GetValue<string>(), Is.EqualTo("keras.layers"));
        Assert.That(conv["name"]!.GetValue<string>(), Is.EqualTo("conv1d_1"));
        var convConfig = conv["config"]!;
        Assert.That(convConfig["filters"]!.GetValue<int>(), Is.EqualTo(10));
        Assert.That(convConfig["kernel_size"]!.ToJsonString(), Is.EqualTo("[1]"));
        Assert.That(convConfig["strides"]!.ToJsonString(), Is.EqualTo("[1]"));
        Assert.That(convConfig["dilation_rate"]!.ToJsonString(), Is.EqualTo("[1]"));
        Assert.That(convConfig["padding"]!.GetValue<string>(), Is.EqualTo("valid"));
        Assert.That(convConfig["activation"]!.GetValue<string>(), Is.EqualTo("linear"));
        Assert.That(convConfig["use_bias"]!.GetValue<bool>(), Is.True);
        Assert.That(convConfig["trainable"]!.GetValue<bool>(), Is.True);
        Assert.That(convConfig["dtype"]!.ToJsonString(), Is.EqualTo("""{"module":"keras","class_name":"DTypePolicy","config":{"name":"float32"},"registered_name":null}"""), "Keras 3.16's dtype policy");
        Assert.That(conv["build_config"]!.ToJsonString(), Is.EqualTo("""{"input_shape":[null,1,3]}"""));
        Assert.That(conv["inbound_nodes"]!.ToJsonString(), Is.EqualTo(
            """[{"args":[{"class_name":"__keras_tensor__","config":{"shape":[null,1,3],"dtype":"float32","keras_history":["dropout_1",0,0]}}],"kwargs":{}}]"""));
        Assert.That(layers[4]!["config"]!["units"]!.GetValue<int>(), Is.EqualTo(70));
        Assert.That(layers[3]!["config"]!["pool_size"]!.ToJsonString(), Is.EqualTo("[1]"));
        Assert.That(root["compile_config"]!.ToJsonString(), Is.EqualTo("{}"), "Keras writes an empty compile_config for an uncompiled model");
    }

    [Test]
    public void ToJson_SharedLayer_ReindexesNodesToTheModel()
    {
        var outside = new Input(new[] { 3 });
        var shared = new Dense(2, name: "shared");
        shared.Call(outside);                                 // a call that is not part of the model below
        var input = new Input(new[] { 3 }, name: "inside");
        var once = shared.Call(input);
        var twice = shared.Call(new Dense(3, name: "back").Call(once));
        using var model = new Model(input, twice);
        var layers = JsonNode.Parse(model.ToJson())!["config"]!["layers"]!.AsArray();
        var sharedEntry = layers.Single(l => l!["name"]!.GetValue<string>() == "shared")!;
        Assert.That(sharedEntry["inbound_nodes"]!.AsArray(), Has.Count.EqualTo(2));
        var back = layers.Single(l => l!["name"]!.GetValue<string>() == "back")!;
        Assert.That(back["inbound_nodes"]![0]!["args"]![0]!["config"]!["keras_history"]!.ToJsonString(), Is.EqualTo("""["shared",0,0]"""));
        Assert.That(JsonNode.Parse(model.ToJson())!["config"]!["output_layers"]!.ToJsonString(), Is.EqualTo("""[["shared",1,0]]"""));

        // Rebuilt, the shared layer's calls are numbered from 0 (shared[0][0], shared[1][0]), as Keras does.
        using var rebuilt = Model.FromJson(model.ToJson());
        Assert.That(rebuilt.ToJson(), Is.EqualTo(model.ToJson()));
        Assert.That(rebuilt.GetLayer("shared").InboundNodes, Has.Count.EqualTo(2));
    }

    [Test]
    public void FromJson_OfToJson_RebuildsEqualModels()
    {
        using var regression = CnnLstmModels.Regression();
        using var sentiment = CnnLstmModels.Sentiment();
        using var multi = KerasArchiveTests.MultiInputModel();
        foreach (var model in new Model[] { regression, sentiment, multi })
        {
            var json = model.ToJson(indented: true);
            using var rebuilt = Model.FromJson(json);
            Assert.That(rebuilt.SummaryText(), Is.EqualTo(model.SummaryText()), model.Name);
            Assert.That(rebuilt.ToJson(indented: true), Is.EqualTo(json), model.Name);
            Assert.That(rebuilt.GetType(), Is.EqualTo(model.GetType()));
        }
    }

    [Test]
    public void LstmWithReturnState_OutputsByTensorIndex_RoundTrip()
    {
        var input = new Input(new[] { 5, 2 });
        var states = new LSTM(3, returnState: true, returnSequences: true).CallMulti(input);
        using var model = new Model(new[] { input }, new[] { new Dense(1).Call(states[1]), states[2] });
        var config = JsonNode.Parse(model.ToJson())!["config"]!;
        Assert.That(config["output_layers"]!.ToJsonString(), Is.EqualTo("""[["dense_1",0,0],["lstm_1",0,2]]"""));
        Assert.That(config["layers"]![2]!["inbound_nodes"]![0]!["args"]![0]!["config"]!["keras_history"]!.ToJsonString(), Is.EqualTo("""["lstm_1",0,1]"""));

        var path = PathOf("states.keras");
        model.Save(path);
        using var loaded = Model.Load(path);
        var x = new float[3, 5, 2];
        x[1, 2, 0] = 1;
        var before = model.Predict(new Array[] { x });
        var after = loaded.Predict(new Array[] { x });
        Assert.That(after.Select(Bits), Is.EqualTo(before.Select(Bits)));
        Assert.That(((LSTM)loaded.GetLayer("lstm_1")).ReturnState, Is.True);
    }

    [Test]
    public void FromJson_CompileConfig_CompilesWithTheSameOptimizer()
    {
        using var model = CnnLstmModels.Regression();
        model.Compile(new SGD(learningRate: 0.02, momentum: 0.9, nesterov: true), "mae", new[] { "mse" });
        using var rebuilt = Model.FromJson(model.ToJson());
        var sgd = (SGD)rebuilt.Optimizer!;
        Assert.That((sgd.LearningRate, sgd.Momentum, sgd.Nesterov), Is.EqualTo((0.02, 0.9, true)));
        Assert.That(rebuilt.MetricsNames, Is.EqualTo(new[] { "loss", "mse" }));
    }

    [Test]
    public void FromJson_TfKeras2Functional_BuildsTheRegressionModel()
    {
        using var model = Model.FromJson(TfKeras2Regression);
        using var reference = CnnLstmModels.Regression();
        Assert.That(model.SummaryText(), Is.EqualTo(reference.SummaryText()));
        // tf.keras 2.4 wrote it: its hard_sigmoid is Keras 2's, clip(0.2 x + 0.5, 0, 1).
        Assert.That(((LSTM)model.GetLayer("lstm_1")).RecurrentActivation, Is.EqualTo(Activations.Keras2HardSigmoid));
        Assert.That(RaisedWarnings, Is.Empty, "Keras 2's VarianceScaling(fan_avg, uniform) is glorot_uniform");

        using var frozen = Model.FromJson(TfKeras2Regression.Replace("\"name\": \"dense_1\", \"trainable\": true", "\"name\": \"dense_1\", \"trainable\": false"));
        Assert.That(frozen.GetLayer("dense_1").Trainable, Is.False);
        Assert.That(frozen.GetLayer("lstm_1").Trainable, Is.True);
        Assert.That(JsonNode.Parse(frozen.ToJson())!["config"]!["layers"]![5]!["config"]!["trainable"]!.GetValue<bool>(), Is.False);
    }

    [Test]
    public void FromJson_Keras21SequentialList_BuildsTheSentimentModel()
    {
        using var model = Model.FromJson(Keras21Sentiment);
        using var reference = CnnLstmModels.Sentiment();
        Assert.That(model, Is.InstanceOf<Sequential>());
        Assert.That(model.SummaryText(), Is.EqualTo(reference.SummaryText()));
        Assert.That(model.Inputs[0].DType, Is.EqualTo(DType.Int64));
    }

    [TestCase("0", "'groups' must be a positive integer that divides filters (8), got 0")]
    [TestCase("-2", "'groups' must be a positive integer that divides filters (8), got -2")]
    [TestCase("3", "'groups' must be a positive integer that divides filters (8), got 3")]
    [TestCase("\"two\"", "'groups' must be an integer, got \"two\"")]
    public void FromJson_Conv1DGroupsOutOfRangeOrOfTheWrongType_IsAConfigErrorNamingLayerKeyAndValue(string groups, string expected)
    {
        // groups 0 gave "A value of type 'System.Int32' cannot be converted to a 'System.Double'".
        var error = Assert.Throws<FormatException>(() => Model.FromJson(Conv1DJson(c => c["groups"] = JsonNode.Parse(groups))))!;
        Assert.That(error.Message, Does.Contain("Conv1D 'conv'").And.Contain(expected));
    }

    [Test]
    public void FromJson_Conv1DGroupsDividingFiltersAndChannels_LoadsAGroupedConvolution()
    {
        using var model = Model.FromJson(Conv1DJson(c => c["groups"] = 2));
        var conv = (Conv1D)model.GetLayer("conv");
        Assert.That(conv.Groups, Is.EqualTo(2));
        Assert.That(conv.Weights[0].Shape, Is.EqualTo(new[] { 3, 2, 8 }), "kernel (kernel size, channels / groups, filters)");
    }

    [Test]
    public void FromJson_Conv1DGroupsDividingFiltersButNotChannels_IsRefusedNamingLayerChannelsAndGroups()
    {
        // 4 input channels, groups 8 (dividing filters 8): Keras refuses it when built.
        var error = Assert.Throws<LayerInputException>(() => Model.FromJson(Conv1DJson(c => c["groups"] = 8)))!;
        Assert.That(error.Message, Does.Contain("Conv1D").And.Contain("input channels (4)").And.Contain("groups (8)"));
    }

    [Test]
    public void FromJson_Conv1DNegativeFilters_IsAConfigErrorNamingTheLayer()
    {
        var error = Assert.Throws<FormatException>(() => Model.FromJson(Conv1DJson(c => c["filters"] = -8)))!;
        Assert.That(error.Message, Does.Contain("Conv1D 'conv'").And.Contain("filters").And.Contain("-8"));
    }

    [TestCase("\"initial_state\"")]
    [TestCase("[1,2]")]
    public void FromJson_CallArgumentsThatAreNotAnObject_AreAConfigErrorNamingTheLayer(string kwargs)
    {
        var json = JsonNode.Parse(Conv1DJson(_ => { }))!;
        var conv = json["config"]!["layers"]!.AsArray().Single(l => l!["config"]!["name"]!.GetValue<string>() == "conv")!;
        conv["inbound_nodes"]![0]!["kwargs"] = JsonNode.Parse(kwargs);
        var error = Assert.Throws<FormatException>(() => Model.FromJson(json.ToJsonString()))!;
        Assert.That(error.Message, Does.Contain("Conv1D 'conv'").And.Contain("call arguments must be an object").And.Contain(kwargs));
    }

    [Test]
    public void FromJson_UnknownLayerClass_NamesItAndTheRegistry()
    {
        var json = TfKeras2Regression.Replace("\"class_name\": \"MaxPooling1D\"", "\"class_name\": \"NoSuchPooling1D\"");
        var error = Assert.Throws<FormatException>(() => Model.FromJson(json))!;
        Assert.That(error.Message, Does.Contain("'NoSuchPooling1D'").And.Contains("max_pooling1d_1").And.Contains("LayerRegistry.Register"));
    }

    [Test]
    public void FromJson_UnknownArgument_NamesIt()
    {
        var json = TfKeras2Regression.Replace("\"units\": 70,", "\"units\": 70, \"peepholes\": true,");
        var error = Assert.Throws<FormatException>(() => Model.FromJson(json))!;
        Assert.That(error.Message, Does.Contain("LSTM 'lstm_1'").And.Contains("'peepholes'").And.Contains("units"));
    }

    [Test]
    public void FromJson_StatefulLstm_NeedsTheFixedBatchSizeOfBatchInputShape_AsKeras()
    {
        var json = TfKeras2Regression.Replace("\"stateful\": false", "\"stateful\": true");
        Assert.That(() => Model.FromJson(json), Throws.TypeOf<LayerInputException>().With.Message.Contains("lstm_1").And.Message.Contains("stateful=true needs a fixed batch size"));
        using var model = Model.FromJson(json.Replace("\"batch_input_shape\": [null, 1, 3]", "\"batch_input_shape\": [4, 1, 3]"));
        Assert.That(((LSTM)model.GetLayer("lstm_1")).Stateful, Is.True);
        Assert.That(model.Inputs[0].BatchSize, Is.EqualTo(4));
    }

    [Test]
    public void FromJson_UnsupportedValue_IsNotSupportedNamingIt()
    {
        var json = TfKeras2Regression;
        // Regularizers and constraints are read now (Regularizers/RegularizerTests.cs, Constraints/ConstraintTests.cs); an unknown constraint is refused by name.
        json = TfKeras2Regression.Replace("\"kernel_constraint\": null, \"recurrent_constraint\"", "\"kernel_constraint\": {\"class_name\": \"MaxNorm\", \"config\": {\"max_value\": 2, \"axis\": 0}}, \"recurrent_constraint\"");
        Assert.That(json, Is.Not.EqualTo(TfKeras2Regression));
        using (var constrained = Model.FromJson(json))
        {
            Assert.That(((KerasStyle.Layers.LSTM)constrained.Layers.Single(l => l.Name == "lstm_1")).KernelConstraint, Is.TypeOf<KerasStyle.Constraints.MaxNorm>());
        }

        json = json.Replace("\"class_name\": \"MaxNorm\"", "\"class_name\": \"RadialConstraint\"");
        Assert.That(() => Model.FromJson(json), Throws.TypeOf<FormatException>().With.Message.Contains("lstm_1").And.Message.Contains("kernel_constraint"));
        json = TfKeras2Regression.Replace("\"kernel_regularizer\": null, \"recurrent_regularizer\"", "\"kernel_regularizer\": {\"class_name\": \"OrthogonalRegularizer\", \"config\": {\"factor\": 0.01, \"mode\": \"rows\"}}, \"recurrent_regularizer\"");
        Assert.That(json, Is.Not.EqualTo(TfKeras2Regression));
        using (var orthogonal = Model.FromJson(json))
        {
            Assert.That(((KerasStyle.Layers.LSTM)orthogonal.Layers.Single(l => l.Name == "lstm_1")).KernelRegularizer, Is.TypeOf<KerasStyle.Regularizers.OrthogonalRegularizer>());
        }
    }

    [Test]
    public void FromJson_MissingInboundLayer_NamesIt()
    {
        var json = TfKeras2Regression.Replace("[[[\"conv1d_1\", 0, 0, {}]]]", "[[[\"conv1d_9\", 0, 0, {}]]]");
        var error = Assert.Throws<FormatException>(() => Model.FromJson(json))!;
        Assert.That(error.Message, Does.Contain("'conv1d_9'").And.Contains("max_pooling1d_1"));
        json = TfKeras2Regression.Replace("\"output_layers\": [[\"dense_1\", 0, 0]]", "\"output_layers\": [[\"dense_7\", 0, 0]]");
        Assert.That(() => Model.FromJson(json), Throws.TypeOf<FormatException>().With.Message.Contains("'dense_7'"));
    }

    [Test]
    public void FromJson_NotAModel_IsAClearError()
    {
        Assert.That(() => Model.FromJson("[1, 2]"), Throws.TypeOf<FormatException>().With.Message.Contains("class_name"));
        Assert.That(() => Model.FromJson("{\"class_name\": \"Dense\", \"config\": {}}"), Throws.TypeOf<FormatException>().With.Message.Contains("Dense"));
        Assert.That(() => Model.FromJson("{not json"), Throws.TypeOf<FormatException>().With.Message.Contains("JSON"));
    }

    [Test]
    public void Registry_CustomClass_IsBuiltByItsFactory()
    {
        var json = TfKeras2Regression.Replace("\"class_name\": \"Dense\"", "\"class_name\": \"ScaledDense\"").Replace("\"units\": 1,", "\"units\": 1, \"scale\": 2,");
        Assert.That(LayerRegistry.IsRegistered("ScaledDense"), Is.False);
        LayerRegistry.Register("ScaledDense", config =>
        {
            var scale = config.GetInt("scale");
            config.Ignore("kernel_initializer", "bias_initializer", "kernel_regularizer", "bias_regularizer", "kernel_constraint", "bias_constraint");
            return new Dense(config.GetInt("units") * scale, config.GetActivation("activation", "linear"), config.GetBool("use_bias", true), config.Name);
        });
        try
        {
            Assert.That(LayerRegistry.ClassNames, Does.Contain("ScaledDense").And.Contains("LSTM"));
            using var model = Model.FromJson(json);
            Assert.That(model.Outputs[0].Shape.ToString(), Is.EqualTo("(None, 2)"));
            Assert.That(() => LayerRegistry.Register("ScaledDense", _ => throw new InvalidOperationException()), Throws.ArgumentException);
            Assert.That(() => LayerRegistry.Register("LSTM", _ => throw new InvalidOperationException()), Throws.ArgumentException.With.Message.Contains("built-in"));
        }
        finally
        {
            Assert.That(LayerRegistry.Unregister("ScaledDense"), Is.True);
        }

        Assert.That(() => Model.FromJson(json), Throws.TypeOf<FormatException>().With.Message.Contains("ScaledDense"));
    }

    [Test]
    public void FromJson_Keras3Form_WithPolicyDtypesAndCallKwargs_Loads()
    {
        using var model = Model.FromJson(KerasArchiveTests.Keras3Config);
        Assert.That(model.Layers.Select(l => l.ClassName), Is.EqualTo(new[] { "InputLayer", "LSTM", "Dense" }));
        Assert.That(model.Optimizer, Is.InstanceOf<Adam>());
    }

    /// <summary>The regression model as tf.keras 2.x <c>to_json()</c> writes it (with a Keras 2.1-style LSTM).</summary>
    private const string TfKeras2Regression = """
        {"class_name": "Functional", "config": {"name": "model_1", "layers": [
          {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 1, 3], "dtype": "float32", "sparse": false, "ragged": false, "name": "input_1"}, "name": "input_1", "inbound_nodes": []},
          {"class_name": "Dropout", "config": {"name": "dropout_1", "trainable": true, "dtype": "float32", "rate": 0.25, "noise_shape": null, "seed": null}, "name": "dropout_1", "inbound_nodes": [[["input_1", 0, 0, {}]]]},
          {"class_name": "Conv1D", "config": {"name": "conv1d_1", "trainable": true, "dtype": "float32", "filters": 10, "kernel_size": [1], "strides": [1], "padding": "valid", "data_format": "channels_last", "dilation_rate": [1], "groups": 1, "activation": "linear", "use_bias": true,
            "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": null}}, "bias_initializer": {"class_name": "Zeros", "config": {}}, "kernel_regularizer": null, "bias_regularizer": null, "activity_regularizer": null, "kernel_constraint": null, "bias_constraint": null},
            "name": "conv1d_1", "inbound_nodes": [[["dropout_1", 0, 0, {}]]]},
          {"class_name": "MaxPooling1D", "config": {"name": "max_pooling1d_1", "trainable": true, "dtype": "float32", "strides": [1], "pool_size": [1], "padding": "valid", "data_format": "channels_last"}, "name": "max_pooling1d_1", "inbound_nodes": [[["conv1d_1", 0, 0, {}]]]},
          {"class_name": "LSTM", "config": {"name": "lstm_1", "trainable": true, "dtype": "float32", "return_sequences": false, "return_state": false, "go_backwards": false, "stateful": false, "unroll": false, "time_major": false,
            "units": 70, "activation": "tanh", "recurrent_activation": "hard_sigmoid", "use_bias": true,
            "kernel_initializer": {"class_name": "VarianceScaling", "config": {"scale": 1.0, "mode": "fan_avg", "distribution": "uniform", "seed": null}},
            "recurrent_initializer": {"class_name": "Orthogonal", "config": {"gain": 1.0, "seed": null}}, "bias_initializer": {"class_name": "Zeros", "config": {}}, "unit_forget_bias": true,
            "kernel_regularizer": null, "recurrent_regularizer": null, "bias_regularizer": null, "activity_regularizer": null, "kernel_constraint": null, "recurrent_constraint": null, "bias_constraint": null,
            "dropout": 0.0, "recurrent_dropout": 0.0, "implementation": 1}, "name": "lstm_1", "inbound_nodes": [[["max_pooling1d_1", 0, 0, {}]]]},
          {"class_name": "Dense", "config": {"name": "dense_1", "trainable": true, "dtype": "float32", "units": 1, "activation": "linear", "use_bias": true,
            "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": null}}, "bias_initializer": {"class_name": "Zeros", "config": {}}, "kernel_regularizer": null, "bias_regularizer": null, "activity_regularizer": null, "kernel_constraint": null, "bias_constraint": null},
            "name": "dense_1", "inbound_nodes": [[["lstm_1", 0, 0, {}]]]}],
          "input_layers": [["input_1", 0, 0]], "output_layers": [["dense_1", 0, 0]]}, "keras_version": "2.4.0", "backend": "tensorflow"}
        """;

    /// <summary>The sentiment model as Keras 2.1 <c>Sequential.to_json()</c> writes it: the config is the list of layers.</summary>
    private const string Keras21Sentiment = """
        {"class_name": "Sequential", "config": [
          {"class_name": "Embedding", "config": {"name": "embedding_1", "trainable": true, "batch_input_shape": [null, 100], "dtype": "float32", "input_dim": 20000, "output_dim": 128,
            "embeddings_initializer": {"class_name": "RandomUniform", "config": {"minval": -0.05, "maxval": 0.05, "seed": null}}, "embeddings_regularizer": null, "activity_regularizer": null, "embeddings_constraint": null, "mask_zero": false, "input_length": 100}},
          {"class_name": "Dropout", "config": {"name": "dropout_1", "trainable": true, "rate": 0.25, "noise_shape": null, "seed": null}},
          {"class_name": "Conv1D", "config": {"name": "conv1d_1", "trainable": true, "filters": 64, "kernel_size": [5], "strides": [1], "padding": "valid", "dilation_rate": [1], "activation": "relu", "use_bias": true,
            "kernel_initializer": {"class_name": "VarianceScaling", "config": {"scale": 1.0, "mode": "fan_avg", "distribution": "uniform", "seed": null}}, "bias_initializer": {"class_name": "Zeros", "config": {}},
            "kernel_regularizer": null, "bias_regularizer": null, "activity_regularizer": null, "kernel_constraint": null, "bias_constraint": null}},
          {"class_name": "MaxPooling1D", "config": {"name": "max_pooling1d_1", "trainable": true, "strides": [4], "pool_size": [4], "padding": "valid"}},
          {"class_name": "LSTM", "config": {"name": "lstm_1", "trainable": true, "return_sequences": false, "return_state": false, "go_backwards": false, "stateful": false, "unroll": false,
            "units": 70, "activation": "tanh", "recurrent_activation": "hard_sigmoid", "use_bias": true,
            "kernel_initializer": {"class_name": "VarianceScaling", "config": {"scale": 1.0, "mode": "fan_avg", "distribution": "uniform", "seed": null}},
            "recurrent_initializer": {"class_name": "Orthogonal", "config": {"gain": 1.0, "seed": null}}, "bias_initializer": {"class_name": "Zeros", "config": {}}, "unit_forget_bias": true,
            "kernel_regularizer": null, "recurrent_regularizer": null, "bias_regularizer": null, "activity_regularizer": null, "kernel_constraint": null, "recurrent_constraint": null, "bias_constraint": null,
            "dropout": 0.0, "recurrent_dropout": 0.0, "implementation": 1}},
          {"class_name": "Dense", "config": {"name": "dense_1", "trainable": true, "units": 1, "activation": "linear", "use_bias": true,
            "kernel_initializer": {"class_name": "VarianceScaling", "config": {"scale": 1.0, "mode": "fan_avg", "distribution": "uniform", "seed": null}}, "bias_initializer": {"class_name": "Zeros", "config": {}},
            "kernel_regularizer": null, "bias_regularizer": null, "activity_regularizer": null, "kernel_constraint": null, "bias_constraint": null}},
          {"class_name": "Activation", "config": {"name": "activation_1", "trainable": true, "activation": "sigmoid"}}],
         "keras_version": "2.1.6", "backend": "tensorflow"}
        """;

    /// <summary>The Keras 3 config of Input(10, 4) -> Conv1D(8, 3) named 'conv', with its layer config changed by <paramref name="change"/>.</summary>
    private static string Conv1DJson(Action<JsonObject> change)
    {
        Backend.ClearSession();
        var input = new Input(new[] { 10, 4 });
        using var model = new Model(input, new Conv1D(8, 3, name: "conv").Call(input));
        var json = JsonNode.Parse(model.ToJson())!;
        change(json["config"]!["layers"]!.AsArray().Single(l => l!["config"]!["name"]!.GetValue<string>() == "conv")!["config"]!.AsObject());
        return json.ToJsonString();
    }
}
