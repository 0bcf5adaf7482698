using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;

namespace KerasStyle.Tests.Models;

public class ModelTests
{
    [SetUp]
    public void FreshNames() => Backend.ClearSession();

    [Test]
    public void Constructor_WithOutputFromAnotherInput_ThrowsGraphDisconnectedNamingTensorAndLayer()
    {
        var used = new Input(new[] { 3 });
        var other = new Input(new[] { 3 });
        var output = new Dense(1).Call(other);

        var error = Assert.Throws<GraphDisconnectedException>(() => new Model(used, output))!;
        Assert.That(error.Message, Does.Contain("input_2[0][0]"));
        Assert.That(error.Message, Does.Contain("dense_1"));
    }

    [Test]
    public void Constructor_WithOneOfTwoOutputsDisconnected_ThrowsNamingTheMissingInput()
    {
        var used = new Input(new[] { 3 });
        var other = new Input(new[] { 3 });
        var connected = new Dense(1).Call(used);
        var disconnected = new Dense(2).Call(new Dense(4).Call(other));

        var error = Assert.Throws<GraphDisconnectedException>(() => new Model(new[] { used }, new[] { connected, disconnected }))!;
        Assert.That(error.Message, Does.Contain("input_2[0][0]"));
        Assert.That(error.Message, Does.Contain("dense_3"));
    }

    [Test]
    public void Constructor_WithDuplicateLayerNames_ThrowsArgumentExceptionNamingTheName()
    {
        var input = new Input(new[] { 3 });
        var x = new Dense(4, name: "twin").Call(input);
        var output = new Dense(1, name: "twin").Call(x);

        var error = Assert.Throws<ArgumentException>(() => new Model(input, output))!;
        Assert.That(error.Message, Does.Contain("'twin'"));
    }

    [Test]
    public void Constructor_WithNonInputTensorAsInput_ThrowsArgumentException()
    {
        var input = new Input(new[] { 3 });
        var hidden = new Dense(4).Call(input);
        var output = new Dense(1).Call(hidden);

        var error = Assert.Throws<ArgumentException>(() => new Model(hidden, output))!;
        Assert.That(error.Message, Does.Contain("dense_1[0][0]"));
    }

    [Test]
    public void Constructor_WithTheSameInputTwice_ThrowsArgumentException()
    {
        var input = new Input(new[] { 3 });
        var output = new Dense(1).Call(input);
        Assert.Throws<ArgumentException>(() => new Model(new[] { input, input }, new[] { output }));
    }

    [Test]
    public void SharedLayer_HasOneSetOfWeightsAndTwoNodes()
    {
        var (model, shared) = SharedDenseModel();

        Assert.That(shared.InboundNodes, Has.Count.EqualTo(2));
        Assert.That(shared.Weights, Has.Count.EqualTo(2));
        Assert.That(model.Layers.Count(l => ReferenceEquals(l, shared)), Is.EqualTo(1));
        Assert.That(model.CountParams(), Is.EqualTo((4 * 3) + 3));
    }

    [Test]
    public void SharedLayer_GivesEqualOutputsForEqualInputs()
    {
        var (model, _) = SharedDenseModel();
        var x = TestData.Matrix(5, 4, seed: 12);

        var y = model.Predict(new Array[] { x, (float[,])x.Clone() });

        Assert.That(y, Has.Count.EqualTo(2));
        Assert.That(TestData.Dims(y[0]), Is.EqualTo(new[] { 5, 3 }));
        Assert.That(y[1], Is.EqualTo(y[0]));
        Assert.That(((float[,])y[0]).Cast<float>().Distinct().Count(), Is.GreaterThan(1));
    }

