using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using KerasStyle.Datasets;
using KerasStyle.Distributed;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Preprocessing;

namespace KerasStyle.Examples.Commands;

/// <summary>
/// <c>sentiment</c>: the seed's IMDB CNN-LSTM (Keras' imdb_cnn_lstm example): 20,000 words, length 100, batch 30,
/// 2 epochs with Adam, validated on the test set each epoch.
/// </summary>
internal static class SentimentCommand
{
    public static Command Create()
    {
        var data = ExampleOptions.Data();
        var epochs = ExampleOptions.Epochs(2);
        var batchSize = ExampleOptions.BatchSize(30);
        var seed = ExampleOptions.Seed(7);
        var limit = ExampleOptions.Limit();
        var architecture = new Option<string>("--architecture")
        {
            Description = "seed (default): the seed's CNN-LSTM; bidirectional: the same with Bidirectional(LSTM(70)) in place of the LSTM (issue 14); attention: LSTM(70, returnSequences) then self-attention (Attention with query = value = the LSTM sequence), GlobalAveragePooling1D and Dense(1, sigmoid) (issue 24).",
            DefaultValueFactory = _ => "seed",
        };
        architecture.AcceptOnlyFromAmong("seed", "bidirectional", "attention");
        var output = new Option<string>("--output") { Description = "Where to save the trained model (Keras 3 .keras file).", DefaultValueFactory = _ => "sentiment.keras" };
        var verbose = ExampleOptions.Verbose();
        var stream = new Option<bool>("--stream")
        {
            Description = "Read and encode the reviews batch by batch while training (ImdbStream, a DataSource), with no whole-dataset arrays (issue 16).",
        };
        var distributed = new Option<bool>("--distributed")
        {
            Description = "Train data-parallel over MPI (DataParallel, issue 23): start under a launcher, e.g. 'mpirun -np 2 dotnet CnnLstm.Examples.dll sentiment --distributed'. --batch-size is per rank (with --stream, a batch of the stream is one rank's); rank 0 prints and saves.",
        };
        var rawText = new Option<bool>("--raw-text")
        {
            Description = "The seed's CNN-LSTM with the text preprocessing inside the model (issue 26): a string Input, TextVectorization(maxTokens: 20000, outputSequenceLength: 100) adapted on the training reviews, then the seed's layers; the saved .keras file holds the vocabulary and 'predict model.keras \"review text\"' needs no other file. Only with --architecture seed, without --stream or --distributed.",
        };
        var command = new Command("sentiment", "Train the seed's IMDB sentiment model (Embedding, Conv1D, MaxPooling1D, LSTM) and report test accuracy.")
        {
            data, epochs, batchSize, seed, limit, architecture, output, verbose, stream, distributed, rawText,
        };
        command.Validators.Add(result =>
        {
            if (!result.GetValue(rawText))
            {
                return;
            }

            if (result.GetValue(architecture) is { } a && a != "seed")
            {
                result.AddError($"--raw-text builds the seed's architecture only, but --architecture {a} was given.");
            }
            else if (result.GetValue(stream) || result.GetValue(distributed))
            {
                result.AddError($"--raw-text trains in memory on one process; it cannot be combined with {(result.GetValue(stream) ? "--stream" : "--distributed")}.");
            }
        });
        command.SetAction(result => DataNotFoundException.Report(() =>
        {
            if (result.GetValue(distributed))
            {
                try
                {
                    Distribution.SetDistribution(new DataParallel());
                }
                catch (InvalidOperationException e)
                {
                    Console.Error.WriteLine($"sentiment --distributed: {e.Message}");
                    return 3;
                }
            }

            if (result.GetValue(rawText))
            {
                return RunRawText(result.GetValue(data), result.GetValue(epochs), result.GetValue(batchSize), result.GetValue(seed),
                    result.GetValue(limit), result.GetValue(output)!, result.GetValue(verbose));
            }

            return Run(
                result.GetValue(data), result.GetValue(epochs), result.GetValue(batchSize), result.GetValue(seed),
                result.GetValue(limit), result.GetValue(architecture)!, result.GetValue(output)!, result.GetValue(verbose), result.GetValue(stream));
        }));
        return command;
    }

