using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Layers;

// docs/saving.md shows this class verbatim, between the markers below (CustomLayerDocTests checks they agree).
// doc:begin
/// <summary>
/// Additive (Bahdanau) attention over [query, values], e.g. an LSTM's last state and its sequences: each step's score
/// is v · tanh(W values_t + U query), divided by a fixed temperature; the scores of masked steps are set to -1e9; the
/// output is the sum of the values weighted by the softmax of the scores over the steps.
/// Inputs: query (batch, queryFeatures), values (batch, steps, valueFeatures). Output: (batch, valueFeatures).
/// </summary>
[KerasLayer("BahdanauAttention")]
public sealed class BahdanauAttention : Layer
{
    private LayerWeight? w, u, v, temperature;

    public BahdanauAttention(int units, string? name = null)
        : base(name)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(units);
        Units = units;
    }

    public int Units { get; }

    // Reads the values' mask; the output carries the query's mask (Keras' default compute_mask), here none.
    public override bool SupportsMasking => true;

    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["units"] = Units;
        return config;
    }

    public static BahdanauAttention FromConfig(LayerConfig config) => new(config.GetInt("units"), config.Name);

    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(IReadOnlyList<KerasTensor> inputs, bool list)
    {
        if (inputs.Count != 2)
        {
            throw InputError($"takes [query, values], but was called on {inputs.Count} inputs.");
        }

        var (query, values) = (inputs[0], inputs[1]);
        RequireRank(query, 2, "(batch, features) for the query");
        RequireRank(values, 3, "(batch, steps, features) for the values");
        RequireFloat(query);
        RequireFloat(values);
        RequireKnownLast(query, "query feature");
        return new[] { (new Shape(null, RequireKnownLast(values, "value feature")), DType.Float32) };
    }

    protected override void Build(IReadOnlyList<KerasTensor> inputs)
    {
        w = AddWeight("w", new[] { inputs[1].Shape.Last!.Value, Units });
        u = AddWeight("u", new[] { inputs[0].Shape.Last!.Value, Units });
        v = AddWeight("v", new[] { Units });
        temperature = AddWeight("temperature", new[] { 1 }, "ones", trainable: false);
    }

    protected override IReadOnlyList<Tensor> Call(IReadOnlyList<Tensor> inputs, bool training, IReadOnlyList<Tensor?> masks)
    {
        var (query, values) = (inputs[0], inputs[1]);
        var hidden = tanh(values.matmul(w!.Variable) + query.matmul(u!.Variable).unsqueeze(1));
        var scores = hidden.matmul(v!.Variable) / temperature!.Variable;
        if (masks[1] is { } mask)
        {
            scores = scores.masked_fill(mask.logical_not(), -1e9);
        }

        var weights = softmax(scores, 1);
        return new[] { (weights.unsqueeze(-1) * values).sum(1) };
    }
}
// doc:end
