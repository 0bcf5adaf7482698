using System.Text.Json.Nodes;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Saving;
using KerasStyle.Tests.Saving;

namespace KerasStyle.Tests.Training.Optimizers;

/// <summary>
/// The optimizer fixtures' model (numerics.py, optimizers.py, optimizer_options.py): Input(4) → Dense(3, tanh) →
/// Dense(units), with the fixture's starting weights, and the comparison of weights with Keras' after each step.
/// </summary>
internal static class OptimizerFixtureModel
{
    /// <summary>The model with the fixture's kernels and biases, in Keras' order.</summary>
    public static Model Build(JsonArray weights, int units)
    {
        var input = new Input(shape: 4);
        var hidden = new Dense(3, activation: "tanh");
        var output = new Dense(units);
        var model = new Model(input, output.Call(hidden.Call(input)));
        hidden.SetWeights(new[] { WeightArray.FromArray(FixtureJson.ToFloat2(weights[0]!.AsArray())), Vector(weights[1]!) });
        output.SetWeights(new[] { WeightArray.FromArray(FixtureJson.ToFloat2(weights[2]!.AsArray())), Vector(weights[3]!) });
        return model;
    }

    /// <summary>Each weight against Keras' within 1e-5 relative plus 1e-5 absolute.</summary>
    public static void AssertWeights(IReadOnlyList<WeightArray> actual, JsonNode expected, string what)
    {
        Assert.That(actual, Has.Count.EqualTo(expected.AsArray().Count), what);
        for (var w = 0; w < actual.Count; w++)
        {
            var want = FixtureJson.Flatten(expected[w]!).ToArray();
            for (var i = 0; i < want.Length; i++)
            {
                Assert.That(actual[w].Data[i], Is.EqualTo(want[i]).Within((1e-5 * Math.Abs(want[i])) + 1e-5), $"{what}: weight {w}[{i}]");
            }
        }
    }

    private static WeightArray Vector(JsonNode values)
    {
        var data = FixtureJson.Flatten(values).Select(v => (float)v).ToArray();
        return new WeightArray(new[] { data.Length }, data);
    }
}