    /// <summary>Writes a line on rank 0 only (every line when not distributed), so a distributed run prints once.</summary>
    private static void Say(string line)
    {
        if (Distribution.Rank == 0)
        {
            Console.WriteLine(line);
        }
    }

    private static int Run(string? dataOption, int epochs, int batchSize, int seed, int? limit, string architecture, string output, int verbose, bool stream)
    {
        var folder = DataDirectory.Resolve(dataOption, SentimentData.TrainFile, SentimentData.TestFile, SentimentData.WordIndexFile);
        Say("Loading data...");
        var encoder = SentimentData.Encoder(folder);
        if (stream)
        {
            return RunStreaming(folder, encoder, epochs, batchSize, seed, limit, architecture, output, verbose);
        }

        var train = SentimentData.Load(folder, SentimentData.TrainFile, seed, limit);
        var test = SentimentData.Load(folder, SentimentData.TestFile, seed + 1, limit);
        Say($"{train.Count} train sequences");
        Say($"{test.Count} test sequences");
        Say("Pad sequences (samples x time)");
        var xTrain = SentimentData.Encode(encoder, train.Select(r => r.Text));
        var xTest = SentimentData.Encode(encoder, test.Select(r => r.Text));
        var yTrain = train.Select(r => (float)r.Label).ToArray();
        var yTest = test.Select(r => (float)r.Label).ToArray();
        Say($"x_train shape: ({xTrain.GetLength(0)}, {xTrain.GetLength(1)})");
        Say($"x_test shape: ({xTest.GetLength(0)}, {xTest.GetLength(1)})");

        using var model = Build(seed, architecture);
        Say("Train...");
        var clock = Stopwatch.StartNew();
        model.Fit(xTrain, yTrain, batchSize: batchSize, epochs: epochs, verbose: verbose, validationData: (xTest, yTest));
        var trainSeconds = clock.Elapsed.TotalSeconds;
        var scores = model.Evaluate(xTest, yTest, batchSize: batchSize);
        Finish(model, scores, output, architecture, trainSeconds, xTrain.GetLength(0), epochs, streamed: false);
        return 0;
    }

