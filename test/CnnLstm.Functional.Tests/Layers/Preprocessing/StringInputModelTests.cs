using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;

namespace KerasStyle.Tests.Layers.Preprocessing;

/// <summary>
/// String inputs in models: <c>Input(dtype: string)</c>, text layers first, <c>Predict</c> on <c>string[]</c> in any
/// batch size, the summary, and numeric layers refusing strings. Expected ids computed by hand (TextVectorization
/// needs TensorFlow in Keras).
/// </summary>
public class StringInputModelTests
{
    private static readonly string[] Vocabulary = { "baz", "bar", "foo" };

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(32)]
    public void Predict_StringArray_TextVectorizationIdsInEveryBatchSize(int batchSize)
    {
        var text = new Input(Array.Empty<int>(), DType.String, name: "text");
        using var model = new Model(text, new TextVectorization(outputSequenceLength: 4, vocabulary: Vocabulary).Call(text));
        var ids = model.Predict<float[,]>(new[] { "foo qux bar", "qux baz", "BAR" }, batchSize);
        Assert.That(ids, Is.EqualTo(new float[,] { { 4, 1, 3, 0 }, { 1, 2, 0, 0 }, { 3, 0, 0, 0 } }));
    }

    [Test]
    public void Predict_TextThenEmbeddingAndDense_EqualsTheNumericPartOnTheIds()
    {
        var text = new Input(new[] { 1 }, DType.String, name: "text");
        var vectorize = new TextVectorization(outputSequenceLength: 4, vocabulary: Vocabulary);
        var ids = vectorize.Call(text);
        var tokens = new Input(new[] { 4 }, DType.Int64, name: "tokens");
        var embedding = new Embedding(5, 3);
        var dense = new Dense(1);
        using var numeric = new Model(tokens, dense.Call(new GlobalAveragePooling1D().Call(embedding.Call(tokens))));
        using var model = new Model(text, numeric.Call(ids));
        var predicted = model.Predict<float[,]>(new[,] { { "foo qux bar" }, { "qux baz" } });
        var expected = numeric.Predict<float[,]>(new long[,] { { 4, 1, 3, 0 }, { 1, 2, 0, 0 } });
        Assert.That(predicted, Is.EqualTo(expected).Within(1e-6));
    }

    [Test]
    public void Predict_NoTexts_EmptyOutputsOfTheOutputShape()
    {
        var text = new Input(Array.Empty<int>(), DType.String);
        using var model = new Model(text, new TextVectorization(outputSequenceLength: 4, vocabulary: Vocabulary).Call(text));
        Assert.That(model.Predict<float[,]>(Array.Empty<string>()).GetLength(1), Is.EqualTo(4));
        var ids = new Input(new[] { 2 }, DType.Int64);
        using var inverted = new Model(ids, new StringLookup(vocabulary: Vocabulary, invert: true).Call(ids));
        Assert.That(inverted.Predict<string[,]>(new long[0, 2]).Length, Is.Zero);
    }

    [Test]
    public void Predict_StringLookupInvertAtTheEnd_ReturnsStrings()
    {
        var ids = new Input(new[] { 2 }, DType.Int64);
        using var model = new Model(ids, new StringLookup(vocabulary: Vocabulary, invert: true).Call(ids));
        var terms = model.Predict<string[,]>(new long[,] { { 1, 3 }, { 0, 2 } });
        Assert.That(terms, Is.EqualTo(new[,] { { "baz", "foo" }, { "[UNK]", "bar" } }));
    }

    [Test]
    public void FitAndEvaluate_OnRawTexts_TrainAsOnTheIdsTheyImply()
    {
        // Two models with the same initial weights: one on raw text (TextVectorization inside), one on the ids it implies.
        var texts = new[] { "foo bar", "qux baz", "bar bar foo", "baz" };
        var ids = new long[,] { { 4, 3, 0 }, { 1, 2, 0 }, { 3, 3, 4 }, { 2, 0, 0 } };
        var y = new float[,] { { 1 }, { 0 }, { 1 }, { 0 } };
        var tokens = new Input(new[] { 3 }, DType.Int64);
        var embedding = new Embedding(5, 2);
        var dense = new Dense(1, activation: "sigmoid");
        using var numeric = new Model(tokens, dense.Call(new GlobalAveragePooling1D().Call(embedding.Call(tokens))));
        var start = numeric.GetWeights();
        var text = new Input(Array.Empty<int>(), DType.String);
        using var model = new Model(text, numeric.Call(new TextVectorization(outputSequenceLength: 3, vocabulary: Vocabulary).Call(text)));
        model.Compile(new KerasStyle.Training.Optimizers.SGD(0.5), "binary_crossentropy");
        model.Fit(texts, y, batchSize: 2, epochs: 2, verbose: 0, shuffle: false);
        var trainedOnText = numeric.GetWeights();
        numeric.SetWeights(start);
        numeric.Compile(new KerasStyle.Training.Optimizers.SGD(0.5), "binary_crossentropy");
        numeric.Fit(ids, y, batchSize: 2, epochs: 2, verbose: 0, shuffle: false);
        var trainedOnIds = numeric.GetWeights();
        for (var i = 0; i < trainedOnIds.Count; i++)
        {
            Assert.That(trainedOnText[i].Data, Is.EqualTo(trainedOnIds[i].Data).Within(1e-6));
        }

        Assert.That(model.Evaluate(texts, y)["loss"], Is.EqualTo(numeric.Evaluate(ids, y)["loss"]).Within(1e-6));
    }

    [Test]
    public void Predict_TextsOfOneRankLessOrMore_AdjustedAsKerasFunctional()
    {
        // Keras' Functional._adjust_input_rank: (batch,) feeds Input(shape=(1,)), (batch, 1) feeds Input(shape=()).
        var column = new Input(new[] { 1 }, DType.String);
        using var byColumn = new Model(column, new TextVectorization(outputSequenceLength: 3, vocabulary: Vocabulary).Call(column));
        var flat = new Input(Array.Empty<int>(), DType.String);
        using var byFlat = new Model(flat, new TextVectorization(outputSequenceLength: 3, vocabulary: Vocabulary).Call(flat));
        var expected = new float[,] { { 4, 1, 3 }, { 2, 0, 0 } };
        Assert.That(byColumn.Predict<float[,]>(new[] { "foo qux bar", "baz" }), Is.EqualTo(expected));
        Assert.That(byFlat.Predict<float[,]>(new[,] { { "foo qux bar" }, { "baz" } }), Is.EqualTo(expected));
        Assert.That(() => byFlat.Predict(new[,] { { "foo", "bar" } }), Throws.ArgumentException.With.Message.Contains("expects shape (None,)"));
    }

    [Test]
    public void Call_DenseOnStrings_RefusedNamingLayerAndStrings()
    {
        var text = new Input(new[] { 1 }, DType.String, name: "text");
        Assert.That(() => new Dense(2, name: "d").Call(text), Throws.InstanceOf<LayerInputException>().With.Message.Contains("Dense 'd'").And.Message.Contains("holds strings"));
    }

    [Test]
    public void Predict_NumbersToAStringInput_RefusedNamingTheInput()
    {
        var text = new Input(Array.Empty<int>(), DType.String, name: "text");
        using var model = new Model(text, new TextVectorization(vocabulary: Vocabulary).Call(text));
        Assert.That(() => model.Predict(new float[] { 1, 2 }), Throws.ArgumentException.With.Message.Contains("'text'").And.Message.Contains("string[]"));
        Assert.That(() => model.PredictTensors(new[] { TorchSharp.torch.zeros(2) }), Throws.ArgumentException.With.Message.Contains("takes strings"));
    }

    [Test]
    public void Predict_StringsToANumberInput_RefusedSayingHowToDeclareText()
    {
        var x = new Input(new[] { 2 }, name: "x");
        using var model = new Model(x, new Dense(1).Call(x));
        Assert.That(() => model.Predict(new[,] { { "a", "b" } }), Throws.ArgumentException.With.Message.Contains("DType.String"));
    }

    [Test]
    public void Summary_StringInput_ShowsTheTextLayersAndShapes()
    {
        var text = new Input(Array.Empty<int>(), DType.String, name: "text");
        var h = new TextVectorization(outputSequenceLength: 4, vocabulary: Vocabulary, name: "tv").Call(text);
        using var model = new Model(text, new Dense(1).Call(new Flatten().Call(new Embedding(5, 2).Call(h))));
        var summary = model.Summary();
        Assert.That(summary, Does.Contain("text (InputLayer)").And.Contain("(None,)").And.Contain("tv (TextVectorization)").And.Contain("(None, 4)"));
    }

    [Test]
    public void Input_StringsWithoutDimensions_AllowedOnlyForStrings()
    {
        Assert.That(new Input(Array.Empty<int>(), DType.String).Shape.ToString(), Is.EqualTo("(None,)"));
        Assert.That(() => new Input(Array.Empty<int>()), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public void Export_StringModel_RefusedSayingHowToSplit()
    {
        var text = new Input(Array.Empty<int>(), DType.String, name: "text");
        var h = new TextVectorization(outputSequenceLength: 4, vocabulary: Vocabulary, name: "tv").Call(text);
        using var model = new Model(text, new Dense(1).Call(new Flatten().Call(new Embedding(5, 2).Call(h))));
        var path = Path.Combine(Path.GetTempPath(), $"strings-{Guid.NewGuid():N}.onnx");
        try
        {
            Assert.That(() => model.Export(path), Throws.InstanceOf<NotSupportedException>().With.Message.Contains("TextVectorization 'tv'").And.Message.Contains("Split the model"));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
