using KerasStyle.Layers;
using KerasStyle.Models;

namespace KerasStyle.Tests.Layers.Wrappers;

/// <summary>Bidirectional built in code (Keras' numbers are checked from Keras' files in LayerFamilyFixtureTests).</summary>
public class BidirectionalTests
{
    [Test]
    public void Call_OnALayerMadeInCode_CopiesItBothWaysWithKerasNamesAndParams()
    {
        // Issue 14: the copies were made from the layer's in-memory config, which the config reader refused
        // ("'units' must be an integer, got 70"); files worked, code did not.
        var x = new Input(shape: (5, 3), name: "x");
        var layer = new Bidirectional(new LSTM(4, name: "lstm"), name: "both");
        using var model = new Model(x, layer.Call(x));
        Assert.That((layer.ForwardLayer.Name, layer.BackwardLayer.Name), Is.EqualTo(("forward_lstm", "backward_lstm")));
        Assert.That(((LSTM)layer.BackwardLayer).GoBackwards, Is.True);
        Assert.That(model.CountParams(), Is.EqualTo(256));
        Assert.That(model.Predict<float[,]>(new float[2, 5, 3]).GetLength(1), Is.EqualTo(8));
    }

    [Test]
    public void Constructor_WithADenseLayer_ThrowsNamingIt()
    {
        var e = Assert.Throws<ArgumentException>(() => new Bidirectional(new Dense(2, name: "head")))!;
        Assert.That(e.Message, Does.Contain("Dense 'head'"));
    }
}
