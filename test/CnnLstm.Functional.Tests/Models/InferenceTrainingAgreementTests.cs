using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Models;

/// <summary>
/// libtorch and oneDNN pick different kernels with autograd off (Predict, Evaluate, validation) and on (Fit), and a
/// kernel can be wrong on one CPU and right on another (issue 10). For every layer and both seed models, the
/// inference-mode output must equal a forward with autograd on and dropout off, same weights and input, to 1e-6.
/// </summary>
public class InferenceTrainingAgreementTests
{
    public static IEnumerable<TestCaseData> Models()
    {
        TestCaseData Case(string name, Func<Model> build, Func<int, Tensor> input) => new TestCaseData(build, input).SetName($"Predict_Equals_AutogradForwardWithDropoutOff_{name}");
        Tensor Sequence(int batch, int steps, int channels) => tensor(TestData.Sequence(batch, steps, channels, seed: 5));
        Model Chain(int steps, int channels, params Layer[] layers)
        {
            var input = new Input(new[] { steps, channels });
            var x = (KerasTensor)input;
            foreach (var layer in layers)
            {
                x = layer.Call(x);
            }

            return new Model(input, x);
        }

        yield return Case("Embedding", () =>
        {
            var input = new Input(new[] { 10 }, DType.Int64);
            return new Model(input, new Embedding(50, 8).Call(input));
        }, batch => randint(0, 50, new long[] { batch, 10 }, ScalarType.Int64));
        yield return Case("Dropout", () => Chain(6, 4, new Dropout(0.5)), b => Sequence(b, 6, 4));
        yield return Case("Conv1D_Valid", () => Chain(20, 16, new Conv1D(8, 5, activation: "relu")), b => Sequence(b, 20, 16));
        yield return Case("Conv1D_SameStrided", () => Chain(20, 16, new Conv1D(8, 4, strides: 3, padding: "same")), b => Sequence(b, 20, 16));
        yield return Case("Conv1D_CausalDilated", () => Chain(20, 16, new Conv1D(8, 3, padding: "causal", dilationRate: 2)), b => Sequence(b, 20, 16));
        yield return Case("Conv1D_Width1", () => Chain(1, 3, new Conv1D(10, 1)), b => Sequence(b, 1, 3));
        yield return Case("MaxPooling1D_Valid", () => Chain(20, 6, new MaxPooling1D(4)), b => Sequence(b, 20, 6));
        yield return Case("MaxPooling1D_SameStrided", () => Chain(20, 6, new MaxPooling1D(3, strides: 2, padding: "same")), b => Sequence(b, 20, 6));
        yield return Case("MaxPooling1D_Pool1", () => Chain(1, 6, new MaxPooling1D(1)), b => Sequence(b, 1, 6));
        yield return Case("LSTM_Fused", () => Chain(24, 64, new LSTM(70)), b => Sequence(b, 24, 64));
        yield return Case("LSTM_FusedSequencesAndState", () =>
        {
            var input = new Input(new[] { 7, 3 });
            return new Model(new[] { input }, new LSTM(5, returnSequences: true, returnState: true).CallMulti(input));
        }, b => Sequence(b, 7, 3));
        yield return Case("LSTM_HardSigmoidCell", () => Chain(7, 3, new LSTM(5, recurrentActivation: "hard_sigmoid", returnSequences: true)), b => Sequence(b, 7, 3));
        yield return Case("Dense_OnSequence", () => Chain(4, 6, new Dense(3, activation: "tanh")), b => Sequence(b, 4, 6));
        yield return Case("Dense_Softmax", () => Chain(1, 6, new LSTM(4), new Dense(3, activation: "softmax")), b => Sequence(b, 1, 6));
        foreach (var activation in new[] { "relu", "sigmoid", "tanh", "softmax", "elu", "selu", "softplus", "softsign", "hard_sigmoid", "exponential", "linear" })
        {
            yield return Case($"Activation_{activation}", () => Chain(3, 5, new Activation(activation)), b => Sequence(b, 3, 5));
        }

        yield return Case("SeedSentiment", () => CnnLstmModels.Sentiment(), batch => randint(0, 20000, new long[] { batch, 100 }, ScalarType.Int64));
        yield return Case("SeedRegression", () => CnnLstmModels.Regression(), b => Sequence(b, 1, 3));
    }

    [TestCaseSource(nameof(Models))]
    public void Predict_Equals_AutogradForwardWithDropoutOff(Func<Model> build, Func<int, Tensor> input)
    {
        Backend.ClearSession();
        Utils.SetRandomSeed(17);
        using var model = build();
        foreach (var batch in new[] { 1, 5 })
        {
            using var scope = NewDisposeScope();
            var x = input(batch);
            var inference = model.PredictTensors(new[] { x });
            IReadOnlyList<Tensor> noGrad, autograd;
            using (no_grad())
            {
                noGrad = model.Run(new[] { x }, training: false);
            }

            using (enable_grad())
            {
                autograd = model.Run(new[] { x }, training: false);
            }

            for (var o = 0; o < inference.Count; o++)
            {
                Assert.That(inference[o].shape, Is.EqualTo(autograd[o].shape));
                Assert.That((inference[o] - autograd[o].detach()).abs().max().item<float>(), Is.LessThanOrEqualTo(1e-6f), $"batch {batch}, output {o}: inference mode against autograd");
                Assert.That((noGrad[o] - autograd[o].detach()).abs().max().item<float>(), Is.LessThanOrEqualTo(1e-6f), $"batch {batch}, output {o}: no_grad (Evaluate) against autograd");
            }
        }
    }
}
