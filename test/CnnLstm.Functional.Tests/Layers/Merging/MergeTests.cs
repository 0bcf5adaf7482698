using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;

namespace KerasStyle.Tests.Layers.Merging;

/// <summary>Merge layers: call-time errors, shapes, summaries (issue 13). Keras' numbers are in <see cref="MergeFixtureTests"/>.</summary>
public class MergeTests
{
    [Test]
    public void Call_Concatenate_WithMismatchedShapes_ThrowsNamingLayerAndEveryShape()
    {
        var a = new Input(new[] { 4, 3 }, name: "a");
        var b = new Input(new[] { 5, 2 }, name: "b");
        var layer = new Concatenate(name: "join");
        var e = Assert.Throws<LayerInputException>(() => layer.Call(a, b))!;
        Assert.That(e.LayerName, Is.EqualTo("join"));
        Assert.That(e.Message, Does.Contain("Concatenate 'join'").And.Contain("(None, 4, 3)").And.Contain("(None, 5, 2)"));
        Assert.That(layer.InboundNodes, Is.Empty, "a refused call records no node");
    }

    [Test]
    public void Call_Concatenate_OnTheBatchAxis_Throws()
    {
        var a = new Input(new[] { 3 }, name: "a");
        var e = Assert.Throws<LayerInputException>(() => new Concatenate(axis: 0, name: "join").Call(a, a))!;
        Assert.That(e.Message, Does.Contain("batch axis"));
    }

    [Test]
    public void Call_Concatenate_OnAxis1_AddsTheSizes()
    {
        var a = new Input(new[] { 2, 3 }, name: "a");
        var b = new Input(new[] { 5, 3 }, name: "b");
        Assert.That(new Concatenate(axis: 1).Call(a, b).Shape.ToString(), Is.EqualTo("(None, 7, 3)"));
    }

    [Test]
    public void Call_Add_WithIncompatibleShapes_ThrowsNamingEveryShape()
    {
        var a = new Input(new[] { 4, 3 }, name: "a");
        var b = new Input(new[] { 4, 2 }, name: "b");
        var e = Assert.Throws<LayerInputException>(() => new Add(name: "sum").Call(a, b))!;
        Assert.That(e.Message, Does.Contain("Add 'sum'").And.Contain("a[0][0] with shape (None, 4, 3)").And.Contain("b[0][0] with shape (None, 4, 2)"));
    }

    [Test]
    public void Call_Add_BroadcastsOnesAndLowerRanks_AsKeras()
    {
        var a = new Input(new[] { 4, 3 }, name: "a");
        var b = new Input(new[] { 1, 3 }, name: "b");
        var c = new Input(new[] { 3 }, name: "c");
        Assert.That(new Add().Call(a, b).Shape.ToString(), Is.EqualTo("(None, 4, 3)"));
        var product = new Multiply().Call(a, c);
        Assert.That(product.Shape.ToString(), Is.EqualTo("(None, 4, 3)"));
        using var model = new Model(new KerasTensor[] { a, c }, product);
        var x = new float[1, 4, 3];
        for (var i = 0; i < 12; i++)
        {
            x[0, i / 3, i % 3] = i;
        }

        var y = (float[,,])model.Predict(new Array[] { x, new float[,] { { 1, 10, 100 } } })[0];
        Assert.That(y[0, 2, 1], Is.EqualTo(7 * 10f), "c is broadcast over a's time axis");
    }

    [Test]
    public void Call_Subtract_OnThreeInputs_ThrowsExactlyTwo()
    {
        var a = new Input(new[] { 3 }, name: "a");
        var e = Assert.Throws<LayerInputException>(() => new Subtract(name: "diff").Call(a, a, a))!;
        Assert.That(e.Message, Does.Contain("exactly 2 inputs, but got 3"));
    }

    [Test]
    public void Call_Dot_WithDifferentAxisSizes_ThrowsNamingAxesAndShapes()
    {
        var a = new Input(new[] { 4, 3 }, name: "a");
        var b = new Input(new[] { 4, 5 }, name: "b");
        var e = Assert.Throws<LayerInputException>(() => new Dot(2, name: "score").Call(a, b))!;
        Assert.That(e.Message, Does.Contain("Dot 'score'").And.Contain("axis 2 of the first input has size 3").And.Contain("(None, 4, 5)"));
    }

    [Test]
    public void Call_Dot_OfTwoVectors_GivesOneColumn()
    {
        var a = new Input(new[] { 3 }, name: "a");
        var b = new Input(new[] { 3 }, name: "b");
        var dot = new Dot(1).Call(a, b);
        Assert.That(dot.Shape.ToString(), Is.EqualTo("(None, 1)"));
        using var model = new Model(new KerasTensor[] { a, b }, dot);
        var y = (float[,])model.Predict(new Array[] { new float[,] { { 1, 2, 3 } }, new float[,] { { 4, 5, 6 } } })[0];
        Assert.That(y[0, 0], Is.EqualTo(32f));
    }

    [Test]
    public void Call_MergeOnOneTensorNotAList_ThrowsAskingForAList()
    {
        var a = new Input(new[] { 3 }, name: "a");
        var e = Assert.Throws<LayerInputException>(() => new Add(name: "sum").Call(a))!;
        Assert.That(e.Message, Does.Contain("must be called on a list of inputs"));
    }

    [Test]
    public void Call_DenseOnTwoTensors_ThrowsTakesOneInput()
    {
        var a = new Input(new[] { 3 }, name: "a");
        var b = new Input(new[] { 3 }, name: "b");
        var e = Assert.Throws<LayerInputException>(() => new Dense(2, name: "head").Call(a, b))!;
        Assert.That(e.Message, Does.Contain("Dense 'head': takes one input tensor, but was called on 2"));
    }

    [Test]
    public void Call_DenseOnAListOfOne_IsTheSameAsOnTheTensor()
    {
        var a = new Input(new[] { 3 }, name: "a");
        Assert.That(new Dense(2).Call(new[] { a }).Shape.ToString(), Is.EqualTo("(None, 2)"));
    }

    [Test]
    public void Call_MergeOnIntegerInputs_ThrowsNamingTheDtype()
    {
        var ids = new Input(new[] { 3 }, DType.Int64, name: "ids");
        var e = Assert.Throws<LayerInputException>(() => new Add(name: "sum").Call(ids, ids))!;
        Assert.That(e.Message, Does.Contain("int64"));
    }

    [Test]
    public void Summary_TwoInputModel_ListsEveryInboundTensorOnItsOwnLine()
    {
        var a = new Input(new[] { 3 }, name: "a");
        var b = new Input(new[] { 3 }, name: "b");
        var added = new Add(name: "add").Call(a, b);
        using var model = new Model(new KerasTensor[] { a, b }, new Dense(1, name: "out").Call(added));
        var lines = model.SummaryText().Split('\n');
        var row = Array.FindIndex(lines, l => l.StartsWith("add (Add)", StringComparison.Ordinal));
        Assert.That(lines[row], Is.EqualTo("add (Add)".PadRight(32) + "(None, 3)".PadRight(21) + "0".PadRight(12) + "a[0][0]".PadRight(33)));
        Assert.That(lines[row + 1], Is.EqualTo(new string(' ', 65) + "b[0][0]".PadRight(33)));
        Assert.That(model.SummaryText(), Does.Contain("Total params: 4"));
    }
}
