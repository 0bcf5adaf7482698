using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Layers;

// docs/saving.md shows this class verbatim, between the markers below (SimpleAttentionTwinTests checks they agree).
// doc:begin
/// <summary>
/// The C# twin of <c>SimpleAttention</c>, the custom layer of a published Keras model
/// (github.com/AdityaKumar1009/Dissolved-Oxygen-Prediction-for-Water-Quality-Monitoring, lstm_attention_model.h5):
/// each step's score is tanh(x_t · W + b_t), the weights are the softmax of the scores over the steps, and the output
/// is the sum of the steps weighted by them. Input (batch, steps, features), e.g. an LSTM's sequences; output
/// (batch, features). Weights, in the author's order and names: att_weight (features, 1), att_bias (steps, 1).
/// </summary>
[KerasLayer("SimpleAttention")]
public sealed class SimpleAttention : Layer
{
    private LayerWeight? weight, bias;

    public SimpleAttention(string? name = null)
        : base(name)
    {
    }

    // The author's get_config adds nothing to Layer's (name, trainable, dtype), so neither does this class.
    public static SimpleAttention FromConfig(LayerConfig config) => new(config.Name);

    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        RequireRank(input, 3, "(batch, steps, features)");
        RequireFloat(input);
        // att_bias has one value per step, so the number of steps must be known, as in Keras.
        _ = input.Shape[1] ?? throw InputError($"the steps dimension (axis 1) must be known, but the input shape is {input.Shape}.");
        return new[] { (new Shape(null, RequireKnownLast(input, "feature")), DType.Float32) };
    }

    protected override void Build(KerasTensor input)
    {
        weight = AddWeight("att_weight", new[] { input.Shape.Last!.Value, 1 }, "normal");
        bias = AddWeight("att_bias", new[] { input.Shape[1]!.Value, 1 }, "zeros");
    }

    protected override Tensor Call(Tensor input, bool training, Tensor? mask)
    {
        var scores = tanh(input.matmul(weight!.Variable) + bias!.Variable); // (batch, steps, 1)
        var weights = softmax(scores, 1);                                  // over the steps
        return (input * weights).sum(1);                                   // (batch, features)
    }
}
// doc:end