    /// <summary>
    /// <c>--raw-text</c>: the same reviews (the same seeded shuffle and <c>--limit</c>) as raw strings; the model starts
    /// with a string Input and a TextVectorization adapted on the training reviews (Keras' defaults:
    /// lower_and_strip_punctuation, whitespace split; the 19,998 most frequent terms after "" and [UNK]), so the saved
    /// file takes review text. No word index file is read.
    /// </summary>
    private static int RunRawText(string? dataOption, int epochs, int batchSize, int seed, int? limit, string output, int verbose)
    {
        var folder = DataDirectory.Resolve(dataOption, SentimentData.TrainFile, SentimentData.TestFile);
        Say("Loading data...");
        var train = SentimentData.Load(folder, SentimentData.TrainFile, seed, limit);
        var test = SentimentData.Load(folder, SentimentData.TestFile, seed + 1, limit);
        Say($"{train.Count} train texts");
        Say($"{test.Count} test texts");
        var xTrain = train.Select(r => r.Text).ToArray();
        var xTest = test.Select(r => r.Text).ToArray();
        var yTrain = train.Select(r => (float)r.Label).ToArray();
        var yTest = test.Select(r => (float)r.Label).ToArray();

        Say("Build model...");
        Backend.ClearSession();
        Utils.SetRandomSeed(seed);
        var vectorize = new TextVectorization(maxTokens: SentimentData.MaxFeatures, outputSequenceLength: SentimentData.MaxLen, name: "text_vectorization");
        Say("Adapt TextVectorization on the training reviews...");
        var clock = Stopwatch.StartNew();
        vectorize.Adapt(xTrain);
        var adaptSeconds = clock.Elapsed.TotalSeconds;
        Say($"Vocabulary: {vectorize.VocabularySize()} terms");
        using var model = RawText(vectorize);
        model.Summary();
        model.Compile(optimizer: "adam", loss: "binary_crossentropy", metrics: new[] { "accuracy" });

        Say("Train...");
        clock.Restart();
        model.Fit(xTrain, yTrain, batchSize: batchSize, epochs: epochs, verbose: verbose, validationData: (xTest, yTest));
        var trainSeconds = clock.Elapsed.TotalSeconds;
        var scores = model.Evaluate(xTest, yTest, batchSize: batchSize);
        var probe = xTest[..Math.Min(100, xTest.Length)];
        var before = model.Predict<float[,]>(probe, batchSize: batchSize);
        Finish(model, scores, output, "seed", trainSeconds, xTrain.Length, epochs, streamed: false, $" input=raw_text adapt_seconds={adaptSeconds.ToString("F1", CultureInfo.InvariantCulture)}");

        // The saved file alone (vocabulary in its assets) must give the same probabilities from text.
        using var reloaded = Model.Load(output, compile: false);
        var after = reloaded.Predict<float[,]>(probe, batchSize: batchSize);
        var difference = 0.0;
        for (var i = 0; i < probe.Length; i++)
        {
            difference = Math.Max(difference, Math.Abs(before[i, 0] - after[i, 0]));
        }

        Say(string.Create(CultureInfo.InvariantCulture, $"Reloaded {Path.GetFileName(output)}: {probe.Length} test reviews predicted from text, largest difference from the trained model {difference:0.0e+00}"));
        return 0;
    }

    /// <summary>
    /// The seed's model on raw text: Input(shape=(), dtype=string), <paramref name="vectorize"/> (ids, (batch, 100)),
    /// then the seed's Embedding(20000, 128), Dropout(0.25), Conv1D(64, 5, relu), MaxPooling1D(4), LSTM(70), Dense(1),
    /// Activation(sigmoid): the seed's 2,638,895 weights plus the vocabulary.
    /// </summary>
    internal static Model RawText(TextVectorization vectorize)
    {
        var model = new Sequential(name: "sentiment_raw_text");
        model.Add(new Input(Array.Empty<int>(), DType.String, name: "review"));
        model.Add(vectorize);
        model.Add(new Embedding(SentimentData.MaxFeatures, 128));
        model.Add(new Dropout(0.25));
        model.Add(new Conv1D(64, 5, padding: "valid", activation: "relu", strides: 1));
        model.Add(new MaxPooling1D(poolSize: 4));
        model.Add(new LSTM(70));
        model.Add(new Dense(1));
        model.Add(new Activation("sigmoid"));
        return model;
    }

    /// <summary>The same training from <see cref="ImdbStream"/>s: reviews read and encoded batch by batch on a worker thread.</summary>
    private static int RunStreaming(string folder, ImdbEncoder encoder, int epochs, int batchSize, int seed, int? limit, string architecture, string output, int verbose)
    {
        using var train = new ImdbStream(Path.Combine(folder, SentimentData.TrainFile), encoder, batchSize, SentimentData.MaxLen, seed, limit);
        using var test = new ImdbStream(Path.Combine(folder, SentimentData.TestFile), encoder, batchSize, SentimentData.MaxLen, seed + 1, limit);
        Say($"{train.Reviews} train sequences (streamed, {train.Count} batches)");
        Say($"{test.Reviews} test sequences (streamed, {test.Count} batches)");
        using var model = Build(seed, architecture);
        Say("Train...");
        var clock = Stopwatch.StartNew();
        model.Fit(train, epochs: epochs, verbose: verbose, validationData: test);
        var trainSeconds = clock.Elapsed.TotalSeconds;
        var scores = model.Evaluate(test);
        Finish(model, scores, output, architecture, trainSeconds, train.Reviews, epochs, streamed: true);
        return 0;
    }

