using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Training;
using KerasStyle.Training.Callbacks;

namespace KerasStyle.Tests;

/// <summary>
/// <see cref="Backend.ConsoleStyle"/>: Keras 3.16's console forms beside the seed's Keras 2 forms, chosen in one
/// place; the summaries are Keras 3.16's own output (tools/keras-fixtures/keras3_summaries.py).
/// </summary>
[NonParallelizable]
public class BackendConsoleStyleTests
{
    [SetUp]
    public void Keras3()
    {
        Backend.ConsoleStyle = ConsoleStyle.Keras3;
        Backend.ClearSession();
    }

    [TearDown]
    public void BackToKeras2()
    {
        Backend.ConsoleStyle = ConsoleStyle.Keras2;
        Backend.ClearSession();
    }

    [Test]
    public void Keras3Summaries_OfTheSeedModelsAndAMergeModel_AreKeras316sTextByteForByte()
    {
        // The same models in the same order as the script, so the default names agree too.
        var inp = new Input(shape: (1, 3));
        var h = new Dropout(0.25).Call(inp);
        h = new Conv1D(10, 1, activation: "relu").Call(h);
        h = new MaxPooling1D(1).Call(h);
        h = new LSTM(70).Call(h);
        using var regression = new Model(inp, new Dense(1).Call(h));

        using var sentiment = new Sequential(new Layer[]
        {
            new InputLayer(new[] { 100 }, DType.Int64), new Embedding(20000, 128), new Dropout(0.25), new Conv1D(64, 5, activation: "relu"),
            new MaxPooling1D(4), new LSTM(70), new Dense(1), new Activation("sigmoid"),
        });

        var a = new Input(3);
        var b = new Input(4);
        var c = new Concatenate().Call(new Dense(2).Call(a), new Dense(2).Call(b));
        using var merge = new Model(new[] { a, b }, new Dense(1).Call(c));

        var expected = File.ReadAllText(Path.Combine(TestContext.CurrentContext.TestDirectory, "Models", "KerasFixtures", "keras3-summaries.txt"));
        Assert.That(regression.SummaryText() + sentiment.SummaryText() + merge.SummaryText(), Is.EqualTo(expected));
    }

    [Test]
    public void Keras3Names_HaveNoSuffixFirstAndCountFromOne()
    {
        var input = new Input(3);
        var first = new Dense(2);
        var second = new Dense(2);
        using var model = new Model(input, second.Call(first.Call(input)));
        Assert.That(new[] { input.Layer.Name, first.Name, second.Name, model.Name }, Is.EqualTo(new[] { "input_layer", "dense", "dense_1", "functional" }));

        Backend.ConsoleStyle = ConsoleStyle.Keras2;
        Backend.ClearSession();
        Assert.That(new Dense(2).Name, Is.EqualTo("dense_1"), "the default stays Keras 2's");
    }

    [Test]
    public void Keras3ProgressLines_AreKeras316sForms()
    {
        var values = new Dictionary<string, double> { ["loss"] = 1.5116, ["learning_rate"] = 0.001f };
        // Keras 3.16's verbose 2 line for the same values (2 steps, 52 ms a step).
        Assert.That(ProgressBar.FormatKeras3(2, 2, 0.1, 0.052, values, withBar: false, finalize: true),
            Is.EqualTo("2/2 - 0s - 52ms/step - loss: 1.5116 - learning_rate: 0.0010"));
        var bar = new string('━', 20);
        Assert.That(ProgressBar.FormatKeras3(2, 2, 2.2, 2.0, values, finalize: true),
            Is.EqualTo($"\u001b[1m2/2\u001b[0m \u001b[32m{bar}\u001b[0m\u001b[37m\u001b[0m \u001b[1m2s\u001b[0m 2s/step - loss: 1.5116 - learning_rate: 0.0010"));
        Assert.That(ProgressBar.FormatKeras3(1, 2, 0.17, 0.17, new Dictionary<string, double> { ["loss"] = 1.3103 }),
            Is.EqualTo($"\u001b[1m1/2\u001b[0m \u001b[32m{bar[..10]}\u001b[0m\u001b[37m{bar[..10]}\u001b[0m \u001b[1m0s\u001b[0m 170ms/step - loss: 1.3103"));
    }

    [Test]
    public void Keras3Fit_ShowsTheLearningRateACallbackLogged_AndNoEpochLineForOneEpoch()
    {
        var input = new Input(3);
        using var model = new Model(input, new Dense(1).Call(input));
        model.Compile("adam", "mse");
        using var output = new StringWriter();
        var x = new float[8, 3];
        var y = new float[8, 1];
        ICallback[] callbacks = { new ReduceLROnPlateau(monitor: "loss"), new ProgbarLogger(2, output) };
        var history = model.Fit(x, y, batchSize: 4, epochs: 1, verbose: 0, callbacks: callbacks);

        Assert.That(output.ToString(), Does.Match(@"^2/2 - \d+s - \d+(ms|us|s)/step - loss: \S+ - learning_rate: 0\.0010\n$"));
        Assert.That(history["learning_rate"], Is.EqualTo(new[] { 0.001 }), "the logs keep the rate as it is");
    }

    [Test]
    public void Keras2Fit_StillKeepsTheLearningRateOffTheLine()
    {
        Backend.ConsoleStyle = ConsoleStyle.Keras2;
        var input = new Input(3);
        using var model = new Model(input, new Dense(1).Call(input));
        model.Compile("adam", "mse");
        using var output = new StringWriter();
        model.Fit(new float[8, 3], new float[8, 1], batchSize: 4, epochs: 1, verbose: 0, callbacks: new ICallback[] { new ReduceLROnPlateau(monitor: "loss"), new ProgbarLogger(2, output) });
        Assert.That(output.ToString(), Does.StartWith("Epoch 1/1\n").And.Not.Contain("learning_rate"));
    }

    [Test]
    public void ConsoleStyle_RefusesAnUndefinedValue()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Backend.ConsoleStyle = (ConsoleStyle)7);
        Assert.That(Backend.ConsoleStyle, Is.EqualTo(ConsoleStyle.Keras3));
    }
}