    [Test]
    public void SharedLayer_Summary_ShowsTheShapeWhenEveryCallAgreesAndOneRowPerConnection()
    {
        var (model, shared) = SharedDenseModel();
        // A call outside the model is not one of its connections (Keras' relevant_nodes).
        shared.Call(new Input(new[] { 4 }));

        var expected = Lines(
            "__________________________________________________________________________________________________",
            "Layer (type)                    Output Shape         Param #     Connected to                     ",
            "==================================================================================================",
            "input_1 (InputLayer)            (None, 4)            0                                            ",
            "__________________________________________________________________________________________________",
            "input_2 (InputLayer)            (None, 4)            0                                            ",
            "__________________________________________________________________________________________________",
            "dense_1 (Dense)                 (None, 3)            15          input_1[0][0]                    ",
            "                                                                 input_2[0][0]                    ",
            "==================================================================================================",
            "Total params: 15",
            "Trainable params: 15",
            "Non-trainable params: 0",
            "__________________________________________________________________________________________________");
        Assert.That(model.SummaryText(), Is.EqualTo(expected));
    }

    [Test]
    public void TwoInputsTwoOutputs_Layers_AreOrderedByDepthAsKeras()
    {
        var graph = TwoInputTwoOutputGraph();
        // The shared conv1d_1 sits at its deepest node's depth, which pushes input_1 to input_2's depth.
        Assert.That(graph.Model.Layers.Select(l => l.Name),
            Is.EqualTo(new[] { "input_1", "input_2", "conv1d_1", "dense_1", "dense_2", "activation_1" }));
    }

    [Test]
    public void TwoInputsTwoOutputs_Predict_ReturnsOneArrayPerOutputInOrder()
    {
        var graph = TwoInputTwoOutputGraph();
        var x1 = TestData.Sequence(3, 5, 4, seed: 41);
        var x2 = TestData.Sequence(3, 7, 4, seed: 42);

        var y = graph.Model.Predict(new Array[] { x1, x2 }, batchSize: 2);

        Assert.That(y, Has.Count.EqualTo(2));
        Assert.That(TestData.Dims(y[0]), Is.EqualTo(new[] { 3, 3, 1 }));
        Assert.That(TestData.Dims(y[1]), Is.EqualTo(new[] { 3, 5, 1 }));

        // Each output is what its own branch computes with the same (shared) layers.
        var branch1 = new Model(graph.Input1, graph.Output1).Predict(x1);
        var beforeSigmoid = (float[,,])new Model(graph.Input2, graph.Dense1Output).Predict(x2);
        Assert.That(y[0], Is.EqualTo(branch1).Within(1e-6f));
        var y2 = (float[,,])y[1];
        for (var b = 0; b < 3; b++)
        {
            for (var t = 0; t < 5; t++)
            {
                Assert.That(y2[b, t, 0], Is.EqualTo(1 / (1 + Math.Exp(-beforeSigmoid[b, t, 0]))).Within(1e-6), $"y2[{b}, {t}]");
            }
        }
    }

    [Test]
    public void TwoInputsTwoOutputs_Summary_IsTheKeras2ConnectedTable()
    {
        var graph = TwoInputTwoOutputGraph();

        // Keras 2 print_summary, width 98, columns ending at 32, 53, 65, 98; conv1d_1 has shapes (None, 3, 2) and
        // (None, 5, 2), so its output shape is 'multiple', and its second connection gets its own row.
        var expected = Lines(
            "__________________________________________________________________________________________________",
            "Layer (type)                    Output Shape         Param #     Connected to                     ",
            "==================================================================================================",
            "input_1 (InputLayer)            (None, 5, 4)         0                                            ",
            "__________________________________________________________________________________________________",
            "input_2 (InputLayer)            (None, 7, 4)         0                                            ",
            "__________________________________________________________________________________________________",
            "conv1d_1 (Conv1D)               multiple             26          input_1[0][0]                    ",
            "                                                                 input_2[0][0]                    ",
            "__________________________________________________________________________________________________",
            "dense_1 (Dense)                 (None, 5, 1)         3           conv1d_1[1][0]                   ",
            "__________________________________________________________________________________________________",
            "dense_2 (Dense)                 (None, 3, 1)         3           conv1d_1[0][0]                   ",
            "__________________________________________________________________________________________________",
            "activation_1 (Activation)       (None, 5, 1)         0           dense_1[0][0]                    ",
            "==================================================================================================",
            "Total params: 32",
            "Trainable params: 32",
            "Non-trainable params: 0",
            "__________________________________________________________________________________________________");
        var summary = graph.Model.SummaryText();

        Assert.That(summary.Split('\n')[0], Is.EqualTo(new string('_', 98)));
        Assert.That(summary.Split('\n').Where(l => l.Length > 0 && !l.Contains("params")), Has.All.Length.EqualTo(98));
        Assert.That(summary, Is.EqualTo(expected));
    }

