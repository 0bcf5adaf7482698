using KerasStyle.Datasets;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;

namespace KerasStyle.Tests.Datasets;

/// <summary>The raw-text example of docs/training.md (TextDataset.ToDataSource() into a model with a string input), run as shown there.</summary>
public class RawTextDatasetExampleTests
{
    [Test]
    public void DocsExample_RunsAndIsShownVerbatim_TheReloadedFileTakesText()
    {
        DocExamples.AssertShownVerbatim("training.md", "Datasets/RawTextDatasetExampleTests.cs");
        var folder = Directory.CreateTempSubdirectory("kerasstyle-raw-reviews-").FullName;
        var saved = Path.Combine(folder, "text.keras");
        try
        {
            for (var i = 0; i < 20; i++)
            {
                var label = i % 2 == 0 ? "pos" : "neg";
                Directory.CreateDirectory(Path.Combine(folder, label));
                File.WriteAllText(Path.Combine(folder, label, $"{i}.txt"), i % 2 == 0 ? "A fine, good film!" : "A bad, dull film.");
            }

            var (history, expected) = Example(folder, saved);

            Assert.That(history, Has.Count.EqualTo(2));
            Backend.ClearSession();
            using var loaded = Model.Load(saved, compile: false);
            Assert.That(loaded.Predict<float[,]>(new[] { "a fine good film", "a bad dull film" }), Is.EqualTo(expected).Within(1e-6));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static (IReadOnlyList<double> History, float[,] Predicted) Example(string folder, string path)
    {
// doc:begin
        // folder/pos/*.txt and folder/neg/*.txt: labels 1 and 0. The batches are the texts themselves.
        var (train, validation) = TextDatasetUtils.TextDatasetFromDirectoryBoth(folder, 0.2, seed: 1337, labelMode: "binary", batchSize: 4);
        var vectorize = new TextVectorization(maxTokens: 20000, outputSequenceLength: 100);
        vectorize.Adapt(train.TextBatches());
        var text = new Input(Array.Empty<int>(), DType.String);     // or new Input(new[] { 1 }, DType.String)
        var pooled = new GlobalAveragePooling1D().Call(new Embedding(20000, 16).Call(vectorize.Call(text)));
        using var model = new Model(text, new Dense(1, activation: "sigmoid").Call(pooled));
        model.Compile("adam", "binary_crossentropy", new[] { "accuracy" });
        var history = model.Fit(train.ToDataSource(), epochs: 2, verbose: 0, validationData: validation.ToDataSource());
        model.Save(path);                                             // the vocabulary goes in the file's assets
        var predicted = model.Predict<float[,]>(new[] { "a fine good film", "a bad dull film" });
// doc:end
        // Learned from the 16 training texts: "film" and "a" in each (ties go to the larger term), then the class words.
        Assert.That(vectorize.GetVocabulary().Take(4), Is.EqualTo(new[] { string.Empty, "[UNK]", "film", "a" }));
        Assert.That(vectorize.GetVocabulary().Skip(4), Is.EquivalentTo(new[] { "good", "fine", "dull", "bad" }));
        return (history.Values["val_loss"], predicted);
    }
}
