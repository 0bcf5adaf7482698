using System.Text.Json.Nodes;
using KerasStyle.Saving;

namespace KerasStyle.Training.Schedules;

/// <summary>
/// Keras' <c>keras.optimizers.schedules.PiecewiseConstantDecay</c>: <c>values[0]</c> while <c>step &lt;=
/// boundaries[0]</c>, <c>values[i]</c> while <c>boundaries[i-1] &lt; step &lt;= boundaries[i]</c>, and the last value
/// after the last boundary. As Keras, the boundaries are cast to the step's integer type (truncated) and the value is
/// the float32 sum of <c>value * (step in its interval)</c> over the intervals.
/// </summary>
public sealed class PiecewiseConstantDecay : LearningRateSchedule
{
    private readonly double[] boundaries;
    private readonly double[] values;

    /// <summary>Creates the schedule.</summary>
    /// <param name="boundaries">The steps where the value changes, strictly increasing.</param>
    /// <param name="values">One more value than boundaries.</param>
    /// <param name="name">Keras' name (default <c>PiecewiseConstant</c>).</param>
    /// <exception cref="ArgumentNullException">A null list.</exception>
    /// <exception cref="ArgumentException">The lists' lengths do not differ by one (Keras' ValueError), or an empty <paramref name="boundaries"/> (Keras fails on it too).</exception>
    public PiecewiseConstantDecay(IReadOnlyList<double> boundaries, IReadOnlyList<double> values, string name = "PiecewiseConstant")
    {
        ArgumentNullException.ThrowIfNull(boundaries);
        ArgumentNullException.ThrowIfNull(values);
        if (boundaries.Count != values.Count - 1)
        {
            throw new ArgumentException(
                $"The length of boundaries should be 1 less than the length of values. Received: boundaries=[{string.Join(", ", boundaries.Select(Python))}] of length {boundaries.Count}, and values=[{string.Join(", ", values.Select(Python))}] of length {values.Count}.",
                nameof(values));
        }

        if (boundaries.Count == 0)
        {
            // Keras indexes boundaries[0] on the first call and fails there; refused here before any use.
            throw new ArgumentException("PiecewiseConstantDecay: boundaries is empty; give at least one boundary (Keras fails with an IndexError at the first step).", nameof(boundaries));
        }

        this.boundaries = boundaries.ToArray();
        this.values = values.ToArray();
        Name = name ?? throw new ArgumentNullException(nameof(name));
    }

    /// <summary>The steps where the value changes.</summary>
    public IReadOnlyList<double> Boundaries => boundaries;

    /// <summary>The values, one more than the boundaries.</summary>
    public IReadOnlyList<double> Values => values;

    /// <summary>Keras' name.</summary>
    public string Name { get; }

    /// <inheritdoc/>
    public override double Call(long step)
    {
        var b = boundaries.Select(x => (long)x).ToArray();
        var result = 0f;
        result += (step <= b[0] ? 1f : 0f) * (float)values[0];
        result += (step > b[^1] ? 1f : 0f) * (float)values[^1];
        for (var i = 0; i < b.Length - 1; i++)
        {
            result += (step > b[i] && step <= b[i + 1] ? 1f : 0f) * (float)values[i + 1];
        }

        return result;
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig() => new()
    {
        ["boundaries"] = new JsonArray(boundaries.Select(x => (JsonNode?)Number(x)).ToArray()),
        ["values"] = new JsonArray(values.Select(x => (JsonNode?)JsonValue.Create(x)).ToArray()),
        ["name"] = Name,
    };

    internal static PiecewiseConstantDecay FromConfig(LayerConfig config) => new(
        Numbers(config, "boundaries"), Numbers(config, "values"), config.GetString("name", "PiecewiseConstant"));

    private static double[] Numbers(LayerConfig config, string key) => config.GetRaw(key) switch
    {
        JsonArray list when list.All(e => e is JsonValue v && v.TryGetValue<double>(out _)) => list.Select(e => e!.GetValue<double>()).ToArray(),
        null => throw config.Error($"the argument '{key}' is required."),
        var other => throw config.Error($"'{key}' must be a list of numbers, got {other.ToJsonString()}."),
    };
}