    [Test]
    public void Predict_SingleArrayOnTwoOutputModel_ThrowsInvalidOperation()
    {
        var input = new Input(new[] { 3 });
        var model = new Model(new[] { input }, new[] { new Dense(1).Call(input), new Dense(2).Call(input) });
        Assert.Throws<InvalidOperationException>(() => model.Predict(new float[2, 3]));
    }

    [Test]
    public void Predict_WithWrongArrayCount_ThrowsArgumentException()
    {
        var graph = TwoInputTwoOutputGraph();
        var error = Assert.Throws<ArgumentException>(() => graph.Model.Predict(new Array[] { new float[1, 5, 4] }))!;
        Assert.That(error.Message, Does.Contain("2 inputs"));
    }

    [Test]
    public void Predict_WithWrongSampleShape_ThrowsArgumentExceptionNamingExpectedShape()
    {
        var graph = TwoInputTwoOutputGraph();
        var error = Assert.Throws<ArgumentException>(() => graph.Model.Predict(new Array[] { new float[1, 5, 4], new float[1, 5, 4] }))!;
        Assert.That(error.Message, Does.Contain("input_2"));
        Assert.That(error.Message, Does.Contain("(None, 7, 4)"));
    }

    [Test]
    public void Predict_InBatches_EqualsOneBatch()
    {
        var input = new Input(new[] { 6, 2 });
        var output = new Dense(1).Call(new LSTM(4).Call(new Conv1D(3, 2).Call(input)));
        var model = new Model(input, output);
        var x = TestData.Sequence(7, 6, 2, seed: 50);

        var whole = (float[,])model.Predict(x, batchSize: 32);
        var batched = (float[,])model.Predict(x, batchSize: 3);

        Assert.That(TestData.Dims(whole), Is.EqualTo(new[] { 7, 1 }));
        Assert.That(batched, Is.EqualTo(whole).Within(1e-6f));
    }

    [Test]
    public void GetLayer_FindsByNameAndThrowsForUnknown()
    {
        var graph = TwoInputTwoOutputGraph();
        Assert.That(graph.Model.GetLayer("dense_2").ClassName, Is.EqualTo("Dense"));
        var error = Assert.Throws<ArgumentException>(() => graph.Model.GetLayer("dense_9"))!;
        Assert.That(error.Message, Does.Contain("dense_9"));
    }

    private static string Lines(params string[] lines) => string.Join("\n", lines) + "\n";

    /// <summary>input_1, input_2 (None, 4) through one shared dense_1 (3 units): two outputs.</summary>
    private static (Model Model, Dense Shared) SharedDenseModel()
    {
        var in1 = new Input(new[] { 4 });
        var in2 = new Input(new[] { 4 });
        var shared = new Dense(3);
        var model = new Model(new[] { in1, in2 }, new[] { shared.Call(in1), shared.Call(in2) });
        return (model, shared);
    }

    /// <summary>
    /// input_1 (None, 5, 4) -> conv1d_1 -> dense_2 = output 1; input_2 (None, 7, 4) -> conv1d_1 (shared) -> dense_1
    /// -> activation_1 (sigmoid) = output 2.
    /// </summary>
    private static (Model Model, Input Input1, Input Input2, KerasTensor Output1, KerasTensor Dense1Output) TwoInputTwoOutputGraph()
    {
        var in1 = new Input(new[] { 5, 4 });
        var in2 = new Input(new[] { 7, 4 });
        var conv = new Conv1D(2, 3);
        var dense1 = new Dense(1);
        var dense2 = new Dense(1);
        var sigmoid = new Activation("sigmoid");
        var a = conv.Call(in1);
        var b = conv.Call(in2);
        var out1 = dense2.Call(a);
        var d1 = dense1.Call(b);
        var out2 = sigmoid.Call(d1);
        return (new Model(new[] { in1, in2 }, new[] { out1, out2 }), in1, in2, out1, d1);
    }
}
