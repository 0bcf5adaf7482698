using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;

namespace KerasStyle.Tests.Models;

/// <summary>The everyday API as a Keras user types it (issue 13, item 5).</summary>
[NonParallelizable]
public class ModelApiTests
{
    [Test]
    public void Input_TupleAndScalarShapes_AreKerasShapes()
    {
        Assert.That(new Input(shape: (1, 3)).Shape.ToString(), Is.EqualTo("(None, 1, 3)"));
        Assert.That(new Input(shape: (2, 4, 3)).Shape.ToString(), Is.EqualTo("(None, 2, 4, 3)"));
        var ids = new Input(shape: 100, dtype: DType.Int32);
        Assert.That((ids.Shape.ToString(), ids.DType), Is.EqualTo(("(None, 100)", DType.Int32)));
    }

    [Test]
    public void PredictT_ReturnsTheTypedOutput()
    {
        var inputs = new Input(shape: (1, 3));
        using var model = new Model(inputs, new Dense(2).Call(new LSTM(4).Call(inputs)));
        float[,] y = model.Predict<float[,]>(new float[5, 1, 3]);
        Assert.That((y.GetLength(0), y.GetLength(1)), Is.EqualTo((5, 2)));
        Assert.That(y, Is.EqualTo((float[,])model.Predict(new float[5, 1, 3])));
    }

    [Test]
    public void PredictT_WithTheWrongRank_ThrowsNamingTheTypeToAskFor()
    {
        var inputs = new Input(shape: 3);
        using var model = new Model(inputs, new Dense(2).Call(inputs));
        var e = Assert.Throws<InvalidCastException>(() => model.Predict<float[,,]>(new float[1, 3]))!;
        Assert.That(e.Message, Does.Contain("(None, 2)").And.Contain("Predict<float[,]>"));
    }

    [Test]
    public void PredictT_SeveralInputs_ReturnsTheTypedOutput()
    {
        var a = new Input(shape: 3, name: "a");
        var b = new Input(shape: 3, name: "b");
        using var model = new Model(new KerasTensor[] { a, b }, new Add().Call(a, b));
        var y = model.Predict<float[,]>(new Array[] { new float[,] { { 1, 2, 3 } }, new float[,] { { 10, 20, 30 } } });
        Assert.That(y, Is.EqualTo(new float[,] { { 11, 22, 33 } }));
    }

    [Test]
    public void Summary_AsAStatement_PrintsTheTable()
    {
        var inputs = new Input(shape: 3);
        using var model = new Model(inputs, new Dense(1, name: "out").Call(inputs));
        var original = Console.Out;
        using var captured = new StringWriter();
        Console.SetOut(captured);
        try
        {
            model.Summary();
        }
        finally
        {
            Console.SetOut(original);
        }

        Assert.That(captured.ToString(), Is.EqualTo(model.SummaryText()));
        Assert.That(captured.ToString(), Does.Contain("out (Dense)"));
    }
}
