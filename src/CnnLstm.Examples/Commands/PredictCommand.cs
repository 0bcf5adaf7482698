using System.CommandLine;
using System.Globalization;
using KerasStyle.Models;

namespace KerasStyle.Examples.Commands;

/// <summary><c>predict</c>: scores reviews with a model saved by <c>sentiment</c>.</summary>
internal static class PredictCommand
{
    public static Command Create()
    {
        var data = ExampleOptions.Data();
        var model = new Option<string>("--model") { Description = "The model saved by the sentiment command (.keras, or a legacy .h5 model file), or its ONNX export (.onnx, run by ONNX Runtime).", DefaultValueFactory = _ => "sentiment.keras" };
        model.Validators.Add(result =>
        {
            var path = result.GetValueOrDefault<string>() ?? string.Empty;
            if (!new[] { ".keras", ".h5", ".onnx" }.Any(e => path.EndsWith(e, StringComparison.OrdinalIgnoreCase)))
            {
                result.AddError($"--model must be a .keras (or legacy .h5) model file or an .onnx export, but '{path}' was given.");
            }
        });
        var reviews = new Argument<string[]>("reviews") { Description = "Review texts; when none are given, one review per line is read from standard input.", Arity = ArgumentArity.ZeroOrMore };
        var command = new Command("predict", "Score reviews with a saved sentiment model: probability of positive and the label.")
        {
            data, model, reviews,
        };
        command.SetAction(result => DataNotFoundException.Report(() => ModelFileErrors.Report(() => Run(result.GetValue(data), result.GetValue(model)!, result.GetValue(reviews) ?? Array.Empty<string>()))));
        return command;
    }

    private static int Run(string? dataOption, string modelPath, string[] reviews)
    {
        if (!File.Exists(modelPath))
        {
            Console.Error.WriteLine($"Model file '{Path.GetFullPath(modelPath)}' does not exist; train one with the sentiment command (--output) or pass --model.");
            return 2;
        }

        var folder = DataDirectory.Resolve(dataOption, SentimentData.WordIndexFile);
        var texts = reviews.Length > 0 ? reviews : ReadLines(Console.In).Where(l => l.Trim().Length > 0).ToArray();
        if (texts.Length == 0)
        {
            Console.Error.WriteLine("No reviews given: pass them as arguments or one per line on standard input.");
            return 2;
        }

        var tokens = SentimentData.Encode(SentimentData.Encoder(folder), texts);
        var probabilities = modelPath.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase) ? OnnxSentiment.Predict(modelPath, tokens) : PredictKeras(modelPath, tokens);

        for (var i = 0; i < texts.Length; i++)
        {
            var p = probabilities[i, 0];
            var preview = texts[i].Length > 70 ? texts[i][..70] + "..." : texts[i];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{p:F4}\t{(p > 0.5 ? "positive" : "negative")}\t{preview}"));
        }

        return 0;
    }

    private static float[,] PredictKeras(string modelPath, int[,] tokens)
    {
        using var sentiment = Model.Load(modelPath, compile: false);
        return sentiment.Predict<float[,]>(tokens);
    }

    private static IEnumerable<string> ReadLines(TextReader reader)
    {
        while (reader.ReadLine() is { } line)
        {
            yield return line;
        }
    }
}
