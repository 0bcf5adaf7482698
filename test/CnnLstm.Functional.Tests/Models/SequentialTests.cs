using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;

namespace KerasStyle.Tests.Models;

public class SequentialTests
{
    [SetUp]
    public void FreshNames() => Backend.ClearSession();

    [Test]
    public void Add_FirstLayerWithoutInputShape_ThrowsInvalidOperation()
    {
        var model = new Sequential();
        var error = Assert.Throws<InvalidOperationException>(() => model.Add(new Dense(3)))!;
        Assert.That(error.Message, Does.Contain("dense_1"));
        Assert.That(model.Layers, Is.Empty);
        Assert.That(model.Built, Is.False);
    }

    [Test]
    public void Summary_WithoutInput_ThrowsInvalidOperation() =>
        Assert.Throws<InvalidOperationException>(() => new Sequential().SummaryText());

    [Test]
    public void Add_InputFirst_BuildsTheGraphAndLayersExcludeTheInputLayer()
    {
        var model = new Sequential();
        model.Add(new Input(new[] { 4 }));
        model.Add(new Dense(3));
        model.Add(new Dense(1));

        Assert.That(model.Built, Is.True);
        Assert.That(model.Layers.Select(l => l.Name), Is.EqualTo(new[] { "dense_1", "dense_2" }));
        Assert.That(model.Layers, Has.None.InstanceOf<InputLayer>());
        Assert.That(model.Inputs.Single().Layer.Name, Is.EqualTo("input_1"));
        Assert.That(model.Outputs.Single().Shape, Is.EqualTo(new Shape(null, 1)));
        Assert.That(model.CountParams(), Is.EqualTo(15 + 4));
    }

    [Test]
    public void Add_InputLayerFirst_WorksLikeAddingItsInput()
    {
        var model = new Sequential();
        model.Add(new InputLayer(new[] { 4 }));
        model.Add(new Dense(2));
        Assert.That(model.Layers.Select(l => l.Name), Is.EqualTo(new[] { "dense_1" }));
        Assert.That(model.Inputs.Single().Shape, Is.EqualTo(new Shape(null, 4)));
    }

    [Test]
    public void Add_SecondInput_ThrowsInvalidOperation()
    {
        var model = new Sequential();
        model.Add(new Input(new[] { 4 }));
        model.Add(new Dense(2));
        Assert.Throws<InvalidOperationException>(() => model.Add(new Input(new[] { 2 })));
    }

    [Test]
    public void Summary_IsTheKeras2ChainTableWithoutAnInputRow()
    {
        var model = new Sequential();
        model.Add(new Input(new[] { 4 }));
        model.Add(new Dense(3));
        model.Add(new Dense(1));

        var expected = string.Join("\n",
            "_________________________________________________________________",
            "Layer (type)                 Output Shape              Param #   ",
            "=================================================================",
            "dense_1 (Dense)              (None, 3)                 15        ",
            "_________________________________________________________________",
            "dense_2 (Dense)              (None, 1)                 4         ",
            "=================================================================",
            "Total params: 19",
            "Trainable params: 19",
            "Non-trainable params: 0",
            "_________________________________________________________________") + "\n";
        Assert.That(model.SummaryText(), Is.EqualTo(expected));
    }

    [Test]
    public void Predict_RunsTheStack()
    {
        var model = new Sequential();
        model.Add(new Input(new[] { 5, 2 }));
        model.Add(new Conv1D(3, 2));
        model.Add(new LSTM(4));
        model.Add(new Dense(1));

        var y = (float[,])model.Predict(TestData.Sequence(6, 5, 2, seed: 60));

        Assert.That(TestData.Dims(y), Is.EqualTo(new[] { 6, 1 }));
    }

    [Test]
    public void Add_EmbeddingWithInputLength_MakesAnInputNamedAfterItWithoutUsingAnInputName()
    {
        var model = new Sequential();
        model.Add(new Embedding(50, 8, inputLength: 10));
        model.Add(new LSTM(4));

        Assert.That(model.Inputs.Single().Layer.Name, Is.EqualTo("embedding_1_input"));
        Assert.That(model.Inputs.Single().DType, Is.EqualTo(DType.Int64));
        Assert.That(model.Layers.Select(l => l.Name), Is.EqualTo(new[] { "embedding_1", "lstm_1" }));
        Assert.That(new Input(new[] { 1 }).Layer.Name, Is.EqualTo("input_1"));
    }

    [Test]
    public void Add_LayerWithSeveralOutputs_ThrowsArgumentException()
    {
        var model = new Sequential();
        model.Add(new Input(new[] { 5, 2 }));
        var error = Assert.Throws<ArgumentException>(() => model.Add(new LSTM(4, returnState: true)))!;
        Assert.That(error.Message, Does.Contain("lstm_1"));
        Assert.That(model.Layers, Is.Empty);
    }

    [Test]
    public void Add_LayerThatRefusesTheShape_LeavesTheModelAsItWas()
    {
        var model = new Sequential();
        model.Add(new Input(new[] { 3, 2 }));
        model.Add(new Dense(4));
        Assert.Throws<LayerInputException>(() => model.Add(new MaxPooling1D(4)));
        Assert.That(model.Layers.Select(l => l.Name), Is.EqualTo(new[] { "dense_1" }));
        Assert.That(model.Outputs.Single().Shape, Is.EqualTo(new Shape(null, 3, 4)));
    }

    [Test]
    public void Constructor_WithLayers_AddsThemInOrder()
    {
        var model = new Sequential(new Layer[] { new InputLayer(new[] { 3 }), new Dense(2), new Activation("relu") });
        Assert.That(model.Layers.Select(l => l.Name), Is.EqualTo(new[] { "dense_1", "activation_1" }));
        Assert.That(model.Name, Is.EqualTo("sequential_1"));
    }
}
