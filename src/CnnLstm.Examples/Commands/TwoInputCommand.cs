using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;

namespace KerasStyle.Examples.Commands;

/// <summary>
/// <c>two-input</c>: a functional model with two inputs (issue 13): the review's tokens through the seed's CNN-LSTM,
/// and one numeric feature (the review's length in words, log-scaled to [0, 1] on the training set), joined by
/// <c>Concatenate</c> before the sigmoid output. Same data, encoding and training set-up as <c>sentiment</c>.
/// </summary>
internal static class TwoInputCommand
{
    public static Command Create()
    {
        var data = ExampleOptions.Data();
        var epochs = ExampleOptions.Epochs(2);
        var batchSize = ExampleOptions.BatchSize(30);
        var seed = ExampleOptions.Seed(7);
        var limit = ExampleOptions.Limit();
        var verbose = ExampleOptions.Verbose();
        var command = new Command("two-input", "Train a two-input IMDB model (review tokens + review length, merged with Concatenate) and report test accuracy.")
        {
            data, epochs, batchSize, seed, limit, verbose,
        };
        command.SetAction(result => DataNotFoundException.Report(() => Run(
            result.GetValue(data), result.GetValue(epochs), result.GetValue(batchSize), result.GetValue(seed), result.GetValue(limit), result.GetValue(verbose))));
        return command;
    }

    /// <summary>The model: tokens (100 ids) and one feature in, the probability of a positive review out.</summary>
    internal static Model Build()
    {
        var tokens = new Input(shape: SentimentData.MaxLen, dtype: DType.Int32, name: "tokens");
        var length = new Input(shape: 1, name: "length");
        var x = new Embedding(SentimentData.MaxFeatures, 128, name: "embedding").Call(tokens);
        x = new Dropout(0.25).Call(x);
        x = new Conv1D(64, 5, activation: "relu").Call(x);
        x = new MaxPooling1D(poolSize: 4).Call(x);
        x = new LSTM(70).Call(x);
        var joined = new Concatenate(name: "joined").Call(x, length);
        return new Model(new[] { tokens, length }, new Dense(1, activation: "sigmoid", name: "positive").Call(joined), "two_input");
    }

    private static int Run(string? dataOption, int epochs, int batchSize, int seed, int? limit, int verbose)
    {
        var folder = DataDirectory.Resolve(dataOption, SentimentData.TrainFile, SentimentData.TestFile, SentimentData.WordIndexFile);
        var encoder = SentimentData.Encoder(folder);
        var train = SentimentData.Load(folder, SentimentData.TrainFile, seed, limit);
        var test = SentimentData.Load(folder, SentimentData.TestFile, seed + 1, limit);
        var (tokensTrain, tokensTest) = (SentimentData.Encode(encoder, train.Select(r => r.Text)), SentimentData.Encode(encoder, test.Select(r => r.Text)));
        // Review length in words, log-scaled by the longest training review, so both splits share one scale.
        static double Words(string text) => Math.Log(1 + text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length);
        var scale = train.Max(r => Words(r.Text));
        float[,] Lengths(IReadOnlyList<KerasStyle.Datasets.ImdbReview> reviews)
        {
            var values = new float[reviews.Count, 1];
            for (var i = 0; i < reviews.Count; i++)
            {
                values[i, 0] = (float)Math.Min(1.0, Words(reviews[i].Text) / scale);
            }

            return values;
        }

        var (lengthTrain, lengthTest) = (Lengths(train), Lengths(test));
        var yTrain = train.Select(r => (float)r.Label).ToArray();
        var yTest = test.Select(r => (float)r.Label).ToArray();
        Console.WriteLine($"{train.Count} train and {test.Count} test reviews; inputs tokens ({tokensTrain.GetLength(1)} ids) and length (1 value)");

        Backend.ClearSession();
        Utils.SetRandomSeed(seed);
        using var model = Build();
        model.Summary();
        model.Compile(optimizer: "adam", loss: "binary_crossentropy", metrics: new[] { "accuracy" });
        var clock = Stopwatch.StartNew();
        model.Fit(new Array[] { tokensTrain, lengthTrain }, yTrain, batchSize: batchSize, epochs: epochs, verbose: verbose,
            validationData: (new Array[] { tokensTest, lengthTest }, yTest));
        var trainSeconds = clock.Elapsed.TotalSeconds;
        var scores = model.Evaluate(new Array[] { tokensTest, lengthTest }, yTest, batchSize: batchSize);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"result task=two-input test_loss={scores["loss"]:F4} test_accuracy={scores["accuracy"]:F4} train_seconds={trainSeconds:F1} samples_per_second={train.Count * (double)epochs / trainSeconds:F1}"));
        return 0;
    }
}
