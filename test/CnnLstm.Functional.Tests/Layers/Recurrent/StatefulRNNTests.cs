using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Saving;
using KerasStyle.Tests.Saving;
using KerasStyle.Tests.Saving.Onnx;
using KerasStyle.Training.Optimizers;

namespace KerasStyle.Tests.Layers.Recurrent;

/// <summary>
/// Stateful recurrent layers (Keras' <c>stateful=True</c>) and initial states of GRU, SimpleRNN and Bidirectional
/// against real Keras 3.16 (tools/keras-fixtures/stateful_rnn.py): states carried between Predict and TrainOnBatch
/// calls and between the batches of one Predict, reset by ResetState/ResetStates, refused batch sizes, the files both
/// ways (.keras, Keras 3 .h5, tf.keras 2 .h5 with batch_input_shape), and Keras' rnn_test.py/bidirectional_test.py
/// cases that apply.
/// </summary>
public class StatefulRNNTests
{
    private static readonly string Folder = Path.Combine(TestContext.CurrentContext.TestDirectory, "Layers", "Recurrent", "KerasFixtures", "stateful");

    private static JsonObject Fixture => JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "cases.json")))!.AsObject();

    private static IEnumerable<string> Names(string group) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(Path.GetDirectoryName(typeof(StatefulRNNTests).Assembly.Location)!, "Layers", "Recurrent", "KerasFixtures", "stateful", "cases.json")))![group]!.AsObject().Select(kv => kv.Key);

    private static IEnumerable<string> StatefulNames() => Names("stateful");

    private static IEnumerable<string> InitialNames() => Names("initial");

    [TestCaseSource(nameof(StatefulNames))]
    public void Load_KerasStatefulFiles_CarryStatesAcrossPredictCallsAndBatches_AndResetAsKeras(string name)
    {
        var fixture = Fixture["stateful"]![name]!;
        foreach (var file in new[] { ".keras", ".h5" })
        {
            using var model = Model.Load(Path.Combine(Folder, name + file));
            AssertCarriesAsKeras(model, fixture, file);
            var layer = JsonNode.Parse(model.ToJson())!["config"]!["layers"]!.AsArray();
            Assert.That(JsonNode.DeepEquals(layer[0]!["config"], fixture["input_config"]!["config"]), Is.True, $"{file}: the input config Keras writes (batch_shape with the batch size):\n{fixture["input_config"]!["config"]!.ToJsonString()}\nthe library's:\n{layer[0]!["config"]!.ToJsonString()}");
            var tested = layer.Single(l => l!["config"]!["name"]!.GetValue<string>() == fixture["layer_name"]!.GetValue<string>())!;
            Assert.That(JsonNode.DeepEquals(tested["config"], fixture["layer_config"]!["config"]), Is.True, $"{file}: Keras:\n{fixture["layer_config"]!["config"]!.ToJsonString()}\nlibrary:\n{tested["config"]!.ToJsonString()}");
            // Every form written here (with tf.keras 2's batch_input_shape) loads back stateful with its batch size.
            ModelFiles.CheckEveryForm(model, back => AssertCarriesAsKeras(back, fixture, $"{file} written back"));
        }
    }

    [Test]
    public void Load_TfKeras2SequentialWithBatchInputShapeAndStateful_CarriesStatesAsKeras()
    {
        using var model = Model.Load(Path.Combine(Folder, "tfkeras2_stateful.h5"));
        AssertCarriesAsKeras(model, Fixture["stateful"]!["stateful_lstm"]!, "tf.keras 2 .h5");
        Assert.That(model.Inputs[0].BatchSize, Is.EqualTo(2));
    }

    [Test]
    public void TrainOnBatch_StatefulLstm_CarriesStatesBetweenSteps_AsKeras()
    {
        var fixture = Fixture["stateful"]!["stateful_lstm"]!;
        var train = fixture["train"]!;
        using var model = Model.Load(Path.Combine(Folder, "stateful_lstm.keras"));
        model.Compile(new SGD(learningRate: 0.1), "mse");
        var xs = fixture["x"]!.AsArray().Select(x => (Array)FixtureJson.ToFloat3(x!.AsArray())).ToArray();
        var targets = train["targets"]!.AsArray().Select(t => (Array)FixtureJson.ToFloat2(t!.AsArray())).ToArray();
        var losses = xs.Zip(targets).Select(p => model.TrainOnBatch(p.First, p.Second)["loss"]).ToArray();
        Assert.That(losses, Is.EqualTo(train["losses"]!.AsArray().Select(l => l!.GetValue<double>())).Within(1e-5));
        Assert.That(model.GetWeights().SelectMany(w => w.Data).Select(v => (double)v),
            Is.EqualTo(train["weights_after"]!.AsArray().SelectMany(w => FixtureJson.Flatten(w!))).Within(1e-5));
        // Keras predicts after the three steps from the states training left.
        AssertPredicts(model, xs[0], train["y_after"]!, "after training");
    }

    [Test]
    public void Fit_StatefulLstm_CarriesStatesBetweenBatches_AsTrainOnBatchDoes()
    {
        var fixture = Fixture["stateful"]!["stateful_lstm"]!;
        var xs = fixture["x"]!.AsArray().Select(x => FixtureJson.ToFloat3(x!.AsArray())).ToArray();
        var stacked = new float[4, 5, 3];
        Buffer.BlockCopy(xs[0], 0, stacked, 0, 30 * sizeof(float));
        Buffer.BlockCopy(xs[1], 0, stacked, 30 * sizeof(float), 30 * sizeof(float));
        var y = new float[4, 2];
        using var fitted = Model.Load(Path.Combine(Folder, "stateful_lstm.keras"));
        using var stepped = Model.Load(Path.Combine(Folder, "stateful_lstm.keras"));
        fitted.Compile(new SGD(learningRate: 0.1), "mse");
        stepped.Compile(new SGD(learningRate: 0.1), "mse");
        fitted.Fit(stacked, y, batchSize: 2, epochs: 1, verbose: 0, shuffle: false);
        stepped.TrainOnBatch(xs[0], new float[2, 2]);
        stepped.TrainOnBatch(xs[1], new float[2, 2]);
        Assert.That(fitted.GetWeights().SelectMany(w => w.Data), Is.EqualTo(stepped.GetWeights().SelectMany(w => w.Data)).Within(1e-6));
        var lstm = (RNN)fitted.GetLayer("lstm");
        Assert.That(Flat(lstm.States!), Is.EqualTo(Flat(((RNN)stepped.GetLayer("lstm")).States!)).Within(1e-6), "the carried states");
        Assert.That(Flat(lstm.States!).Any(v => v != 0), Is.True);
    }

    [Test]
    public void Predict_BatchOfAnotherSize_ThrowsNamingLayerAndBothSizes_BeforeAnyStateChanges()
    {
        var fixture = Fixture["stateful"]!["stateful_lstm"]!;
        using var model = Model.Load(Path.Combine(Folder, "stateful_lstm.keras"));
        var x1 = FixtureJson.ToFloat3(fixture["x"]![0]!.AsArray());
        model.Predict(x1, batchSize: 2);
        var lstm = (RNN)model.GetLayer("lstm");
        var before = Flat(lstm.States!);
        var three = new float[3, 5, 3];
        var e = Assert.Throws<LayerInputException>(() => model.Predict(three, batchSize: 3))!;
        Assert.That(e.Message, Does.Contain("LSTM 'lstm'").And.Contain("batch of 2").And.Contain("batch of 3"));
        Assert.That(Flat(lstm.States!), Is.EqualTo(before), "the states are unchanged");
        // The default batch size (32) takes all 3 samples at once: refused the same way.
        Assert.Throws<LayerInputException>(() => model.Predict(three));
        AssertPredicts(model, FixtureJson.ToFloat3(fixture["x"]![1]!.AsArray()), fixture["y2"]!, "carried on after the refusals");
    }

    [Test]
    public void Call_StatefulWithoutAFixedBatchSize_IsRefusedAsKeras()
    {
        var x = new Input((5, 3), name: "x");
        var e = Assert.Throws<LayerInputException>(() => new LSTM(4, stateful: true, name: "lstm").Call(x))!;
        Assert.That(e.Message, Does.Contain("LSTM 'lstm'").And.Contain("stateful=true needs a fixed batch size").And.Contain("batchSize"));
        Assert.Throws<LayerInputException>(() => new Bidirectional(new GRU(3, stateful: true)).Call(x));
        Assert.DoesNotThrow(() => new LSTM(4, stateful: false).Call(x));
    }

    [Test]
    public void BuiltInCode_StatefulLayers_WriteKerasConfigsAndPredictAsKeras()
    {
        foreach (var name in StatefulNames())
        {
            var fixture = Fixture["stateful"]![name]!;
            var x = new Input((5, 3), name: "x", batchSize: 2);
            Layer layer = name switch
            {
                "stateful_lstm" => new LSTM(4, stateful: true, name: "lstm"),
                "stateful_gru_sequences" => new GRU(4, stateful: true, returnSequences: true, name: "gru"),
                "stateful_simple_rnn_cell" => new RNN(new SimpleRNNCell(3, name: "simple_rnn_cell"), stateful: true, name: "rnn"),
                _ => new Bidirectional(new LSTM(3, stateful: true, returnSequences: true, name: "lstm"), name: "bidirectional"),
            };
            var y = layer.Call(x);
            using var model = new Model(x, name == "stateful_lstm" ? new Dense(2, name: "dense").Call(y) : y);
            var configs = JsonNode.Parse(model.ToJson())!["config"]!["layers"]!.AsArray();
            Assert.That(JsonNode.DeepEquals(configs[0]!["config"], fixture["input_config"]!["config"]), Is.True, $"{name}: {configs[0]!["config"]!.ToJsonString()}");
            Assert.That(JsonNode.DeepEquals(configs[1]!["config"], fixture["layer_config"]!["config"]), Is.True,
                $"{name}: Keras:\n{fixture["layer_config"]!["config"]!.ToJsonString()}\nlibrary:\n{configs[1]!["config"]!.ToJsonString()}");
            model.SetWeights(fixture["weights"]!.AsArray().Zip(model.GetWeights())
                .Select(p => new WeightArray(p.Second.Shape.ToArray(), FixtureJson.Flatten(p.First!).Select(v => (float)v).ToArray())).ToArray());
            AssertCarriesAsKeras(model, fixture, $"{name} built in code");
        }
    }

    [Test]
    public void FromConfig_BidirectionalWithOneStatefulDirection_IsRefusedAsKeras()
    {
        var config = JsonNode.Parse(Fixture["stateful"]!["stateful_bidirectional_lstm"]!["layer_config"]!["config"]!.ToJsonString())!.AsObject();
        config["backward_layer"]!["config"]!["stateful"] = false;
        var e = Assert.Throws<FormatException>(() => LayerRegistry.Create(new LayerConfig("Bidirectional", "bidirectional", config)))!;
        Assert.That(e.Message, Does.Contain("Bidirectional 'bidirectional'").And.Contain("same stateful").And.Contain("backward_lstm"));
        config["backward_layer"]!["config"]!["stateful"] = true;
        using var layer = LayerRegistry.Create(new LayerConfig("Bidirectional", "bidirectional", config));
        Assert.That(((Bidirectional)layer).Stateful, Is.True);
    }

    [Test]
    public void Summary_OfAModelWithAFixedBatchSize_PrintsItAsKeras()
    {
        var x = new Input((5, 3), name: "x", batchSize: 2);
        using var model = new Model(x, new Dense(2, name: "dense").Call(new LSTM(4, stateful: true, name: "lstm").Call(x)));
        Assert.That(model.SummaryText(), Does.Contain("(2, 5, 3)").And.Contain("(2, 4)").And.Contain("(2, 2)").And.Not.Contain("None"));
    }

    [Test]
    public void ResetState_OnLayers_ZerosTheStates_AndOnAStatelessBidirectionalThrowsAsKeras()
    {
        var fixture = Fixture["stateful"]!["stateful_bidirectional_lstm"]!;
        using var model = Model.Load(Path.Combine(Folder, "stateful_bidirectional_lstm.keras"));
        var bidirectional = (Bidirectional)model.GetLayer("bidirectional");
        Assert.That(bidirectional.Stateful, Is.True);
        var x1 = FixtureJson.ToFloat3(fixture["x"]![0]!.AsArray());
        AssertPredicts(model, x1, fixture["y1"]!, "first call");
        var forward = (RNN)bidirectional.ForwardLayer;
        Assert.That(Flat(forward.States!).Any(v => v != 0), Is.True);
        bidirectional.ResetState();
        Assert.That(Flat(forward.States!).All(v => v == 0), Is.True, "Keras assigns zeros");
        AssertPredicts(model, x1, fixture["y1"]!, "after ResetState");
        bidirectional.ResetStates();
        AssertPredicts(model, x1, fixture["y1"]!, "after ResetStates");

        var stateless = new Bidirectional(new LSTM(2), name: "bi");
        var e = Assert.Throws<InvalidOperationException>(() => stateless.ResetState())!;
        Assert.That(e.Message, Does.Contain("Bidirectional 'bi'").And.Contain("must be stateful"));
        using var plain = new LSTM(2);
        Assert.DoesNotThrow(() => plain.ResetState(), "Keras' RNN.reset_state does nothing without states");
        Assert.That(plain.States, Is.Null);
    }

    [Test]
    public void Export_StatefulModel_IsRefusedNamingTheLayer()
    {
        foreach (var name in new[] { "stateful_lstm", "stateful_bidirectional_lstm" })
        {
            using var model = Model.Load(Path.Combine(Folder, name + ".keras"));
            var path = Path.Combine(Path.GetTempPath(), $"ks-stateful-{Guid.NewGuid():N}.onnx");
            try
            {
                var e = Assert.Throws<NotSupportedException>(() => model.Export(path))!;
                Assert.That(e.Message, Does.Contain(name == "stateful_lstm" ? "LSTM 'lstm'" : "Bidirectional 'bidirectional'").And.Contain("stateful"));
            }
            finally
            {
                File.Delete(path);
            }
        }
    }

    [TestCaseSource(nameof(InitialNames))]
    public void Load_KerasFilesWithInitialStates_PredictAsKeras_InEveryForm_AndInOnnx(string name)
    {
        var fixture = Fixture["initial"]![name]!;
        var inputs = new[] { (Array)FixtureJson.ToFloat3(fixture["x"]!.AsArray()) }
            .Concat(fixture["states"]!.AsArray().Select(s => (Array)FixtureJson.ToFloat2(s!.AsArray()))).ToArray();
        void Check(Model model, string what)
        {
            var predicted = model.Predict(inputs);
            Assert.That(predicted.Count, Is.EqualTo(fixture["y"]!.AsArray().Count), what);
            for (var i = 0; i < predicted.Count; i++)
            {
                Assert.That(predicted[i].Cast<float>().Select(v => (double)v), Is.EqualTo(FixtureJson.Flatten(fixture["y"]![i]!)).Within(1e-5), $"{what}: output {i}");
            }
        }

        foreach (var file in new[] { ".keras", ".h5" })
        {
            using var model = Model.Load(Path.Combine(Folder, name + file));
            Check(model, file);
            ModelFiles.CheckEveryForm(model, back => Check(back, $"{file} written back"));
            OnnxCheck.AssertMatchesPredict(model, inputs);
        }
    }

    [Test]
    public void Call_BidirectionalWithTheWrongNumberOfStates_ThrowsNamingTheCounts()
    {
        var x = new Input((5, 3));
        var states = Enumerable.Range(0, 3).Select(_ => (KerasTensor)new Input(3)).ToArray();
        var layer = new Bidirectional(new LSTM(3), name: "bi");
        var e = Assert.Throws<LayerInputException>(() => layer.Call(x, states))!;
        Assert.That(e.Message, Does.Contain("Bidirectional 'bi'").And.Contain("4 tensors").And.Contain("got 3"));
        var wrongSize = Enumerable.Range(0, 4).Select(i => (KerasTensor)new Input(i == 3 ? 5 : 3)).ToArray();
        var sizeError = Assert.Throws<LayerInputException>(() => layer.Call(x, wrongSize))!;
        Assert.That(sizeError.Message, Does.Contain("(None, 3)").And.Contain("(None, 5)"));
        Assert.That(layer.Built, Is.False, "nothing was built by the refused calls");
    }

    [Test]
    public void Call_GruAndSimpleRnnWithTheWrongState_ThrowNamingTheShapes()
    {
        var x = new Input((5, 3));
        var e = Assert.Throws<LayerInputException>(() => new GRU(4, name: "gru").Call(x, new[] { (KerasTensor)new Input(3) }))!;
        Assert.That(e.Message, Does.Contain("GRU 'gru'").And.Contain("(None, 4)").And.Contain("(None, 3)"));
        var e2 = Assert.Throws<LayerInputException>(() => new SimpleRNN(4, name: "rnn").Call(x, new[] { (KerasTensor)new Input(4), new Input(4) }))!;
        Assert.That(e2.Message, Does.Contain("SimpleRNN 'rnn'").And.Contain("one float32 tensor"));
    }

    // Keras 3.16's lstm_test.py, gru_test.py and simple_rnn_test.py test_statefulness: Constant(0.01) kernel, 0.02
    // recurrent kernel, 0.03 bias (the LSTM's forget block 1: unit_forget_bias), arange(24) as (2, 3, 4); the second
    // call starts from the first's states, and again after reset_state().
    [TestCase("LSTM", 0.3124785, 0.6863672)]
    [TestCase("GRU", 0.29542392, 0.5885018)]
    [TestCase("SimpleRNN", 0.40559256, 0.7361247)]
    public void KerasTest_Statefulness_SecondEagerCallStartsFromTheFirstsStates_AndAgainAfterReset(string kind, double first, double second)
    {
        var sequence = Arange(2, 3, 4);
        using RNN layer = kind switch
        {
            "LSTM" => new LSTM(4, stateful: true),
            "GRU" => new GRU(4, stateful: true),
            _ => new SimpleRNN(4, stateful: true),
        };
        layer.Invoke(sequence);
        SetConstantWeights(layer, 4);
        layer.ResetState();
        for (var round = 0; round < 2; round++)
        {
            layer.Invoke(sequence);
            var output = (float[,])layer.Invoke(sequence);
            Assert.That(output.Cast<float>().Select(v => (double)v), Is.EqualTo(Enumerable.Repeat(first, 4).Concat(Enumerable.Repeat(second, 4))).Within(1e-5), $"round {round}");
            layer.ResetState();
        }
    }

    // Keras 3.16's gru_test.py and simple_rnn_test.py test_pass_initial_state: the same constant weights, arange(24) as
    // (2, 4, 3), the initial state arange as (2, units), forwards and go_backwards.
    [TestCase("GRU", false, new[] { 0.23774096, 0.33508456, 0.83659905, 1.0227708 })]
    [TestCase("GRU", true, new[] { 0.13486053, 0.23261218, 0.78257304, 0.9691353 })]
    [TestCase("SimpleRNN", false, new[] { 0.33621645, 0.33621645, 0.33621645, 0.33621645, 0.6262637, 0.6262637, 0.6262637, 0.6262637 })]
    [TestCase("SimpleRNN", true, new[] { 0.07344437, 0.07344437, 0.07344437, 0.07344437, 0.43043602, 0.43043602, 0.43043602, 0.43043602 })]
    public void KerasTest_PassInitialState_StartsFromTheGivenState(string kind, bool goBackwards, double[] expected)
    {
        var units = kind == "GRU" ? 2 : 4;
        RNN layer = kind == "GRU" ? new GRU(units, goBackwards: goBackwards) : new SimpleRNN(units, goBackwards: goBackwards);
        var x = new Input((4, 3));
        var state = new Input(units);
        using var model = new Model(new KerasTensor[] { x, state }, layer.Call(x, new KerasTensor[] { state }));
        SetConstantWeights(layer, units);
        var initial = new float[2, units];
        Buffer.BlockCopy(Enumerable.Range(0, 2 * units).Select(v => (float)v).ToArray(), 0, initial, 0, 2 * units * sizeof(float));
        var output = model.Predict(new Array[] { Arange(2, 4, 3), initial })[0];
        Assert.That(output.Cast<float>().Select(v => (double)v), Is.EqualTo(expected).Within(1e-5));
    }

    private static float[,,] Arange(int a, int b, int c)
    {
        var values = new float[a, b, c];
        Buffer.BlockCopy(Enumerable.Range(0, a * b * c).Select(v => (float)v).ToArray(), 0, values, 0, a * b * c * sizeof(float));
        return values;
    }

    private static void SetConstantWeights(Layer layer, int units) => layer.SetWeights(layer.GetWeights().Select((w, i) =>
        new WeightArray(w.Shape.ToArray(), w.Data.Select((_, j) => i switch
        {
            0 => 0.01f,
            1 => 0.02f,
            // Keras' LSTM bias initializer with unit_forget_bias: the forget block is ones.
            _ => layer is LSTM && j >= units && j < 2 * units ? 1f : 0.03f,
        }).ToArray())).ToArray());

    private static void AssertCarriesAsKeras(Model model, JsonNode fixture, string what)
    {
        var xs = fixture["x"]!.AsArray().Select(x => FixtureJson.ToFloat3(x!.AsArray())).ToArray();
        model.ResetStates();
        AssertPredicts(model, xs[0], fixture["y1"]!, $"{what}: first call");
        AssertPredicts(model, xs[1], fixture["y2"]!, $"{what}: second call, from the first call's states");
        model.ResetStates();
        AssertPredicts(model, xs[2], fixture["y3_after_reset"]!, $"{what}: after ResetStates");
        model.ResetStates();
        var stacked = new float[4, 5, 3];
        Buffer.BlockCopy(xs[0], 0, stacked, 0, 30 * sizeof(float));
        Buffer.BlockCopy(xs[1], 0, stacked, 30 * sizeof(float), 30 * sizeof(float));
        AssertPredicts(model, stacked, fixture["y_x1_x2_one_predict"]!, $"{what}: one Predict of two batches");
        model.ResetStates();
    }

    private static void AssertPredicts(Model model, Array x, JsonNode expected, string what) =>
        Assert.That(model.Predict(x, batchSize: 2).Cast<float>().Select(v => (double)v), Is.EqualTo(FixtureJson.Flatten(expected)).Within(1e-5), what);

    private static float[] Flat(IReadOnlyList<float[,]> states) => states.SelectMany(s => s.Cast<float>()).ToArray();
}
