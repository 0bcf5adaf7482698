using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using KerasStyle.Models;
using KerasStyle.Saving;

namespace KerasStyle.Examples.Commands;

/// <summary>
/// <c>summary</c>: prints the Keras summaries of both seed models, or with <c>--model FILE</c> what loading a model
/// file gives: its summary, the Keras version that wrote it, the format it was read as, which Keras it computes as,
/// whether (and with what) it was compiled from its training config, and every warning raised while loading.
/// </summary>
internal static class SummaryCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model")
        {
            Description = "A model file to describe instead of the seed models: .keras, legacy .h5/.hdf5 full-model file, or a .json config (model.to_json()).",
        };
        var command = new Command("summary", "Print the Keras summaries of both seed models, or with --model FILE the summary, Keras version, format, compile config and load warnings of a model file.")
        {
            model,
        };
        command.SetAction(result => result.GetValue(model) is { } path ? Describe(path, Console.Out, Console.Error) : SeedModels());
        return command;
    }

    private static int SeedModels()
    {
        Backend.ClearSession();
        using var regression = CnnLstmModels.Regression();
        Console.WriteLine("Regression model (input 1x3):");
        regression.PrintSummary();
        Console.WriteLine();

        Backend.ClearSession();
        using var sentiment = CnnLstmModels.Sentiment();
        Console.WriteLine("Sentiment model (IMDB token ids, Sequential):");
        sentiment.PrintSummary();
        return 0;
    }

    /// <summary>Loads <paramref name="path"/> as a user would (compiled from its training config) and describes it; 2 when it cannot load.</summary>
    private static int Describe(string path, TextWriter output, TextWriter error)
    {
        if (!File.Exists(path))
        {
            error.WriteLine(Directory.Exists(path)
                ? $"'{Path.GetFullPath(path)}' is a directory; --model takes a model file (.keras, .h5, .hdf5 or .json)."
                : $"Model file '{Path.GetFullPath(path)}' does not exist.");
            return 2;
        }

        var warnings = new List<string>();
        void Record(object? sender, string message) => warnings.Add(message);
        var isJson = path.EndsWith(".json", StringComparison.OrdinalIgnoreCase);
        Model loaded;
        Backend.ClearSession();
        Warnings.Raised += Record;
        try
        {
            loaded = isJson ? Model.FromJson(File.ReadAllText(path)) : Model.Load(path);
        }
        catch (Exception e) when (e is KerasFileException or IOException or UnauthorizedAccessException or ArgumentException
            or FormatException or NotSupportedException or InvalidOperationException)
        {
            // The library's messages name the file.
            error.WriteLine(e.Message);
            foreach (var warning in warnings)
            {
                error.WriteLine($"Warning: {warning}");
            }

            return 2;
        }
        finally
        {
            Warnings.Raised -= Record;
        }

        using (loaded)
        {
            output.WriteLine($"File: {path}");
            output.WriteLine($"Format: {Format(path, isJson)}");
            output.WriteLine($"Keras version: {loaded.KerasVersion ?? "unknown (the file records none)"}");
            output.WriteLine(loaded.ComputesAsKeras2
                ? "Computes as: Keras 2 (the Keras that wrote it; where Keras 2 and 3 differ, e.g. hard_sigmoid, Keras 2's definition; docs/saving.md \"Keras version rule\")"
                : "Computes as: Keras 3.16");
            output.WriteLine($"Compiled: {Compiled(loaded, warnings)}");
            if (warnings.Count == 0)
            {
                output.WriteLine("Warnings: none");
            }
            else
            {
                output.WriteLine($"Warnings ({warnings.Count}):");
                foreach (var warning in warnings)
                {
                    output.WriteLine($"  - {warning}");
                }
            }

            output.WriteLine();
            loaded.PrintSummary(output);
        }

        return 0;
    }

    /// <summary>What the file was read as: by its content (as Model.Load decides), not its name.</summary>
    private static string Format(string path, bool isJson)
    {
        if (isJson)
        {
            return "JSON model config (Keras' model.to_json(); no weights, so they are freshly initialised)";
        }

        var head = new byte[8];
        using (var stream = File.OpenRead(path))
        {
            stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        }

        return head[0] == (byte)'P' && head[1] == (byte)'K'
            ? ".keras zip archive (config.json, model.weights.h5)"
            : head.AsSpan().SequenceEqual(new byte[] { 0x89, (byte)'H', (byte)'D', (byte)'F', (byte)'\r', (byte)'\n', 0x1a, (byte)'\n' })
            ? "HDF5 full-model file (legacy .h5: model_config and training_config attributes, model_weights)"
            : "unknown";
    }

    /// <summary>"no ..." or "yes: optimizer ..., loss ..., metrics ..." from the model's own compile_config (ToJson).</summary>
    private static string Compiled(Model model, List<string> warnings)
    {
        if (!model.IsCompiled)
        {
            return warnings.Any(w => w.Contains("loaded uncompiled", StringComparison.Ordinal))
                ? "no: its training config cannot be restored (see the warnings); call Compile before training it"
                : "no: the file records no training config";
        }

        var compile = JsonNode.Parse(model.ToJson())!["compile_config"] as JsonObject;
        if (compile is null)
        {
            return "yes";
        }

        var optimizer = compile["optimizer"];
        var text = $"yes, from its training config: optimizer {Describe(optimizer)}, loss {Name(compile["loss"])}";
        if (compile["metrics"] is JsonArray { Count: > 0 } metrics)
        {
            text += $", metrics [{string.Join(", ", metrics.Select(Name))}]";
        }

        if (compile["weighted_metrics"] is JsonArray { Count: > 0 } weighted)
        {
            text += $", weighted metrics [{string.Join(", ", weighted.Select(Name))}]";
        }

        return text;
    }

    /// <summary>An optimizer as <c>Adam(learning_rate=0.001, beta_1=0.9, ...)</c>: its class and every set argument.</summary>
    private static string Describe(JsonNode? optimizer)
    {
        if (optimizer is not JsonObject obj)
        {
            return Name(optimizer);
        }

        var arguments = (obj["config"] as JsonObject ?? new JsonObject())
            .Where(p => p.Key != "name" && p.Value is not null && !(p.Key == "use_ema" && Json(p.Value) == "false") && !(p.Key == "ema_momentum" && Json(obj["config"]!["use_ema"]) == "false"))
            .Select(p => $"{p.Key}={Json(p.Value)}");
        var className = obj["class_name"] is JsonValue c && c.TryGetValue<string>(out var text) ? text : Name(obj);
        return $"{className}({string.Join(", ", arguments)})";
    }

    /// <summary>A loss or metric given by name, or serialized: its class name (and its name when that differs).</summary>
    private static string Name(JsonNode? node) => node switch
    {
        JsonValue v when v.TryGetValue<string>(out var name) => name,
        JsonObject o when o["class_name"] is JsonValue c && c.TryGetValue<string>(out var className) =>
            o["config"]?["name"] is JsonValue n && n.TryGetValue<string>(out var own) && own != className ? $"{className} ('{own}')" : className,
        null => "none",
        _ => Json(node),
    };

    private static string Json(JsonNode? node) => node?.ToJsonString(new JsonSerializerOptions { WriteIndented = false }) ?? "null";
}
