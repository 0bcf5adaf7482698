using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Training.Losses;
using static TorchSharp.torch;

namespace KerasStyle.Training.Metrics;

/// <summary>
/// A metric given by its Keras name (<c>"accuracy"</c>), or read from a compile config as an argument-free class
/// (<c>{"class_name": "MeanSquaredError", "config": {"name": "my_mse"}}</c>), resolved for each output at
/// <c>Compile</c> (<see cref="Metric.Resolve(string, Loss, int?)"/>) and logged as <see cref="Metric.Name"/>. tf.keras 2's
/// <c>MeanMetricWrapper</c> (<c>{"name": "accuracy", "fn": "binary_accuracy"}</c>) is its function logged under its name.
/// </summary>
internal sealed class NamedMetric : Metric
{
    private readonly string function;
    private readonly string? className;

    /// <param name="function">The Keras metric name, one of <see cref="Metric.Known"/>.</param>
    /// <param name="name">The logged name.</param>
    /// <param name="className">The Keras class it was read as, written back as that class; null for a name.</param>
    public NamedMetric(string function, string name, string? className)
        : base(name)
    {
        this.function = function;
        this.className = className;
    }

    internal override Metric ForOutput(Loss loss, Shape shape, string label) =>
        Resolve(function, Name, loss, shape.Last).ForOutput(loss, shape, label);

    internal override bool FromStatistics => true;

    /// <summary>The name and dtype; a tf.keras 2 <c>MeanMetricWrapper</c> also its function (<c>fn</c>), which Keras 3's <c>from_config</c> reads by name.</summary>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        if (className == "MeanMetricWrapper")
        {
            config["fn"] = function;
        }

        return config;
    }

    internal override Tensor Statistics(Tensor target, Tensor output, Tensor? weights) => throw Unresolved();

    internal override double Result(double[] statistics) => throw Unresolved();

    internal override JsonNode Serialize() => className is null ? JsonValue.Create(function)
        : new JsonObject { ["module"] = "keras.metrics", ["class_name"] = className, ["config"] = GetConfig(), ["registered_name"] = null };

    private InvalidOperationException Unresolved() =>
        new($"the metric '{Name}' is given by name, which Compile resolves for each output (accuracy depends on the output and loss); to use a metric outside a model create its class, e.g. new CategoricalAccuracy() or new BinaryAccuracy().");
}
