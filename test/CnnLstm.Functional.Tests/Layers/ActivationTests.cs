using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Layers;

namespace KerasStyle.Tests.Layers;

public class ActivationTests
{
    private static readonly float[] Inputs = { -3, -1, -0.5f, 0, 0.5f, 1, 3 };

    [SetUp]
    public void FreshNames() => Backend.ClearSession();

    // Expected values from the Keras definitions (selu: scale 1.0507009873554805, alpha 1.6732632423543772;
    // hard_sigmoid: Keras 3's relu6(x + 3) / 6; keras2_hard_sigmoid: Keras 2's clip(0.2x + 0.5, 0, 1)), at x = -3, -1, -0.5, 0, 0.5, 1, 3.
    [TestCase("relu", new[] { 0, 0, 0, 0, 0.5, 1, 3 })]
    [TestCase("sigmoid", new[] { 0.0474258732, 0.268941421, 0.377540669, 0.5, 0.622459331, 0.731058579, 0.952574127 })]
    [TestCase("tanh", new[] { -0.995054754, -0.761594156, -0.462117157, 0, 0.462117157, 0.761594156, 0.995054754 })]
    [TestCase("linear", new[] { -3, -1, -0.5, 0, 0.5, 1, 3 })]
    [TestCase("hard_sigmoid", new[] { 0, 1 / 3.0, 2.5 / 6, 0.5, 3.5 / 6, 4 / 6.0, 1 })]
    [TestCase("keras2_hard_sigmoid", new[] { 0, 0.3, 0.4, 0.5, 0.6, 0.7, 1 })]
    [TestCase("elu", new[] { -0.950212932, -0.632120559, -0.39346934, 0, 0.5, 1, 3 })]
    [TestCase("selu", new[] { -1.67056873, -1.11133074, -0.691758188, 0, 0.525350494, 1.05070099, 3.15210296 })]
    [TestCase("softplus", new[] { 0.0485873516, 0.313261688, 0.474076984, 0.693147181, 0.974076984, 1.31326169, 3.04858735 })]
    [TestCase("softsign", new[] { -0.75, -0.5, -0.333333333, 0, 0.333333333, 0.5, 0.75 })]
    [TestCase("exponential", new[] { 0.0497870684, 0.367879441, 0.60653066, 1, 1.64872127, 2.71828183, 20.0855369 })]
    public void Predict_GivesKerasValues(string name, double[] expected)
    {
        var x = new float[1, Inputs.Length];
        for (var i = 0; i < Inputs.Length; i++)
        {
            x[0, i] = Inputs[i];
        }

        var y = (float[,])TestData.Run(new Activation(name), new[] { Inputs.Length }, x);

        for (var i = 0; i < Inputs.Length; i++)
        {
            Assert.That(y[0, i], Is.EqualTo(expected[i]).Within(2e-6 * Math.Max(1, Math.Abs(expected[i]))), $"{name}({Inputs[i]})");
        }
    }

    [Test]
    public void Predict_Softmax_NormalisesOverTheLastAxis()
    {
        var x = new float[,,] { { { 1, 2, 3 }, { -1, 0, 1000 } }, { { 0.5f, 0.5f, 0.5f }, { 0, 0, 0 } } };

        var y = (float[,,])TestData.Run(new Activation("softmax"), new[] { 2, 3 }, x);

        var expected = new float[,,]
        {
            { { 0.0900305732f, 0.244728471f, 0.665240956f }, { 0, 0, 1 } },
            { { 1 / 3f, 1 / 3f, 1 / 3f }, { 1 / 3f, 1 / 3f, 1 / 3f } },
        };
        Assert.That(y, Is.EqualTo(expected).Within(1e-6f));
    }

    [Test]
    public void Call_KeepsShapeAndHasNoWeights()
    {
        var activation = new Activation("relu");
        var output = activation.Call(new Input(new[] { 4, 6 }));
        Assert.That(output.Shape, Is.EqualTo(new Shape(null, 4, 6)));
        Assert.That(activation.CountParams(), Is.EqualTo(0));
        Assert.That(activation.Function, Is.EqualTo("relu"));
    }

    [Test]
    public void Constructor_WithUnknownName_ThrowsArgumentExceptionListingKnownNames()
    {
        var error = Assert.Throws<ArgumentException>(() => new Activation("swish_ish"))!;
        Assert.That(error.Message, Does.Contain("'swish_ish'"));
        foreach (var known in new[] { "elu", "hard_sigmoid", "linear", "relu", "selu", "sigmoid", "softmax", "softplus", "tanh" })
        {
            Assert.That(error.Message, Does.Contain(known));
        }
    }

    [Test]
    public void Names_CoverTheKerasActivationsUsedHere()
    {
        Assert.That(Activations.Names, Is.SupersetOf(new[] { "elu", "hard_sigmoid", "linear", "relu", "selu", "sigmoid", "softmax", "softplus", "tanh" }));
        Assert.That(Activations.Names, Is.Ordered);
    }

    [Test]
    public void Call_OnIntegerInput_ThrowsLayerInputException()
    {
        var error = Assert.Throws<LayerInputException>(() => new Activation("relu").Call(new Input(new[] { 3 }, DType.Int64)))!;
        Assert.That(error.Message, Does.Contain("int64"));
    }
}
