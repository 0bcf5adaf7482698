using System.Globalization;

namespace KerasStyle.Tests.Parity;

/// <summary>The largest element-wise difference between two arrays, and where it is.</summary>
internal readonly record struct WorstDifference(double Value, int[] Index, float Expected, float Actual)
{
    public string IndexText => "[" + string.Join(", ", Index) + "]";
}

/// <summary>
/// Compares library results with the TF.js reference: the maximum absolute difference must not exceed the tolerance;
/// a failure names the worst element, its index, both values and the tolerance. Every comparison is recorded for
/// the parity table (<see cref="ParityReport"/>).
/// </summary>
internal static class ParityAssert
{
    /// <summary>Tolerance for forward outputs and losses.</summary>
    public const double ForwardTolerance = 1e-5;

    /// <summary>Tolerance for weights after training steps.</summary>
    public const double WeightTolerance = 1e-4;

    public static WorstDifference Measure(float[] expected, float[] actual, IReadOnlyList<int> shape)
    {
        if (expected.Length != actual.Length)
        {
            throw new ArgumentException($"expected {expected.Length} values, got {actual.Length}.");
        }

        var worst = -1.0;
        var at = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            double diff = Math.Abs((double)expected[i] - actual[i]);
            if (double.IsNaN(diff))
            {
                diff = double.PositiveInfinity;
            }

            if (diff > worst)
            {
                worst = diff;
                at = i;
            }
        }

        return expected.Length == 0
            ? new WorstDifference(0, Array.Empty<int>(), 0, 0)
            : new WorstDifference(worst, Unravel(at, shape), expected[at], actual[at]);
    }

    /// <summary>Asserts max |expected - actual| ≤ tolerance; records the figure under (case, check).</summary>
    public static WorstDifference Within(string caseName, string check, float[] expected, float[] actual, IReadOnlyList<int> shape, double tolerance)
    {
        var shapeCount = shape.Aggregate(1L, (a, d) => a * d);
        Assert.That(actual, Has.Length.EqualTo(expected.Length), $"{caseName} {check}: the library gave {actual.Length} values, the reference has {expected.Length} (shape ({string.Join(", ", shape)})).");
        Assert.That(shapeCount, Is.EqualTo(expected.Length), $"{caseName} {check}: shape ({string.Join(", ", shape)}) does not hold {expected.Length} values.");
        var worst = Measure(expected, actual, shape);
        ParityReport.Record(caseName, check, worst, tolerance);
        if (!(worst.Value <= tolerance))
        {
            Assert.Fail(string.Create(CultureInfo.InvariantCulture,
                $"{caseName} {check}: max |diff| = {worst.Value:E3} > tolerance {tolerance:E0} at index {worst.IndexText} of shape ({string.Join(", ", shape)}): TF.js {worst.Expected:R}, KerasStyle {worst.Actual:R}."));
        }

        return worst;
    }

    /// <summary>Asserts |expected - actual| ≤ tolerance for one scalar (a loss).</summary>
    public static void ScalarWithin(string caseName, string check, double expected, double actual, double tolerance) =>
        Within(caseName, check, new[] { (float)expected }, new[] { (float)actual }, new[] { 1 }, tolerance);

    /// <summary>Flattens a float array of any rank (row-major).</summary>
    public static float[] Flatten(Array array)
    {
        var flat = new float[array.Length];
        Buffer.BlockCopy(array, 0, flat, 0, flat.Length * sizeof(float));
        return flat;
    }

    public static int[] ShapeOf(Array array) => Enumerable.Range(0, array.Rank).Select(array.GetLength).ToArray();

    private static int[] Unravel(int flat, IReadOnlyList<int> shape)
    {
        var index = new int[shape.Count];
        for (var d = shape.Count - 1; d >= 0; d--)
        {
            var size = Math.Max(shape[d], 1);
            index[d] = flat % size;
            flat /= size;
        }

        return index;
    }
}

/// <summary>Collects the worst difference of every parity check and prints them as a table.</summary>
internal static class ParityReport
{
    private static readonly Lock Gate = new();
    private static readonly List<(string Case, string Check, WorstDifference Worst, double Tolerance)> Rows = new();

    public static void Record(string caseName, string check, WorstDifference worst, double tolerance)
    {
        lock (Gate)
        {
            Rows.Add((caseName, check, worst, tolerance));
        }
    }

    /// <summary>One line per case and kind of check: the worst difference over that case's comparisons.</summary>
    public static string Table(string referenceVersion)
    {
        lock (Gate)
        {
            var lines = new List<string>
            {
                $"Parity with @tensorflow/tfjs {referenceVersion} (cpu): worst |TF.js - KerasStyle| per case",
                $"{"case",-40} {"check",-26} {"comparisons",11} {"worst",10} {"tolerance",9}  worst at",
            };
            foreach (var group in Rows.GroupBy(r => (r.Case, Kind(r.Check))).OrderBy(g => g.Key.Case, StringComparer.Ordinal).ThenBy(g => g.Key.Item2, StringComparer.Ordinal))
            {
                var worst = group.MaxBy(r => r.Worst.Value);
                lines.Add(string.Create(CultureInfo.InvariantCulture,
                    $"{group.Key.Case,-40} {group.Key.Item2,-26} {group.Count(),11} {worst.Worst.Value,10:E2} {worst.Tolerance,9:E0}  {worst.Check} {worst.Worst.IndexText}"));
            }

            lines.Add(string.Create(CultureInfo.InvariantCulture, $"{Rows.Count} comparisons; overall worst forward {Worst(r => r.Tolerance == ParityAssert.ForwardTolerance):E2}, overall worst after training (weights, predictions) {Worst(r => r.Tolerance == ParityAssert.WeightTolerance):E2}"));
            return string.Join(Environment.NewLine, lines) + Environment.NewLine;
        }
    }

    private static double Worst(Func<(string Case, string Check, WorstDifference Worst, double Tolerance), bool> filter) =>
        Rows.Where(filter).Select(r => r.Worst.Value).DefaultIfEmpty(0).Max();

    // "forward b=4 output 0" -> "forward", "fit weights step 3 lstm/kernel" -> "fit weights", ...
    private static string Kind(string check)
    {
        var words = check.Split(' ');
        return words[0] is "trainOnBatch" or "fit" ? $"{words[0]} {words[1]}" : words[0];
    }
}
