using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Training;

/// <summary>
/// Keras 3.16's values for eager losses, metrics and optimizers (KerasFixtures/objects.json, written by
/// tools/keras-fixtures/objects.py), and nested JSON lists as tensors and C# arrays.
/// </summary>
internal static class ObjectsFixture
{
    public static readonly JsonObject Json = JsonNode.Parse(File.ReadAllText(Path.Combine(TestContext.CurrentContext.TestDirectory, "Training", "KerasFixtures", "objects.json")))!.AsObject();

    public static IEnumerable<string> Cases(string section) => Json[section]!.AsObject().Select(kv => kv.Key);

    /// <summary>A nested list of numbers (or booleans) as a float32 tensor of its shape.</summary>
    public static Tensor Tensor(JsonNode node)
    {
        var (values, shape) = Flatten(node);
        return tensor(values, shape);
    }

    /// <summary>A nested list of numbers as a float[] / float[,] / float[,,] of its shape.</summary>
    public static Array Array(JsonNode node)
    {
        var (values, shape) = Flatten(node);
        var array = System.Array.CreateInstance(typeof(float), shape.Select(d => (int)d).ToArray());
        Buffer.BlockCopy(values, 0, array, 0, values.Length * sizeof(float));
        return array;
    }

    /// <summary>A number or nested list as doubles, flattened.</summary>
    public static double[] Doubles(JsonNode node) => Flatten(node).Values.Select(v => (double)v).ToArray();

    private static (float[] Values, long[] Shape) Flatten(JsonNode node)
    {
        var shape = new List<long>();
        for (var n = node; n is JsonArray a; n = a.Count > 0 ? a[0] : null)
        {
            shape.Add(a.Count);
        }

        var values = new List<float>();
        void Walk(JsonNode? n)
        {
            if (n is JsonArray a)
            {
                foreach (var item in a)
                {
                    Walk(item);
                }
            }
            else
            {
                var v = n!.AsValue();
                values.Add(v.TryGetValue<bool>(out var b) ? (b ? 1 : 0) : (float)v.GetValue<double>());
            }
        }

        Walk(node);
        return (values.ToArray(), shape.ToArray());
    }
}
