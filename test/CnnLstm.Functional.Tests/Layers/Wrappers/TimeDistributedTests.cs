using KerasStyle.Layers;
using KerasStyle.Models;

namespace KerasStyle.Tests.Layers.Wrappers;

/// <summary>TimeDistributed built in code: shapes, errors, weights (Keras' numbers in LayerFamilyFixtureTests).</summary>
public class TimeDistributedTests
{
    [Test]
    public void Call_ConvPoolFlattenOverWeeks_GivesKerasShapesAndSharesTheInnerWeights()
    {
        var weeks = new Input(shape: (4, 7, 1), name: "weeks");
        var conv = new TimeDistributed(new Conv1D(64, 3, activation: "relu"), name: "conv");
        var x = conv.Call(weeks);
        Assert.That(x.Shape.ToString(), Is.EqualTo("(None, 4, 5, 64)"));
        x = new TimeDistributed(new MaxPooling1D(2)).Call(x);
        x = new TimeDistributed(new Flatten()).Call(x);
        Assert.That(x.Shape.ToString(), Is.EqualTo("(None, 4, 128)"));
        using var model = new Model(weeks, new Dense(1).Call(new LSTM(50).Call(x)));
        Assert.That(conv.Weights, Is.EqualTo(conv.Layer.Weights), "the wrapper's weights are the inner layer's");
        Assert.That(model.CountParams(), Is.EqualTo(36107), "as Keras counts this model (256 + 35,800 + 51)");
    }

    [Test]
    public void Call_InnerLayerRefusesTheStep_ThrowsNamingTheInnerLayerAndShapes()
    {
        var x = new Input(shape: (4, 2, 1), name: "x");
        var e = Assert.Throws<LayerInputException>(() => new TimeDistributed(new Conv1D(3, 5, name: "wide")).Call(x))!;
        Assert.That(e.Message, Does.Contain("Conv1D 'wide'").And.Contain("(None, 2, 1)"));
    }

    [Test]
    public void Call_OnRankTwoInput_ThrowsAskingForAStepAxis()
    {
        var x = new Input(shape: 3, name: "x");
        var e = Assert.Throws<LayerInputException>(() => new TimeDistributed(new Dense(2), name: "td").Call(x))!;
        Assert.That(e.Message, Does.Contain("TimeDistributed 'td'").And.Contain("rank 3 or more"));
    }
}
