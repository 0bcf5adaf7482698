using KerasStyle.Layers;
using KerasStyle.Models;

namespace KerasStyle.Examples.Bench;

/// <summary>
/// Counted floating-point operations of a model (multiply and add = 2): forward per sample from each layer's
/// shapes; a training step is counted as 3 forwards (forward, gradient w.r.t. inputs, gradient w.r.t. weights).
/// Element-wise work (activations, pooling, the optimizer) is left out, so achieved GFLOP/s is a lower bound.
/// </summary>
internal static class FlopCount
{
    public static double ForwardPerSample(Model model)
    {
        double total = 0;
        foreach (var layer in model.Layers)
        {
            var input = layer.InboundNodes[0].Inputs.FirstOrDefault()?.Shape;
            var output = layer.InboundNodes[0].Outputs[0].Shape;
            total += layer switch
            {
                Conv1D conv => 2.0 * conv.KernelSize * input![2]!.Value * conv.Filters * output[1]!.Value,
                LSTM lstm => input![1]!.Value * 2.0 * (input[2]!.Value + lstm.Units) * 4 * lstm.Units,
                Bidirectional { ForwardLayer: LSTM lstm } => 2 * input![1]!.Value * 2.0 * (input[2]!.Value + lstm.Units) * 4 * lstm.Units,
                Dense dense => 2.0 * input![^1]!.Value * dense.Units,
                // Self-attention over (steps, features): the scores q·kᵀ and the weighted sum of the values.
                Attention => 2 * 2.0 * input![1]!.Value * input[1]!.Value * input[2]!.Value,
                _ => 0,
            };
        }

        return total;
    }

    public static double TrainingPerSample(Model model) => 3 * ForwardPerSample(model);
}
