using KerasStyle.Models;

namespace KerasStyle.Tests.Models;

public class CnnLstmModelsTests
{
    [SetUp]
    public void FreshNames() => Backend.ClearSession();

    [Test]
    public void Regression_Summary_MatchesSeedByteForByte()
    {
        using var model = CnnLstmModels.Regression();
        var expected = File.ReadAllText(Path.Combine(TestPaths.SharedNotes, "regression-summary.expected.txt"));
        Assert.That(model.SummaryText(), Is.EqualTo(expected));
    }

    [Test]
    public void Sentiment_Summary_MatchesKeras2ByteForByte()
    {
        using var model = CnnLstmModels.Sentiment();
        var expected = File.ReadAllText(Path.Combine(TestPaths.SharedNotes, "sentiment-summary.keras2.txt"));
        Assert.That(model.SummaryText(), Is.EqualTo(expected));
    }

    [Test]
    public void Sentiment_ParameterCounts_AreKeras()
    {
        using var model = CnnLstmModels.Sentiment();
        Assert.That(model.Layers.Select(l => l.CountParams()), Is.EqualTo(new long[] { 2_560_000, 0, 41_024, 0, 37_800, 71, 0 }));
        Assert.That(model.CountParams(), Is.EqualTo(2_638_895));
    }

    [Test]
    public void SentimentFromFeatures_ParameterCount_Is78895()
    {
        using var model = CnnLstmModels.SentimentFromFeatures();
        Assert.That(model.CountParams(), Is.EqualTo(78_895));
    }

    [Test]
    public void Regression_ParameterCounts_AreKeras()
    {
        using var model = CnnLstmModels.Regression();
        Assert.That(model.Layers.Select(l => l.CountParams()), Is.EqualTo(new long[] { 0, 0, 40, 0, 22_680, 71 }));
        Assert.That(model.CountParams(), Is.EqualTo(22_791));
    }

    [Test]
    public void Sentiment_Predict_ReturnsOneProbabilityPerReview()
    {
        using var model = CnnLstmModels.Sentiment();
        var ids = new int[7, 100];
        ids[3, 50] = 19_999;
        var p = (float[,])model.Predict(ids, batchSize: 3);
        Assert.That(p.GetLength(0), Is.EqualTo(7));
        Assert.That(p.GetLength(1), Is.EqualTo(1));
        Assert.That(p.Cast<float>(), Has.All.InRange(0f, 1f));
    }

    [Test]
    public void Regression_Predict_IsDeterministicWithDropoutOff()
    {
        using var model = CnnLstmModels.Regression();
        var x = new float[5, 1, 3];
        for (var i = 0; i < 5; i++)
        {
            x[i, 0, 0] = i;
            x[i, 0, 1] = i * 0.5f;
            x[i, 0, 2] = -i;
        }

        var first = (float[,])model.Predict(x);
        var again = (float[,])model.Predict(x);
        var batched = (float[,])model.Predict(x, batchSize: 2);
        Assert.That(again, Is.EqualTo(first));
        // Other batch sizes take other BLAS paths: equal up to float rounding.
        Assert.That(batched, Is.EqualTo(first).Within(1e-6f));
        Assert.That(first.GetLength(0), Is.EqualTo(5));
    }
}
