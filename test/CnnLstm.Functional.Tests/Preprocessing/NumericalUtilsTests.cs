using System.Text.Json.Nodes;
using KerasStyle.Preprocessing;
using KerasStyle.Tests.Datasets;

namespace KerasStyle.Tests.Preprocessing;

/// <summary>ToCategorical against Keras 3.16's <c>to_categorical</c> (fixture) and its numerical_utils_test.py cases.</summary>
public class NumericalUtilsTests
{
    private static IEnumerable<TestCaseData> KerasCases() =>
        DataUtilsFixture.Get("to_categorical").AsArray().Select((c, i) => new TestCaseData(i).SetName($"ToCategorical_MatchesKeras_Case{i}_{c!["x"]!.ToJsonString().Replace(',', ' ')}_{c["num_classes"]?.ToJsonString() ?? "None"}"));

    [TestCaseSource(nameof(KerasCases))]
    public void ToCategorical_MatchesKeras(int index)
    {
        var c = DataUtilsFixture.Get("to_categorical")[index]!;
        int? numClasses = c["num_classes"]?.GetValue<int>();

        var y = c["x"] is JsonArray ? NumericalUtils.ToCategorical(ToArray(c["x"]!), numClasses) : NumericalUtils.ToCategorical(c["x"]!.GetValue<int>(), numClasses);

        var shape = c["shape"]!.AsArray().Select(v => v!.GetValue<int>()).ToArray();
        Assert.That(Enumerable.Range(0, y.Rank).Select(y.GetLength), Is.EqualTo(shape));
        Assert.That(y.Cast<float>().Select(v => (double)v), Is.EqualTo(Flatten(c["y"]!)));
    }

    [TestCase(new[] { 1 }, new[] { 1, 5 })]
    [TestCase(new[] { 3 }, new[] { 3, 5 })]
    [TestCase(new[] { 4, 3 }, new[] { 4, 3, 5 })]
    [TestCase(new[] { 5, 4, 3 }, new[] { 5, 4, 3, 5 })]
    [TestCase(new[] { 3, 1 }, new[] { 3, 5 })]
    [TestCase(new[] { 3, 2, 1 }, new[] { 3, 2, 5 })]
    public void ToCategorical_KerasShapeCases_OneOnePerRowAndArgmaxGivesTheIds(int[] shape, int[] expected)
    {
        // numerical_utils_test.py test_to_categorical: random ids in [0, 5) of each shape.
        var random = new Random(7);
        var ids = Array.CreateInstance(typeof(long), shape);
        var flat = Enumerable.Range(0, ids.Length).Select(_ => (long)random.Next(5)).ToArray();
        Buffer.BlockCopy(flat, 0, ids, 0, flat.Length * sizeof(long));

        var y = NumericalUtils.ToCategorical(ids, 5);

        Assert.That(Enumerable.Range(0, y.Rank).Select(y.GetLength), Is.EqualTo(expected));
        var values = y.Cast<float>().ToArray();
        for (var row = 0; row < flat.Length; row++)
        {
            var oneHot = values.Skip(row * 5).Take(5).ToArray();
            Assert.That(oneHot.Sum(), Is.EqualTo(1f));
            Assert.That(Array.IndexOf(oneHot, 1f), Is.EqualTo(flat[row]));
        }
    }

    [Test]
    public void ToCategorical_WithoutNumClasses_InfersLargestIdPlusOne()
    {
        var y = NumericalUtils.ToCategorical(new[] { 0, 2, 5 });

        Assert.That(new[] { y.GetLength(0), y.GetLength(1) }, Is.EqualTo(new[] { 3, 6 }));
        Assert.That(y[2, 5], Is.EqualTo(1f));
    }

    [Test]
    public void ToCategorical_OfOneId_IsAVector()
    {
        Assert.That(NumericalUtils.ToCategorical(2, 4), Is.EqualTo(new[] { 0f, 0f, 1f, 0f }));
    }

    [Test]
    public void ToCategorical_WholeFloatIds_AreAccepted()
    {
        var y = (float[,])NumericalUtils.ToCategorical(new[] { 1f, 0f }, 2);

        Assert.That(y, Is.EqualTo(new float[,] { { 0, 1 }, { 1, 0 } }));
    }

    [Test]
    public void ToCategorical_IdAtLeastNumClasses_IsRefusedAsKerasIndexError()
    {
        Assert.That(DataUtilsFixture.Get("to_categorical_errors")["id_too_large"]!["type"]!.GetValue<string>(), Is.EqualTo("IndexError"));

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => NumericalUtils.ToCategorical(new[] { 0, 3 }, 3));

        Assert.That(error!.Message, Does.Contain("id 3").And.Contain("numClasses 3"));
    }

    [Test]
    public void ToCategorical_EmptyWithoutNumClasses_IsRefusedAsKeras()
    {
        Assert.That(DataUtilsFixture.Get("to_categorical_errors")["empty_inferred"]!["message"]!.GetValue<string>(), Does.Contain("zero-size array"));

        var error = Assert.Throws<ArgumentException>(() => NumericalUtils.ToCategorical(Array.Empty<int>()));

        Assert.That(error!.Message, Does.Contain("empty"));
    }

    [TestCase(-1)]
    public void ToCategorical_NegativeId_IsRefused(int id)
    {
        var error = Assert.Throws<ArgumentException>(() => NumericalUtils.ToCategorical(new[] { 0, id }, 3));

        Assert.That(error!.Message, Does.Contain("negative"));
    }

    [Test]
    public void ToCategorical_FractionalOrNonNumericIds_AreRefused()
    {
        Assert.That(Assert.Throws<ArgumentException>(() => NumericalUtils.ToCategorical(new[] { 0.5 }, 3))!.Message, Does.Contain("whole number"));
        Assert.That(Assert.Throws<ArgumentException>(() => NumericalUtils.ToCategorical(new[] { "a" }, 3))!.Message, Does.Contain("String"));
        Assert.That(Assert.Throws<ArgumentException>(() => NumericalUtils.ToCategorical(Array.Empty<string>(), 3))!.Message, Does.Contain("String"));
        Assert.Throws<ArgumentOutOfRangeException>(() => NumericalUtils.ToCategorical(new[] { 0 }, -2));
    }

    private static Array ToArray(JsonNode x)
    {
        var shape = new List<int>();
        var node = x;
        while (node is JsonArray a)
        {
            shape.Add(a.Count);
            node = a.Count > 0 ? a[0] : null;
        }

        var values = Flatten(x).Select(v => (long)v).ToArray();
        var result = Array.CreateInstance(typeof(long), shape.ToArray());
        Buffer.BlockCopy(values, 0, result, 0, values.Length * sizeof(long));
        return result;
    }

    private static IEnumerable<double> Flatten(JsonNode node) =>
        node is JsonArray a ? a.SelectMany(n => Flatten(n!)) : new[] { node.GetValue<double>() };
}
