using KerasStyle.Models;
using KerasStyle.Training;
using KerasStyle.Training.Losses;
using KerasStyle.Training.Optimizers;
using TorchSharp;

namespace KerasStyle.Tests.Training;

// docs/training.md shows this class verbatim, between the markers below (TrainingLoopFromScratchTests checks they agree).
// doc:begin
/// <summary>
/// Keras' guide "Writing a training loop from scratch" (its torch version) in C#. Per batch: the forward pass in
/// training mode under autograd, the loss, the gradient of every trainable weight, one optimizer update and the
/// training metric. Per epoch: the metric's value and reset, then a validation pass in inference mode with its own
/// metric.
/// </summary>
public static class TrainingLoopFromScratch
{
    /// <returns>Per epoch: the mean training loss, the training metric and the validation metric.</returns>
    public static List<(double Loss, double Metric, double ValMetric)> Train(
        Model model, Optimizer optimizer, Loss lossFn, Metric trainMetric, Metric valMetric,
        torch.Tensor x, torch.Tensor y, torch.Tensor xVal, torch.Tensor yVal, int epochs, int batchSize)
    {
        var history = new List<(double, double, double)>();
        for (var epoch = 0; epoch < epochs; epoch++)
        {
            var (lossSum, steps) = (0.0, 0);
            for (long start = 0; start < x.shape[0]; start += batchSize)
            {
                // Every tensor of the step (the batch, the outputs, the loss, the gradients) is released at its end.
                using var scope = torch.NewDisposeScope();
                var length = Math.Min(batchSize, x.shape[0] - start);
                var (inputs, targets) = (x.narrow(0, start, length), y.narrow(0, start, length));

                // Forward pass, recorded by autograd.
                var logits = model.Invoke(inputs, training: true);
                var loss = lossFn.Invoke(targets, logits);

                // Backward pass: forget the last step's gradients (Keras' model.zero_grad()), then let autograd
                // fill each trainable weight's, and update the weights.
                var trainableWeights = model.TrainableWeights;
                foreach (var weight in trainableWeights)
                {
                    weight.Variable.grad = null;
                }

                loss.backward();
                optimizer.ApplyGradients(trainableWeights.Select(w => (w.Variable.grad, w)));

                trainMetric.UpdateState(targets, logits);
                lossSum += loss.item<float>();
                steps++;
            }

            // The training metric over the epoch, then reset for the next one.
            var trainValue = trainMetric.Result();
            trainMetric.ResetState();

            // A validation pass at the end of each epoch: inference mode, no gradients.
            using (torch.no_grad())
            {
                for (long start = 0; start < xVal.shape[0]; start += batchSize)
                {
                    using var scope = torch.NewDisposeScope();
                    var length = Math.Min(batchSize, xVal.shape[0] - start);
                    var valLogits = model.Invoke(xVal.narrow(0, start, length), training: false);
                    valMetric.UpdateState(yVal.narrow(0, start, length), valLogits);
                }
            }

            var valValue = valMetric.Result();
            valMetric.ResetState();
            history.Add((lossSum / steps, trainValue, valValue));
        }

        return history;
    }
}
// doc:end
