namespace KerasStyle.Tests.Training.Losses;

public class SparseCategoricalCrossentropyTests
{
    private static readonly float[,] Logits = { { 1f, 2f, 0.5f }, { -1f, 0f, 3f }, { 0.2f, 0.1f, 0.3f } };

    [SetUp]
    public void Reset() => Backend.ClearSession();

    [Test]
    public void ClassIds_EqualCategoricalOnOneHot()
    {
        var oneHot = new float[,] { { 0, 1, 0 }, { 1, 0, 0 }, { 0, 0, 1 } };
        var categorical = LossTesting.Evaluate("categorical_crossentropy", Logits, oneHot, activation: "softmax");
        var sparse = LossTesting.Evaluate("sparse_categorical_crossentropy", Logits, new[] { 1, 0, 2 }, activation: "softmax");
        Assert.That(sparse, Is.EqualTo(categorical).Within(1e-6));
        var expected = -(CategoricalCrossentropyTests.LogSoftmax(Logits, 0, 1) + CategoricalCrossentropyTests.LogSoftmax(Logits, 1, 0) + CategoricalCrossentropyTests.LogSoftmax(Logits, 2, 2)) / 3;
        Assert.That(sparse, Is.EqualTo(expected).Within(1e-5));
    }

    [Test]
    public void ClassIds_AsColumnOrAsLongs_GiveTheSameLoss()
    {
        var flat = LossTesting.Evaluate("sparse_categorical_crossentropy", Logits, new[] { 1, 0, 2 }, activation: "softmax");
        var column = LossTesting.Evaluate("sparse_categorical_crossentropy", Logits, new long[,] { { 1 }, { 0 }, { 2 } }, activation: "softmax");
        Assert.That(column, Is.EqualTo(flat).Within(1e-7));
    }

    [Test]
    public void Probabilities_AreNormalisedThenClipped()
    {
        var x = new float[,] { { 2f, 0f, 2f } };
        Assert.That(LossTesting.Evaluate("sparse_categorical_crossentropy", x, new[] { 1 }), Is.EqualTo(-Math.Log(LossTesting.Low)).Within(1e-4));
    }

    [Test]
    public void ClassIdOutOfRange_FailsBeforeTraining()
    {
        using var model = TinyModels.Linear(TinyModels.Identity(3), "softmax");
        model.Compile("sgd", "sparse_categorical_crossentropy");
        var before = TinyModels.Flat(model);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => model.Fit(Logits, new[] { 1, 3, 0 }, verbose: 0));
        Assert.That(e!.ParamName, Is.EqualTo("y"));
        Assert.That(e.Message, Does.Contain("[0, 3)").And.Contain("[0, 3]"));
        Assert.That(TinyModels.Flat(model), Is.EqualTo(before));
    }

    [Test]
    public void Name_IsKerasName()
    {
        Assert.That(new KerasStyle.Training.Losses.SparseCategoricalCrossentropy().Name, Is.EqualTo("sparse_categorical_crossentropy"));
    }
}
