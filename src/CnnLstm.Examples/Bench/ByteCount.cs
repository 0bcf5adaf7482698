using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;

namespace KerasStyle.Examples.Bench;

/// <summary>
/// Counted memory traffic of a training step or an inference batch (float32, 4 bytes a value): what a step must
/// at least read and write once, not what a given implementation moves. Two parts:
/// <list type="bullet">
/// <item>per step, the weights and the optimizer's state: a trainable weight is read forward (4 B), read again for
/// the input gradient and its gradient written backward (8 B), and Adam reads the weight, the gradient, m and v and
/// writes the weight, m and v (28 B): 40 B a parameter. An Embedding's table is read and its gradient written only
/// at the looked-up rows (counted per sample below), but Keras' Adam still moves m, v and the weight of every row
/// (24 B a parameter) and reads the looked-up rows' gradient (4 B a looked-up value). Inference reads each weight once
/// (4 B), the Embedding only its looked-up rows. Non-trainable weights are read once.</item>
/// <item>per sample, the activations: every layer's output values (an LSTM: 4 gates, cell and hidden state per
/// step; Attention: its output and the Tq x Tv scores and weights) are written and read once forward (8 B); in
/// training also read again backward where they were saved, and their gradient written and read once (12 B more:
/// 20 B a value). The model's inputs are read once (4 B a value, 8 B a token id).</item>
/// </list>
/// </summary>
/// <remarks>
/// Whether activations reach main memory depends on the caches: a batch of the seed's activations (about 1.5 MB per
/// layer) can stay in L2/L3, so the floor that divides them by the main-memory bandwidth is pessimistic there; the
/// bench prints the floor with and without them. Dropout masks, the loss and metrics are not counted.
/// </remarks>
internal static class ByteCount
{
    /// <summary>Bytes of a training step, split into the per-step part (weights, gradients, optimizer state) and the per-sample part.</summary>
    public sealed record Traffic(double PerStep, double PerSample)
    {
        /// <summary>Total bytes of a step of <paramref name="batchSize"/> samples.</summary>
        public double Step(int batchSize) => PerStep + (PerSample * batchSize);

        /// <summary>The per-sample part split into activations and the rest (Embedding rows, inputs).</summary>
        public double Activations { get; init; }
    }

    /// <summary>Per-parameter bytes of a dense trainable weight in a training step with Adam: forward read, backward read and gradient write, Adam's 4 reads and 3 writes.</summary>
    public const double TrainableParameterBytes = 4 + 8 + 28;

    /// <summary>Per-parameter bytes of an Embedding's table in a training step with Adam: m, v and the weight read and written for every row.</summary>
    public const double EmbeddingParameterBytes = 24;

    /// <summary>Bytes a training step moves.</summary>
    public static Traffic Training(Model model) => Count(model, training: true);

    /// <summary>Bytes an inference batch moves.</summary>
    public static Traffic Inference(Model model) => Count(model, training: false);

    private static Traffic Count(Model model, bool training)
    {
        double perStep = 0;
        double activations = 0;
        // The model's inputs: read once.
        double perSample = model.Inputs.Sum(i => i.Shape.SampleElements * (i.DType == DType.Float32 ? 4 : 8));
        foreach (var layer in model.Layers)
        {
            foreach (var weight in layer.Weights.Distinct())
            {
                if (layer is Embedding)
                {
                    continue;
                }

                perStep += weight.Count * (training && weight.Trainable ? TrainableParameterBytes : 4);
            }

            if (layer.InboundNodes.Count == 0)
            {
                continue;
            }

            var node = layer.InboundNodes[0];
            if (node.Inputs.Count == 0)
            {
                continue;
            }

            if (layer is Embedding embedding)
            {
                var looked = node.Inputs[0].Shape.SampleElements * embedding.OutputDim;
                var trainable = training && layer.TrainableWeights.Count > 0;
                perStep += layer.CountParams() * (trainable ? EmbeddingParameterBytes : 0);
                // The looked-up rows read forward; training writes their gradient and Adam reads it.
                perSample += looked * (trainable ? 4 + 8 : 4);
            }

            var values = ActivationValues(layer, FlopCount.Dims(node.Inputs[0].Shape), node.Outputs.Sum(o => o.Shape.SampleElements), node.Inputs.Select(i => FlopCount.Dims(i.Shape)).ToArray());
            var bytes = values * (training ? 20 : 8);
            perSample += bytes;
            activations += bytes;
        }

        return new Traffic(perStep, perSample) { Activations = activations };
    }

    /// <summary>The activation values a layer produces per sample.</summary>
    internal static double ActivationValues(Layer layer, int[] input, double outputValues, int[][] inputs) => layer switch
    {
        // Per step the 4 gates, the cell state and the hidden state.
        LSTM lstm => input[0] * 6.0 * lstm.Units,
        Bidirectional { ForwardLayer: LSTM forward, BackwardLayer: LSTM backward } => input[0] * 6.0 * (forward.Units + backward.Units) + outputValues,
        // The scores and their softmax (Tq x Tv each), then the output.
        Attention => (2.0 * inputs[0][0] * (inputs.Length > 1 ? inputs[1][0] : inputs[0][0])) + outputValues,
        _ => outputValues,
    };

    /// <summary>
    /// The time a step cannot beat: its counted FLOPs at the peak FLOP rate plus its counted bytes at the memory
    /// bandwidth (as if computing and moving data never overlapped; with full overlap the bound is the larger of
    /// the two, which the docs discuss).
    /// </summary>
    public static double FloorSeconds(double flops, double bytes, double peakFlopsPerSecond, double bytesPerSecond) =>
        (flops / peakFlopsPerSecond) + (bytes / bytesPerSecond);
}
