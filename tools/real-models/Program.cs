using System.Text.RegularExpressions;
using KerasStyle;
using KerasStyle.Models;
using KerasStyle.Tests;

// For each model file in ../shared/real-models/set*: Model.Load, Predict on NAME.x.npy (NAME.x1.npy, ... for more
// inputs) and the largest difference from NAME.y.npy (real Keras 3.16's prediction, or Keras 2's maths for
// Keras 2 files using hard_sigmoid), relative to max(1, |y|). Prints one line per file and a summary line.
// Usage: dotnet run --project tools/real-models -c Release [-- FOLDER]
var root = args.Length > 0 ? args[0] : Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "..", "shared", "real-models");
root = Path.GetFullPath(root);
if (!Directory.Exists(root))
{
    Console.Error.WriteLine($"real-models: no folder {root}");
    return 2;
}


Warnings.Raised += (_, _) => { };
int ok = 0, wrong = 0, failed = 0;
foreach (var file in Directory.GetFiles(root, "*", SearchOption.AllDirectories)
             .Where(f => f.EndsWith(".h5", StringComparison.Ordinal) || f.EndsWith(".keras", StringComparison.Ordinal))
             .Order(StringComparer.Ordinal))
{
    var name = Path.GetRelativePath(root, file);
    if (!File.Exists(file + ".y.npy"))
    {
        continue;
    }

    try
    {
        // As a user loads a file: compiled from its training config (issue 22: how a model was trained never blocks loading it).
        using var model = Model.Load(file);
        var inputs = new List<Array> { NpyFile.Read(file + ".x.npy") };
        for (var i = 1; File.Exists($"{file}.x{i}.npy"); i++)
        {
            inputs.Add(NpyFile.Read($"{file}.x{i}.npy"));
        }

        var outputs = model.Predict(inputs.ToArray());
        double worst = 0;
        for (var o = 0; o < outputs.Count; o++)
        {
            var expected = NpyFile.Read(o == 0 ? file + ".y.npy" : $"{file}.y{o}.npy");
            var e = Flat(expected);
            var a = Flat(outputs[o]);
            if (e.Length != a.Length)
            {
                throw new InvalidOperationException($"output {o} has {a.Length} values, Keras' {e.Length}");
            }

            for (var k = 0; k < e.Length; k++)
            {
                worst = Math.Max(worst, Math.Abs(e[k] - a[k]) / Math.Max(1, Math.Abs(e[k])));
            }
        }

        var good = worst <= 1e-4;
        if (good) { ok++; } else { wrong++; }
        Console.WriteLine($"{(good ? "ok   " : "WRONG")} {worst:E2} {name}");
    }
    catch (Exception e)
    {
        failed++;
        Console.WriteLine($"error {e.GetType().Name}: {Regex.Replace(e.Message, @"\s+", " ")[..Math.Min(200, e.Message.Length)]} {name}");
    }
}

Console.WriteLine($"real-models ok={ok} wrong={wrong} error={failed}");
return wrong > 0 ? 1 : 0;

static double[] Flat(Array a) => a.Cast<object>().Select(Convert.ToDouble).ToArray();
