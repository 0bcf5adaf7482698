using KerasStyle.Layers;
using KerasStyle.Models;

namespace KerasStyle.Tests.Saving;

/// <summary>A fresh temporary directory per test, deleted afterwards, and helpers to compare weights bit for bit.</summary>
public abstract class SavingTestBase
{
    private readonly List<string> warnings = new();

    /// <summary>The test's own directory.</summary>
    protected string TempDir { get; private set; } = string.Empty;

    /// <summary>Warnings raised during the test.</summary>
    protected IReadOnlyList<string> RaisedWarnings => warnings;

    [SetUp]
    public void CreateDirectory()
    {
        Backend.ClearSession();
        Utils.SetRandomSeed(11);
        TempDir = Path.Combine(Path.GetTempPath(), "kerasstyle-saving-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(TempDir);
        warnings.Clear();
        KerasStyle.Warnings.Raised += OnWarning;
    }

    [TearDown]
    public void DeleteDirectory()
    {
        KerasStyle.Warnings.Raised -= OnWarning;
        Directory.Delete(TempDir, recursive: true);
    }

    protected string PathOf(string name) => Path.Combine(TempDir, name);

    /// <summary>Every float of every weight, as raw bits, so that equality is bit for bit.</summary>
    protected static int[] Bits(IEnumerable<WeightArray> weights) =>
        weights.SelectMany(w => w.Data).Select(BitConverter.SingleToInt32Bits).ToArray();

    protected static int[] Bits(Array values) =>
        values.Cast<float>().Select(BitConverter.SingleToInt32Bits).ToArray();

    protected static int[] Bits(Model model) => Bits(model.GetWeights());

    private void OnWarning(object? sender, string message) => warnings.Add(message);
}
