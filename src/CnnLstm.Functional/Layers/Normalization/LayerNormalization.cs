using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Normalises each sample over its last axis, as Keras' <c>keras.layers.LayerNormalization</c>
/// (keras/src/layers/normalization/layer_normalization.py): (x - mean) / sqrt(variance + epsilon) × gamma + beta,
/// mean and variance over the features. Weights: gamma (features) when <c>scale</c>, then beta (features) when
/// <c>center</c>; shape unchanged; passes masks on. Normalising over other axes and <c>rms_scaling</c> are not
/// supported.
/// </summary>
[KerasLayer("LayerNormalization"), Keras3OnlyArgument("rms_scaling", false)]
public sealed class LayerNormalization : Layer
{
    private LayerWeight? gamma;
    private LayerWeight? beta;
    private int? rank;

    /// <summary>Creates the layer.</summary>
    /// <param name="epsilon">Added to the variance (Keras' default 1e-3); positive.</param>
    /// <param name="center">Whether to add the learned offset beta (default true).</param>
    /// <param name="scale">Whether to multiply by the learned gain gamma (default true).</param>
    /// <param name="name">Layer name; defaults to <c>layer_normalization_N</c>.</param>
    public LayerNormalization(double epsilon = 1e-3, bool center = true, bool scale = true, string? name = null)
        : base(name)
    {
        Epsilon = epsilon > 0 && double.IsFinite(epsilon) ? epsilon
            : throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "LayerNormalization: epsilon must be positive and finite.");
        Center = center;
        Scale = scale;
    }

    /// <summary>Added to the variance (Keras' <c>epsilon</c>).</summary>
    public double Epsilon { get; }

    /// <summary>Whether beta is added (Keras' <c>center</c>).</summary>
    public bool Center { get; }

    /// <summary>Whether gamma multiplies (Keras' <c>scale</c>).</summary>
    public bool Scale { get; }

    /// <inheritdoc/>
    public override bool SupportsMasking => true;

    /// <inheritdoc/>
    /// <remarks>As Keras, the axis is written as the list of resolved axes once the layer is built ([2] for a
    /// (batch, steps, features) input), and as -1 before.</remarks>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["axis"] = rank is int r ? new JsonArray(r - 1) : -1;
        config["epsilon"] = Epsilon;
        config["center"] = Center;
        config["scale"] = Scale;
        config["rms_scaling"] = false;
        config["beta_initializer"] = KerasInitializer("Zeros", new JsonObject());
        config["gamma_initializer"] = KerasInitializer("Ones", new JsonObject());
        config["beta_regularizer"] = null;
        config["gamma_regularizer"] = null;
        config["beta_constraint"] = null;
        config["gamma_constraint"] = null;
        return config;
    }

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config; only the last axis is supported.</summary>
    internal static LayerNormalization FromConfig(LayerConfig config)
    {
        config.ReadInitializer("beta_initializer", "zeros");
        config.ReadInitializer("gamma_initializer", "ones");
        foreach (var key in new[] { "beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint" })
        {
            config.RequireDefault(key, null);
        }

        config.RequireDefault("rms_scaling", false);
        var axis = config.GetRaw("axis");
        var layer = new LayerNormalization(config.GetDouble("epsilon", 1e-3), config.GetBool("center", true), config.GetBool("scale", true), config.Name);
        layer.configAxis = axis switch
        {
            null => -1,
            JsonArray { Count: 1 } one when one[0] is JsonValue v && v.TryGetValue<int>(out var a) => a,
            JsonValue v when v.TryGetValue<int>(out var a) => a,
            _ => throw config.Error($"'axis' {axis.ToJsonString()} is not supported; this library normalises over the last axis only."),
        };
        return layer;
    }

    /// <summary>The axis a config named (-1, or a positive axis checked against the input's rank at the first call).</summary>
    private int configAxis = -1;

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        RequireFloat(input);
        var features = RequireKnownLast(input, "feature");
        if (input.Shape.Rank < 2 || (configAxis != -1 && configAxis != input.Shape.Rank - 1))
        {
            throw InputError($"normalises over the last axis of a (batch, ..., features) input, but got {input.Label} with shape {input.Shape}{(configAxis != -1 ? $" and axis {configAxis}" : string.Empty)}.");
        }

        if (Built && (gamma ?? beta)!.Shape[0] != features)
        {
            throw InputError($"was built for {(gamma ?? beta)!.Shape[0]} features, but {input.Label} has shape {input.Shape}.");
        }

        return new[] { (input.Shape, input.DType) };
    }

    /// <inheritdoc/>
    protected override void Build(KerasTensor input)
    {
        var features = input.Shape.Last!.Value;
        rank = input.Shape.Rank;
        if (Scale)
        {
            gamma = AddWeight("gamma", new long[] { features }, () => ones(features));
        }

        if (Center)
        {
            beta = AddWeight("beta", new long[] { features }, () => zeros(features));
        }
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask) =>
        nn.functional.layer_norm(input, new[] { input.shape[^1] }, gamma?.Variable, beta?.Variable, Epsilon);

    /// <summary>ONNX: LayerNormalization over the last axis (a scale of ones without <see cref="Scale"/>).</summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call)
    {
        var features = call.Input.Shape.Last ?? throw OnnxGraph.Unsupported(this, $"needs a known last axis, but its input has shape {call.Input.Shape}.");
        var inputs = new List<string> { call.Input.Name, gamma is null ? graph.Floats($"{Name}/ones", Enumerable.Repeat(1f, features).ToArray(), features) : graph.Weight(gamma) };
        if (beta is not null)
        {
            inputs.Add(graph.Weight(beta));
        }

        return new[] { graph.Add("LayerNormalization", Name, inputs, OnnxGraph.Attr("axis", -1L), OnnxGraph.Attr("epsilon", (float)Epsilon)) };
    }
}
