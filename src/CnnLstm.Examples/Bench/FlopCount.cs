using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;

namespace KerasStyle.Examples.Bench;

/// <summary>
/// Counted floating-point operations of a model per sample (a multiply-add counts 2), from each layer's shapes.
/// Only the matrix products are counted: Conv1D (also inside TimeDistributed), LSTM (also inside Bidirectional),
/// Dense (on every leading step of its input) and Attention's two products. Everything element-wise (activations,
/// the LSTM gates' sigmoid/tanh and products, pooling, dropout, the loss, the optimizer) and the Embedding's gather
/// count 0 FLOPs: their cost is memory traffic, which <see cref="ByteCount"/> counts. A bias add is not counted.
/// </summary>
/// <remarks>
/// Training per sample: each product is counted once forward, once for the gradient of its weights, and once for
/// the gradient of its input, the last only when something before it needs a gradient (a layer with trainable
/// weights upstream): libtorch skips the input gradient of the first weighted layer over the model's own inputs.
/// An LSTM's recurrent product always needs its input gradient (the previous step's state). So a training step is 3
/// forwards for the seed's sentiment model (its Embedding is trainable) and less than 3 for the regression and
/// temperatures models, whose first convolution reads the model input.
/// </remarks>
internal static class FlopCount
{
    /// <summary>Forward FLOPs of one sample.</summary>
    public static double ForwardPerSample(Model model) => model.Layers.Sum(layer => Layer(layer).Sum(p => p.Flops));

    /// <summary>Training FLOPs of one sample: forward, weight gradients and the input gradients that are needed.</summary>
    public static double TrainingPerSample(Model model)
    {
        double total = 0;
        foreach (var layer in model.Layers)
        {
            var inputNeedsGradient = layer.InboundNodes.Count > 0 && layer.InboundNodes[0].Inputs.Any(NeedsGradient);
            foreach (var product in Layer(layer))
            {
                var hasWeights = product.HasWeights && layer.TrainableWeights.Count > 0;
                var needsInputGradient = product.AlwaysNeedsInputGradient || inputNeedsGradient;
                total += product.Flops * (1 + (hasWeights ? 1 : 0) + (needsInputGradient ? 1 : 0));
            }
        }

        return total;
    }

    /// <summary>
    /// Whether the gradient of a tensor is needed in training: it comes from a layer with trainable weights, or
    /// from a layer whose input needs one.
    /// </summary>
    internal static bool NeedsGradient(KerasTensor tensor)
    {
        var layer = tensor.Layer;
        if (layer.TrainableWeights.Count > 0)
        {
            return true;
        }

        return layer.InboundNodes.Count > 0 && tensor.NodeIndex < layer.InboundNodes.Count
            && layer.InboundNodes[tensor.NodeIndex].Inputs.Any(NeedsGradient);
    }

    /// <summary>One matrix product of a layer, per sample.</summary>
    /// <param name="Flops">Forward FLOPs.</param>
    /// <param name="HasWeights">Whether one side is the layer's weight (else both sides are activations).</param>
    /// <param name="AlwaysNeedsInputGradient">The LSTM's recurrent product: its input is the previous state.</param>
    internal readonly record struct Product(double Flops, bool HasWeights, bool AlwaysNeedsInputGradient = false);

    /// <summary>The products of a layer called once in the model, from its first call's shapes.</summary>
    internal static IEnumerable<Product> Layer(Layer layer)
    {
        if (layer.InboundNodes.Count == 0 || layer.InboundNodes[0].Inputs.Count == 0)
        {
            return Array.Empty<Product>();
        }

        var node = layer.InboundNodes[0];
        return Products(layer, Dims(node.Inputs[0].Shape), Dims(node.Outputs[0].Shape), node.Inputs.Select(i => Dims(i.Shape)).ToArray());
    }

    /// <summary>Per-sample dimensions of a shape (batch left out).</summary>
    internal static int[] Dims(Shape shape) => shape.SampleDims.Select(d => d ?? 1).ToArray();

    /// <summary>The products of a layer for one sample of the given input and output dimensions (batch left out).</summary>
    internal static IEnumerable<Product> Products(Layer layer, int[] input, int[] output, int[][] inputs)
    {
        switch (layer)
        {
            case Conv1D conv:
                // output (steps, filters): each output element is a k·(in/groups) dot product.
                yield return new Product(2.0 * conv.KernelSize * (input[^1] / conv.Groups) * conv.Filters * output[0], true);
                break;
            case LSTM lstm:
                foreach (var product in Lstm(lstm.Units, input[0], input[^1]))
                {
                    yield return product;
                }

                break;
            case Bidirectional { ForwardLayer: LSTM forward, BackwardLayer: LSTM backward }:
                foreach (var product in Lstm(forward.Units, input[0], input[^1]).Concat(Lstm(backward.Units, input[0], input[^1])))
                {
                    yield return product;
                }

                break;
            case Dense dense:
                // Every leading position (a sequence's steps) is one vector-matrix product.
                yield return new Product(2.0 * input.Take(input.Length - 1).Aggregate(1.0, (a, d) => a * d) * input[^1] * dense.Units, true);
                break;
            case Attention:
                // Scores q·kᵀ (Tq x Tv of d-long dot products), then the weighted sum of the values (the same count).
                var query = inputs[0];
                var value = inputs.Length > 1 ? inputs[1] : inputs[0];
                yield return new Product(2 * 2.0 * query[0] * value[0] * query[^1], false);
                break;
            case TimeDistributed wrapper:
                // The wrapped layer once per time step, on the shapes without the time axis.
                var inner = inputs.Select(i => i.Skip(1).ToArray()).ToArray();
                foreach (var product in Products(wrapper.Layer, input.Skip(1).ToArray(), output.Skip(1).ToArray(), inner))
                {
                    yield return product with { Flops = product.Flops * input[0] };
                }

                break;
        }
    }

    /// <summary>
    /// An LSTM over (steps, features): per step the input product x·W (features → 4 units) and the recurrent product
    /// h·U (units → 4 units).
    /// </summary>
    private static IEnumerable<Product> Lstm(int units, int steps, int features)
    {
        yield return new Product(steps * 2.0 * features * 4 * units, true);
        yield return new Product(steps * 2.0 * units * 4 * units, true, AlwaysNeedsInputGradient: true);
    }
}
