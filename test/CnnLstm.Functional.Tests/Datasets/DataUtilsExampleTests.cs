using KerasStyle.Datasets;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Preprocessing;
using KerasStyle.Training.Data;

namespace KerasStyle.Tests.Datasets;

/// <summary>The example of docs/training.md "Data utilities", run as shown there.</summary>
public class DataUtilsExampleTests
{
    [Test]
    public void DocsExample_RunsAndIsShownVerbatim()
    {
        DocExamples.AssertShownVerbatim("training.md", "Datasets/DataUtilsExampleTests.cs");
        var folder = Directory.CreateTempSubdirectory("kerasstyle-reviews-").FullName;
        try
        {
            for (var i = 0; i < 20; i++)
            {
                var label = i % 2 == 0 ? "pos" : "neg";
                Directory.CreateDirectory(Path.Combine(folder, label));
                File.WriteAllText(Path.Combine(folder, label, $"{i}.txt"), i % 2 == 0 ? "a fine good film" : "a bad dull film");
            }

            var (history, validationSize) = Example(folder);

            Assert.That(history, Has.Count.EqualTo(2));
            Assert.That(validationSize, Is.EqualTo(4));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static (IReadOnlyList<double> History, int ValidationSize) Example(string folder)
    {
// doc:begin
        // 10 steps predict the next one (Keras' docstring example 2).
        var series = Enumerable.Range(0, 100).Select(t => MathF.Sin(t * 0.1f)).ToArray();
        var windows = TimeseriesDatasetUtils.TimeseriesDatasetFromArray(series[..^10], series[10..], sequenceLength: 10, batchSize: 16);
        var input = new Input(shape: 10);
        using var regressor = new Model(input, new Dense(1).Call(input));
        regressor.Compile("adam", "mse");
        regressor.Fit(windows, epochs: 2, verbose: 0);

        float[,] oneHot = NumericalUtils.ToCategorical(new[] { 0, 2, 1 }, numClasses: 3);
        var (left, right) = DatasetUtils.SplitDataset(new Array[] { series, series }, leftSize: 0.8, shuffle: true, seed: 1);

        // folder/pos/*.txt and folder/neg/*.txt: labels 1 and 0 (sorted class names).
        var (reviews, validation) = TextDatasetUtils.TextDatasetFromDirectoryBoth(folder, 0.2, seed: 1337, labelMode: "binary", batchSize: 4);
        var tokenizer = new Tokenizer(numWords: 1000);
        tokenizer.FitOnTexts(reviews.Texts());
        DataSource Encode(TextDataset d) => d.ToDataSource(texts => Sequences.PadSequences(tokenizer.TextsToSequences(texts), maxLen: 8));
        var ids = new Input(shape: 8, dtype: KerasStyle.Graph.DType.Int32);
        var embedded = new GlobalAveragePooling1D().Call(new Embedding(1000, 8).Call(ids));
        using var classifier = new Model(ids, new Dense(1, activation: "sigmoid").Call(embedded));
        classifier.Compile("adam", "binary_crossentropy", new[] { "accuracy" });
        var history = classifier.Fit(Encode(reviews), epochs: 2, verbose: 0, validationData: Encode(validation));
// doc:end
        Assert.That(oneHot, Is.EqualTo(new float[,] { { 1, 0, 0 }, { 0, 0, 1 }, { 0, 1, 0 } }));
        Assert.That((left[0].Length, right[0].Length), Is.EqualTo((80, 20)));
        return (history.Values["val_loss"], validation.SampleCount);
    }
}
