using System.Text.Json.Nodes;
using KerasStyle.Tests.Saving;
using KerasStyle.Training.Losses;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Training.Losses;

/// <summary>
/// Every loss with its arguments (from_logits, label_smoothing, axis, ignore_class, its own) under every reduction Keras
/// 3.16 accepts, without and with sample weights of each rank, and with the output's mask alone and with weights,
/// called eagerly, against Keras 3.16 (KerasFixtures/loss_arguments.json, tools/keras-fixtures/loss_arguments.py).
/// Where Keras raises (weights or a mask that do not broadcast to the per-entry losses), the library refuses with
/// an <see cref="ArgumentException"/>.
/// </summary>
public class LossArgumentsKerasTests
{
    internal static readonly JsonObject Fixture = JsonNode.Parse(File.ReadAllText(Path.Combine(TestContext.CurrentContext.TestDirectory, "Training", "KerasFixtures", "loss_arguments.json")))!.AsObject();

    /// <summary>One test per loss and argument set (its reductions, weights and masks inside).</summary>
    private static IEnumerable<TestCaseData> Sets() =>
        Fixture["cases"]!.AsArray().Select(c => SetName(c!)).Distinct().Select(name => new TestCaseData(name).SetName($"LossArguments_GiveKerasValueOrKerasRefusal({name})"));

    private static string SetName(JsonNode c)
    {
        var config = c["config"]!.AsObject().Where(p => p.Key != "reduction").Select(p => $"{p.Key}={p.Value?.ToJsonString()}");
        return $"{c["class_name"]}[{string.Join(",", config)}] {c["y"]} {c["p"]}";
    }

    [TestCaseSource(nameof(Sets))]
    public void LossArguments_GiveKerasValueOrKerasRefusal(string set)
    {
        var inputs = Fixture["inputs"]!.AsObject();
        var cases = Fixture["cases"]!.AsArray().Where(c => SetName(c!) == set).ToArray();
        Assert.That(cases, Is.Not.Empty);
        Assert.Multiple(() =>
        {
            foreach (var c in cases)
            {
                var config = c!["config"]!.AsObject().DeepClone().AsObject();
                var label = $"reduction={config["reduction"]?.ToJsonString() ?? "None"}, weight={c["weight"]}, mask={c["mask"]}";
                var loss = LossNames.FromConfig(c["class_name"]!.GetValue<string>(), config);
                using var scope = NewDisposeScope();
                var y = Tensor(inputs, c["y"]!.GetValue<string>());
                var p = Tensor(inputs, c["p"]!.GetValue<string>());
                var weight = c["weight"] is JsonValue w ? Tensor(inputs, w.GetValue<string>()) : null;
                var mask = c["mask"] is JsonValue m ? Tensor(inputs, m.GetValue<string>()) : null;
                if (c["error"] is JsonValue error)
                {
                    Assert.That(() => loss.Invoke(y, p, weight, mask), Throws.InstanceOf<ArgumentException>(), $"{label}: Keras raised {error}");
                    continue;
                }

                Tensor result;
                try
                {
                    result = loss.Invoke(y, p, weight, mask);
                }
                catch (Exception e)
                {
                    Assert.Fail($"{label}: {e.GetType().Name}: {e.Message}");
                    continue;
                }

                var expected = FixtureJson.Flatten(c["value"]!).ToArray();
                var actual = result.to_type(ScalarType.Float64).data<double>().ToArray();
                Assert.That(actual, Is.EqualTo(expected).Within(1e-5), label);
                if (c["value"] is JsonArray)
                {
                    Assert.That(result.shape, Is.EqualTo(Shape(c["value"]!)), $"{label}: shape of the unreduced losses");
                }
            }
        });
    }

    [Test]
    public void UnknownReduction_IsRefusedAsKerasRefusesIt()
    {
        // Keras: "Invalid value for argument `reduction`. Expected one of {...}. Received: reduction=auto".
        Assert.That(Fixture["refused"]!["reduction_auto"]!.GetValue<string>(), Does.Contain("reduction=auto"));
        Assert.That(() => new MeanSquaredError(reduction: "Sum"), Throws.ArgumentException.With.Message.Contains("'Sum'").And.Message.Contains("mean_with_sample_weight"));
    }

    /// <summary>A fixture input as a tensor of its JSON shape: int64 for whole numbers named ids, bool for masks, float32 otherwise.</summary>
    internal static Tensor Tensor(JsonObject inputs, string name)
    {
        var node = inputs[name]!;
        var shape = Shape(node);
        if (name.StartsWith("mask", StringComparison.Ordinal))
        {
            return tensor(Bools(node).ToArray()).reshape(shape);
        }

        var values = FixtureJson.Flatten(node).ToArray();
        return name.Contains("ids", StringComparison.Ordinal)
            ? tensor(values.Select(v => (long)v).ToArray()).reshape(shape)
            : tensor(values.Select(v => (float)v).ToArray()).reshape(shape);
    }

    private static IEnumerable<bool> Bools(JsonNode node) =>
        node is JsonArray list ? list.SelectMany(n => Bools(n!)) : new[] { node.GetValue<bool>() };

    private static long[] Shape(JsonNode node)
    {
        var shape = new List<long>();
        for (var n = node; n is JsonArray list; n = list.Count > 0 ? list[0] : null)
        {
            shape.Add(list.Count);
        }

        return shape.ToArray();
    }
}
