using KerasStyle;
using KerasStyle.Tests;

// For each model file in ../shared/real-models/set*: Model.Load, Predict on NAME.x.npy (NAME.x1.npy, ... for more
// inputs) and the largest difference from NAME.y.npy (real Keras 3.16's prediction, or Keras 2's maths for
// Keras 2 files using hard_sigmoid), relative to max(1, |y|); files without a prediction must be refused clearly
// (set2/REFUSE.txt names the cause). Judged as Saving/RealModelFilesTests judges them (the tests' RealModelFiles).
// Prints one line per file and the summary line; exits 1 when a file failed.
// Usage: dotnet run --project tools/real-models -c Release [-- FOLDER]
var root = args.Length > 0 ? args[0] : Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "..", "shared", "real-models");
root = Path.GetFullPath(root);
if (!Directory.Exists(root))
{
    Console.Error.WriteLine($"real-models: no folder {root}");
    return 2;
}

Warnings.Raised += (_, _) => { };
var results = new List<RealModelFiles.Result>();
foreach (var result in RealModelFiles.TryAll(root))
{
    results.Add(result);
    var label = result.Outcome switch
    {
        RealModelFiles.Outcome.Predicted => "ok     ",
        RealModelFiles.Outcome.Refused => "refused",
        _ => "FAILED ",
    };
    Console.WriteLine($"{label} {result.Name}: {result.Detail}");
}

Console.WriteLine(RealModelFiles.SummaryLine(results));
return results.Any(r => r.Outcome == RealModelFiles.Outcome.Failed) ? 1 : 0;
