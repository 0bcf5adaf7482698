using System.CommandLine;
using System.Globalization;
using KerasStyle.Graph;
using KerasStyle.Models;

namespace KerasStyle.Examples.Commands;

/// <summary>
/// <c>predict</c>: scores reviews with a model saved by <c>sentiment</c>. A model that takes token ids (the seed's)
/// gets the reviews encoded with the IMDB word index from the data folder; a model whose input takes strings
/// (<c>sentiment --raw-text</c>) gets the review texts themselves and needs no other file. The model is
/// <c>--model FILE</c> or the first argument when it ends in .keras, .h5 or .onnx (<c>predict model.keras "text"</c>).
/// </summary>
internal static class PredictCommand
{
    public static Command Create()
    {
        var data = ExampleOptions.Data();
        var model = new Option<string>("--model") { Description = "The model saved by the sentiment command (.keras, or a legacy .h5 model file), or its ONNX export (.onnx, run by ONNX Runtime).", DefaultValueFactory = _ => "sentiment.keras" };
        model.Validators.Add(result =>
        {
            var path = result.GetValueOrDefault<string>() ?? string.Empty;
            if (!IsModelFile(path))
            {
                result.AddError($"--model must be a .keras (or legacy .h5) model file or an .onnx export, but '{path}' was given.");
            }
        });
        var reviews = new Argument<string[]>("reviews") { Description = "Review texts; when none are given, one review per line is read from standard input. Without --model, a first argument ending in .keras, .h5 or .onnx is the model file.", Arity = ArgumentArity.ZeroOrMore };
        var command = new Command("predict", "Score reviews with a saved sentiment model: probability of positive and the label.")
        {
            data, model, reviews,
        };
        command.SetAction(result =>
        {
            var modelPath = result.GetValue(model)!;
            var texts = result.GetValue(reviews) ?? Array.Empty<string>();
            if (result.GetResult(model) is null or { Implicit: true } && texts.Length > 0 && IsModelFile(texts[0]))
            {
                modelPath = texts[0];
                texts = texts[1..];
            }

            return DataNotFoundException.Report(() => ModelFileErrors.Report(() => Run(result.GetValue(data), modelPath, texts)));
        });
        return command;
    }

    private static int Run(string? dataOption, string modelPath, string[] reviews)
    {
        if (!File.Exists(modelPath))
        {
            Console.Error.WriteLine($"Model file '{Path.GetFullPath(modelPath)}' does not exist; train one with the sentiment command (--output) or pass --model.");
            return 2;
        }

        if (!string.IsNullOrWhiteSpace(dataOption) && !Directory.Exists(dataOption))
        {
            // A --data folder typed on this command line must exist, whatever the model needs (Resolve names it).
            DataDirectory.Resolve(dataOption);
        }

        var onnx = modelPath.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase);
        using var keras = onnx ? null : Model.Load(modelPath, compile: false);
        var takesText = keras is not null && keras.Inputs.Count == 1 && keras.Inputs[0].DType == DType.String;
        // Only a model that takes token ids needs the word index (an ONNX export always does: string models do not export).
        var folder = takesText ? null : DataDirectory.Resolve(dataOption, SentimentData.WordIndexFile);
        var texts = reviews.Length > 0 ? reviews : ReadLines(Console.In).Where(l => l.Trim().Length > 0).ToArray();
        if (texts.Length == 0)
        {
            Console.Error.WriteLine("No reviews given: pass them as arguments or one per line on standard input.");
            return 2;
        }

        float[,] probabilities;
        if (takesText)
        {
            probabilities = keras!.Predict<float[,]>(texts);
        }
        else
        {
            var tokens = SentimentData.Encode(SentimentData.Encoder(folder!), texts);
            probabilities = onnx ? OnnxSentiment.Predict(modelPath, tokens) : keras!.Predict<float[,]>(tokens);
        }

        for (var i = 0; i < texts.Length; i++)
        {
            var p = probabilities[i, 0];
            var preview = texts[i].Length > 70 ? texts[i][..70] + "..." : texts[i];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{p:F4}\t{(p > 0.5 ? "positive" : "negative")}\t{preview}"));
        }

        return 0;
    }

    private static bool IsModelFile(string path) => new[] { ".keras", ".h5", ".onnx" }.Any(e => path.EndsWith(e, StringComparison.OrdinalIgnoreCase));

    private static IEnumerable<string> ReadLines(TextReader reader)
    {
        while (reader.ReadLine() is { } line)
        {
            yield return line;
        }
    }
}
