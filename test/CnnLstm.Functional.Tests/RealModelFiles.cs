using System.Text.RegularExpressions;
using KerasStyle.Models;
using KerasStyle.Saving;

namespace KerasStyle.Tests;

/// <summary>
/// The published model files of ../shared/real-models, each tried as a user tries it (<c>Model.Load</c>, then
/// <c>Predict</c> on <c>NAME.x.npy</c> against real Keras' <c>NAME.y.npy</c>), and what the outcome says: predicted
/// as Keras, refused clearly, or failed. Shared by <c>Saving/RealModelFilesTests</c> and tools/real-models, so that
/// the test CI runs and the tool a developer runs judge the files the same way.
/// </summary>
internal static class RealModelFiles
{
    /// <summary>The tolerance of ../shared/real-models/README.md, relative to max(1, |y|).</summary>
    public const double Tolerance = 1e-4;

    /// <summary>
    /// Layers Keras has and this library does not have yet, with the issue that brings them: a file that needs one
    /// must be refused with an error naming the layer, which counts as a clear refusal until that issue lands. Empty
    /// while every layer the files need is here.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, int> LayersOfLaterIssues = new Dictionary<string, int>
    {
    };

    /// <summary>What happened to one file.</summary>
    public enum Outcome
    {
        /// <summary>Loaded, and every output within <see cref="Tolerance"/> of real Keras'.</summary>
        Predicted,

        /// <summary>Refused with a <see cref="KerasFileException"/> naming the file and the expected cause.</summary>
        Refused,

        /// <summary>Anything else: wrong numbers, an error where Keras predicts, or an unclear error.</summary>
        Failed,
    }

    /// <summary>One file's result: its path relative to the folder, the outcome, and a one-line detail.</summary>
    public sealed record Result(string Name, Outcome Outcome, string Detail);

    /// <summary>Every .h5 and .keras file under <paramref name="root"/>, in ordinal order, each tried once.</summary>
    public static IEnumerable<Result> TryAll(string root)
    {
        var refusals = ExpectedRefusals(root);
        foreach (var file in Directory.GetFiles(root, "*", SearchOption.AllDirectories)
                     .Where(f => f.EndsWith(".h5", StringComparison.Ordinal) || f.EndsWith(".keras", StringComparison.Ordinal))
                     .Order(StringComparer.Ordinal))
        {
            yield return Try(root, file, refusals.GetValueOrDefault(Path.GetFileName(file)));
        }
    }

    /// <summary>The line CI prints: <c>real-models: N loaded and predicted, M refused clearly, K failed</c>.</summary>
    public static string SummaryLine(IReadOnlyCollection<Result> results) =>
        $"real-models: {results.Count(r => r.Outcome == Outcome.Predicted)} loaded and predicted, " +
        $"{results.Count(r => r.Outcome == Outcome.Refused)} refused clearly, {results.Count(r => r.Outcome == Outcome.Failed)} failed";

    private sealed record Refusal(bool MayLoad, string[] Needles);

    // REFUSE.txt in a set: file, kind (error: must be refused; loadorerror: may load), needles separated by '|'.
    private static Dictionary<string, Refusal> ExpectedRefusals(string root)
    {
        var refusals = new Dictionary<string, Refusal>(StringComparer.Ordinal);
        foreach (var list in Directory.GetFiles(root, "REFUSE.txt", SearchOption.AllDirectories))
        {
            foreach (var line in File.ReadLines(list).Where(l => l.Length > 0 && l[0] != '#'))
            {
                var parts = line.Split('\t');
                refusals[parts[0]] = new Refusal(parts[1] == "loadorerror", parts[2].Split('|'));
            }
        }

        return refusals;
    }

    private static Result Try(string root, string file, Refusal? refusal)
    {
        var name = Path.GetRelativePath(root, file);
        var hasPrediction = File.Exists(file + ".y.npy");
        Model model;
        try
        {
            model = Model.Load(file);
        }
        catch (Exception e)
        {
            return Judge(name, file, e, refusal, hasPrediction);
        }

        using (model)
        {
            if (refusal is { MayLoad: false })
            {
                return new Result(name, Outcome.Failed, $"loaded, but REFUSE.txt expects an error naming {string.Join(" or ", refusal.Needles)}");
            }

            if (!hasPrediction)
            {
                return new Result(name, Outcome.Failed, "loaded, but there is no .y.npy to compare with");
            }

            try
            {
                var worst = WorstDifference(model, file);
                return worst <= Tolerance
                    ? new Result(name, Outcome.Predicted, $"{worst:E2}")
                    : new Result(name, Outcome.Failed, $"WRONG: {worst:E2} from Keras' prediction");
            }
            catch (Exception e)
            {
                return new Result(name, Outcome.Failed, $"Predict threw {Describe(e)}");
            }
        }
    }

    // A refusal is clear when it is the library's typed file error, names the file, and names the cause expected:
    // REFUSE.txt's needle, or a layer a later issue brings. Files without a prediction and not listed are not models
    // (a placeholder, a custom layer without a REFUSE line): any clear error naming the file will do.
    private static Result Judge(string name, string file, Exception e, Refusal? refusal, bool hasPrediction)
    {
        var clear = e is KerasFileException && e.Message.Contains(file, StringComparison.Ordinal);
        var needles = refusal?.Needles
            ?? (hasPrediction ? LayersOfLaterIssues.Keys.Select(l => $"'{l}'").ToArray() : null);
        var named = needles is null || needles.Any(n => e.Message.Contains(n, StringComparison.Ordinal));
        return clear && named
            ? new Result(name, Outcome.Refused, Describe(e))
            : new Result(name, Outcome.Failed, $"{Describe(e)}{(needles is null ? "" : $" (expected a KerasFileException naming the file and {string.Join(" or ", needles)})")}");
    }

    private static double WorstDifference(Model model, string file)
    {
        var inputs = new List<Array> { NpyFile.Read(file + ".x.npy") };
        for (var i = 1; File.Exists($"{file}.x{i}.npy"); i++)
        {
            inputs.Add(NpyFile.Read($"{file}.x{i}.npy"));
        }

        var outputs = model.Predict(inputs.ToArray());
        double worst = 0;
        for (var o = 0; o < outputs.Count; o++)
        {
            var expected = Flat(NpyFile.Read(o == 0 ? file + ".y.npy" : $"{file}.y{o}.npy"));
            var actual = Flat(outputs[o]);
            if (expected.Length != actual.Length)
            {
                throw new InvalidOperationException($"output {o} has {actual.Length} values, Keras' {expected.Length}");
            }

            for (var k = 0; k < expected.Length; k++)
            {
                worst = Math.Max(worst, Math.Abs(expected[k] - actual[k]) / Math.Max(1, Math.Abs(expected[k])));
            }
        }

        return worst;
    }

    private static string Describe(Exception e)
    {
        var message = Regex.Replace(e.Message, @"\s+", " ");
        return $"{e.GetType().Name}: {message[..Math.Min(240, message.Length)]}";
    }

    private static double[] Flat(Array a) => a.Cast<object>().Select(Convert.ToDouble).ToArray();
}
