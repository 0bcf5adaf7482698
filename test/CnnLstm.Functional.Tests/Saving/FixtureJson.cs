using System.Text.Json.Nodes;

namespace KerasStyle.Tests.Saving;

/// <summary>Arrays and comparisons for the JSON that the real-Keras fixture generators write (nested lists).</summary>
internal static class FixtureJson
{
    /// <summary>Each sample's first output against the values Keras printed, within 1e-5.</summary>
    public static void AssertClose(float[,] actual, JsonArray expected, string what)
    {
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.That(actual[i, 0], Is.EqualTo(expected[i]![0]!.GetValue<double>()).Within(1e-5), $"{what}: sample {i}");
        }
    }

    public static float[,] ToFloat2(JsonArray rows) => To2(rows, v => (float)v.GetValue<double>());

    public static long[,] ToLong2(JsonArray rows) => To2(rows, v => v.GetValue<long>());

    public static float[,,] ToFloat3(JsonArray rows)
    {
        var first = rows[0]!.AsArray();
        var result = new float[rows.Count, first.Count, first[0]!.AsArray().Count];
        for (var i = 0; i < rows.Count; i++)
        {
            for (var j = 0; j < result.GetLength(1); j++)
            {
                for (var k = 0; k < result.GetLength(2); k++)
                {
                    result[i, j, k] = (float)rows[i]![j]![k]!.GetValue<double>();
                }
            }
        }

        return result;
    }

    private static T[,] To2<T>(JsonArray rows, Func<JsonNode, T> value)
    {
        var result = new T[rows.Count, rows[0]!.AsArray().Count];
        for (var i = 0; i < rows.Count; i++)
        {
            for (var j = 0; j < result.GetLength(1); j++)
            {
                result[i, j] = value(rows[i]![j]!);
            }
        }

        return result;
    }

    /// <summary>Every number of a nested JSON list, in order (a flattened array).</summary>
    public static IEnumerable<double> Flatten(JsonNode node) =>
        node is JsonArray list ? list.SelectMany(item => Flatten(item!)) : new[] { node.GetValue<double>() };

    public static int[,] ToInt2(JsonArray rows) => To2(rows, v => v.GetValue<int>());

    /// <summary>The first <paramref name="n"/> samples of an array (any rank).</summary>
    public static T First<T>(T array, int n)
        where T : class
    {
        var source = (Array)(object)array;
        var lengths = Enumerable.Range(0, source.Rank).Select(d => d == 0 ? n : source.GetLength(d)).ToArray();
        var result = Array.CreateInstance(source.GetType().GetElementType()!, lengths);
        Array.Copy(source, result, result.Length);
        return (T)(object)result;
    }

    /// <summary>A nested JSON list of numbers as a float array of its rank (any rank from 1).</summary>
    public static Array ToArray(JsonArray rows)
    {
        var lengths = new List<int>();
        for (JsonNode? node = rows; node is JsonArray list; node = list[0])
        {
            lengths.Add(list.Count);
        }

        var result = Array.CreateInstance(typeof(float), lengths.ToArray());
        var values = Flatten(rows).ToArray();
        var index = new int[lengths.Count];
        for (var n = 0; n < values.Length; n++)
        {
            var rest = n;
            for (var d = lengths.Count - 1; d >= 0; d--)
            {
                (index[d], rest) = (rest % lengths[d], rest / lengths[d]);
            }

            result.SetValue((float)values[n], index);
        }

        return result;
    }
}
