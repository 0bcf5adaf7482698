using KerasStyle.Layers;
using KerasStyle.Models;

namespace KerasStyle.Tests.Models;

/// <summary>Model.TestOnBatch in one process, as Keras' <c>test_on_batch</c>: one batch's loss and metrics in inference mode, no weight changed.</summary>
public class ModelTestOnBatchTests
{
    [SetUp]
    public void Seed()
    {
        Backend.ClearSession();
        Utils.SetRandomSeed(3);
    }

    [Test]
    public void TestOnBatch_GivesEvaluatesValuesForTheBatchAndChangesNothing()
    {
        using var model = Build();
        var x = new float[,] { { 0.1f, 0.5f }, { -0.3f, 0.2f }, { 0.7f, -0.4f }, { 0.0f, 0.9f }, { -0.6f, -0.1f } };
        var y = new float[] { 1, 0, 1, 0, 1 };
        var before = model.GetWeights().SelectMany(w => w.Data).ToArray();

        var tested = model.TestOnBatch(x, y);
        var evaluated = model.Evaluate(x, y, batchSize: 5);

        Assert.That(tested.Keys, Is.EqualTo(new[] { "loss", "accuracy" }));
        Assert.That(tested["loss"], Is.EqualTo(evaluated["loss"]).Within(1e-7));
        Assert.That(tested["accuracy"], Is.EqualTo(evaluated["accuracy"]));
        Assert.That(model.GetWeights().SelectMany(w => w.Data), Is.EqualTo(before));
        Assert.That(model.Optimizer!.Iterations, Is.EqualTo(0));
    }

    [Test]
    public void TestOnBatch_RunsInInferenceMode()
    {
        // Dropout(0.9) would change the loss in training mode; in inference mode it is the identity.
        var input = new Input(new[] { 2 });
        using var model = new Model(input, new Dense(1, activation: "sigmoid").Call(new Dropout(0.9).Call(input)));
        model.Compile("sgd", "binary_crossentropy");
        var x = new float[,] { { 0.1f, 0.5f }, { -0.3f, 0.2f } };
        var y = new float[] { 1, 0 };

        Assert.That(model.TestOnBatch(x, y)["loss"], Is.EqualTo(model.TestOnBatch(x, y)["loss"]));
        Assert.That(model.TestOnBatch(x, y)["loss"], Is.EqualTo(model.Evaluate(x, y)["loss"]).Within(1e-7));
    }

    [Test]
    public void TestOnBatch_BadInputOrUncompiled_Throws()
    {
        using var model = Build();

        Assert.Throws<ArgumentException>(() => model.TestOnBatch(new float[,] { { 0.1f, 0.5f } }, new float[] { 1, 0 }));
        Assert.Throws<ArgumentException>(() => model.TestOnBatch(new float[0, 2], new float[0]));
        var input = new Input(new[] { 2 });
        using var uncompiled = new Model(input, new Dense(1).Call(input));
        Assert.Throws<InvalidOperationException>(() => uncompiled.TestOnBatch(new float[,] { { 0.1f, 0.5f } }, new float[] { 1 }));
    }

    private static Model Build()
    {
        var input = new Input(new[] { 2 });
        var model = new Model(input, new Dense(1, activation: "sigmoid").Call(new Dense(3, activation: "tanh").Call(input)));
        model.Compile("adam", "binary_crossentropy", new[] { "accuracy" });
        return model;
    }
}