    private static Model Build(int seed, string architecture)
    {
        Say("Build model...");
        Backend.ClearSession();
        Utils.SetRandomSeed(seed);
        var model = architecture switch
        {
            "seed" => CnnLstmModels.Sentiment(),
            "bidirectional" => Bidirectional(),
            "attention" => SelfAttention(),
            _ => throw new ArgumentException($"Unknown sentiment architecture '{architecture}': expected seed, bidirectional or attention.", nameof(architecture)),
        };
        if (architecture != "seed" && Distribution.Rank == 0)
        {
            model.Summary();
        }

        model.Compile(optimizer: "adam", loss: "binary_crossentropy", metrics: new[] { "accuracy" });
        return model;
    }

    private static void Finish(Model model, IReadOnlyDictionary<string, double> scores, string output, string architecture, double trainSeconds, int samples, int epochs, bool streamed, string extra = "")
    {
        Say($"Test score: {scores["loss"].ToString("F4", CultureInfo.InvariantCulture)}");
        Say($"Test accuracy: {scores["accuracy"].ToString("F4", CultureInfo.InvariantCulture)}");
        // Under --distributed every rank calls Save: rank 0 writes the file and the others wait for it.
        model.Save(output);
        Say($"Saved: {Path.GetFullPath(output)}");

        var samplesPerSecond = samples * (double)epochs / trainSeconds;
        var peak = Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024.0);
        Say(string.Create(CultureInfo.InvariantCulture,
            $"result task=sentiment architecture={architecture}{extra} test_loss={scores["loss"]:F4} test_accuracy={scores["accuracy"]:F4} train_seconds={trainSeconds:F1} seconds_per_epoch={trainSeconds / epochs:F1} samples_per_second={samplesPerSecond:F1} data={(streamed ? "stream" : "memory")} peak_working_set_mb={peak:F0}{(Distribution.Current is { } parallel ? $" ranks={parallel.Size}" : string.Empty)}"));
    }

    /// <summary>The seed's model with a Bidirectional(LSTM(70)) (concatenated: 140 values) in place of its LSTM.</summary>
    internal static Model Bidirectional()
    {
        var model = new Sequential(name: "sentiment_bidirectional");
        model.Add(new Embedding(SentimentData.MaxFeatures, 128, inputLength: SentimentData.MaxLen));
        model.Add(new Dropout(0.25));
        model.Add(new Conv1D(64, 5, padding: "valid", activation: "relu", strides: 1));
        model.Add(new MaxPooling1D(poolSize: 4));
        model.Add(new KerasStyle.Layers.Bidirectional(new LSTM(70)));
        model.Add(new Dense(1));
        model.Add(new Activation("sigmoid"));
        return model;
    }

    /// <summary>
    /// The seed's model up to its pooling, then LSTM(70, returnSequences) (batch, 24, 70), self-attention over that
    /// sequence (Keras' Attention with query = value = the LSTM output, dot scores), the mean over time
    /// (GlobalAveragePooling1D, (batch, 70)) and Dense(1, sigmoid).
    /// </summary>
    internal static Model SelfAttention()
    {
        var tokens = new Input(shape: SentimentData.MaxLen, dtype: DType.Int32, name: "tokens");
        var x = new Embedding(SentimentData.MaxFeatures, 128).Call(tokens);
        x = new Dropout(0.25).Call(x);
        x = new Conv1D(64, 5, padding: "valid", activation: "relu", strides: 1).Call(x);
        x = new MaxPooling1D(poolSize: 4).Call(x);
        var sequence = new LSTM(70, returnSequences: true).Call(x);
        var attended = new Attention(name: "self_attention").Call(sequence, sequence);
        var pooled = new GlobalAveragePooling1D().Call(attended);
        return new Model(tokens, new Dense(1, activation: "sigmoid").Call(pooled), "sentiment_attention");
    }
}
