using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Models;

/// <summary>Predict and PredictTensors check their inputs as Fit does (issue 12, items 1 to 3).</summary>
public class ModelPredictInputTests
{
    [SetUp]
    public void FreshNames() => Backend.ClearSession();

    [Test]
    public void Predict_ArrayWithNaN_ThrowsNamingTheInput()
    {
        using var model = Regression();
        var x = new float[2, 1, 3];
        x[1, 0, 2] = float.NaN;
        var error = Assert.Throws<ArgumentException>(() => model.Predict(x));
        Assert.That(error!.Message, Does.Contain("'window'").And.Contain("NaN or infinity"));
    }

    [Test]
    public void Predict_DoubleBeyondFloatRange_ThrowsInsteadOfReturningInfinity()
    {
        using var model = Regression();
        var x = new double[1, 1, 3];
        x[0, 0, 0] = 1e40;
        Assert.That(Assert.Throws<ArgumentException>(() => model.Predict(x))!.Message, Does.Contain("NaN or infinity"));
    }

    [Test]
    public void PredictTensors_NaNTensor_ThrowsNamingTheInput()
    {
        using var model = Regression();
        using var x = full(2, 1, 3, float.NaN);
        Assert.That(Assert.Throws<ArgumentException>(() => model.PredictTensors(new[] { x }))!.Message, Does.Contain("'window'").And.Contain("NaN or infinity"));
    }

    [TestCase(ScalarType.Int64)]
    [TestCase(ScalarType.Float16)]
    [TestCase(ScalarType.Bool)]
    [TestCase(ScalarType.Float64)]
    public void PredictTensors_OtherNumberTypeForAFloatInput_IsCastToFloat32AsKerasDoes(ScalarType dtype)
    {
        using var model = Regression();
        using var ones3 = ones(2, 1, 3);
        using var x = ones3.to_type(dtype);
        var outputs = model.PredictTensors(new[] { x });
        try
        {
            Assert.That(outputs[0].data<float>().ToArray(), Is.EqualTo(((float[,])model.Predict(new float[,,] { { { 1, 1, 1 } }, { { 1, 1, 1 } } })).Cast<float>().ToArray()));
        }
        finally
        {
            outputs.ForEach(t => t.Dispose());
        }
    }

    [Test]
    public void PredictTensors_FloatTensorForTokenIds_ThrowsNamingInputAndDtypes()
    {
        var ids = new Input(new[] { 4 }, DType.Int64);
        using var model = new Model(ids, new Dense(1).Call(new LSTM(2).Call(new Embedding(10, 3).Call(ids))));
        using var x = zeros(2, 4, dtype: ScalarType.Float64);
        var error = Assert.Throws<ArgumentException>(() => model.PredictTensors(new[] { x }));
        Assert.That(error!.Message, Does.Contain(ids.Layer.Name).And.Contain("integer token ids").And.Contain("Float64"));
    }

    [Test]
    public void Predict_NoSamples_ReturnsAnEmptyResultOfTheOutputShape()
    {
        using var model = Regression();
        var y = (float[,])model.Predict(new float[0, 1, 3]);
        Assert.That((y.GetLength(0), y.GetLength(1)), Is.EqualTo((0, 1)));
        var outputs = model.PredictTensors(new[] { empty(0, 1, 3) });
        Assert.That(outputs[0].shape, Is.EqualTo(new long[] { 0, 1 }));
        outputs.ForEach(t => t.Dispose());
    }

    private static Model Regression()
    {
        Utils.SetRandomSeed(4);
        var input = new Input(new[] { 1, 3 }, name: "window");
        return new Model(input, new Dense(1).Call(new LSTM(3).Call(input)));
    }
}
