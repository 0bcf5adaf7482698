using KerasStyle.Training.Losses;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Training.Losses;

/// <summary>
/// Keras 3.16's keras/src/losses/loss_test.py cases on the base <see cref="Loss"/>, ported with its
/// <c>ExampleLoss</c> ((y_true - y_pred)², no reduction of its own): reductions, the output's mask, sample weights,
/// both together (rank 1 and rank 2), and the rank adjustment of the mask, the weights and the targets.
/// </summary>
public class KerasLossTestCasesTests
{
    private static readonly float[] YTrue = { 1f, 0f, 1f, 0f };
    private static readonly float[] YPred = { 0.1f, 0.2f, 0.3f, 0.4f };
    private static readonly float[] Weights = { 0.4f, 0.3f, 0.2f, 0.1f };
    private static readonly bool[] Mask = { true, false, true, true };

    /// <summary>Masked weighted sum over the 3 unmasked entries, as loss_test.py computes it.</summary>
    private static readonly double MaskedWeighted = ((0.4 * 0.81) + (0.2 * 0.49) + (0.1 * 0.16)) / 3;

    [Test]
    public void Reduction_NoneSumAndSumOverBatchSize_AndABadOneIsRefused()
    {
        // test_reduction.
        using var scope = NewDisposeScope();
        var squares = YTrue.Zip(YPred, (t, p) => (double)(t - p) * (t - p)).ToArray();
        Assert.That(new ExampleLoss(null).Invoke(tensor(YTrue), tensor(YPred)).data<float>().ToArray(), Is.EqualTo(squares).Within(1e-6));
        Assert.That(new ExampleLoss("sum").Invoke(YTrue, YPred), Is.EqualTo(squares.Sum()).Within(1e-6));
        Assert.That(new ExampleLoss("sum_over_batch_size").Invoke(YTrue, YPred), Is.EqualTo(squares.Sum() / 4).Within(1e-6));
        Assert.That(() => new ExampleLoss("abc"), Throws.ArgumentException.With.Message.Contains("unknown reduction 'abc'"));
    }

    [Test]
    public void Mask_AveragesOverTheUnmaskedEntries_AndAllMaskedGivesZeroNotNaN()
    {
        // test_mask.
        using var scope = NewDisposeScope();
        var loss = new ExampleLoss();
        Assert.That(loss.Invoke(tensor(YTrue), tensor(YPred), null, tensor(Mask)).item<float>(), Is.EqualTo((0.81 + 0.49 + 0.16) / 3).Within(1e-6));
        Assert.That(loss.Invoke(tensor(YTrue), tensor(YPred), null, tensor(new bool[4])).item<float>(), Is.EqualTo(0));
    }

    [Test]
    public void SampleWeight_WeighsEachEntry_AndAllZeroWeightsGiveZeroNotNaN()
    {
        // test_sample_weight.
        var loss = new ExampleLoss();
        Assert.That(loss.Invoke(YTrue, YPred, Weights), Is.EqualTo(((0.4 * 0.81) + (0.3 * 0.04) + (0.2 * 0.49) + (0.1 * 0.16)) / 4).Within(1e-6));
        Assert.That(loss.Invoke(YTrue, YPred, new float[4]), Is.EqualTo(0));
    }

    [Test]
    public void MaskAndSampleWeight_RankOneAndTheSameRowsTwiceAtRankTwo_GiveTheSameLoss()
    {
        // test_mask_and_sample_weight and test_mask_and_sample_weight_rank2.
        using var scope = NewDisposeScope();
        var loss = new ExampleLoss();
        var rank1 = loss.Invoke(tensor(YTrue), tensor(YPred), tensor(Weights), tensor(Mask)).item<float>();
        Assert.That(rank1, Is.EqualTo(MaskedWeighted).Within(1e-6));
        Tensor Twice(Tensor t) => t.unsqueeze(0).tile(new long[] { 2, 1 });
        var rank2 = loss.Invoke(Twice(tensor(YTrue)), Twice(tensor(YPred)), Twice(tensor(Weights)), Twice(tensor(Mask))).item<float>();
        Assert.That(rank2, Is.EqualTo(rank1).Within(1e-6));
    }

    [TestCase("mask")]
    [TestCase("sample_weight")]
    [TestCase("ys")]
    public void RankAdjustment_ASizeOneAxisMoreOnMaskWeightsOrTargets_IsMatchedAsKeras(string uprank)
    {
        // test_rank_adjustment.
        using var scope = NewDisposeScope();
        var (y, p, w, m) = (tensor(YTrue), tensor(YPred), tensor(Weights), tensor(Mask));
        switch (uprank)
        {
            case "mask":
                m = m.unsqueeze(-1);
                break;
            case "sample_weight":
                w = w.unsqueeze(-1);
                break;
            default:
                (y, p) = (y.unsqueeze(-1), p.unsqueeze(-1));
                break;
        }

        Assert.That(new ExampleLoss().Invoke(y, p, w, m).item<float>(), Is.EqualTo(MaskedWeighted).Within(1e-6));
    }

    private sealed class ExampleLoss(string? reduction = "sum_over_batch_size") : Loss(reduction)
    {
        protected override Tensor Call(Tensor yTrue, Tensor yPred) => yTrue.sub(yPred).square();
    }
}
