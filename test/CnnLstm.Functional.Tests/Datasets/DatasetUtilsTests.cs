using KerasStyle.Datasets;
using KerasStyle.Training;
using KerasStyle.Training.Data;

namespace KerasStyle.Tests.Datasets;

/// <summary>SplitDataset: Keras 3.16's size rules and messages (fixture of <c>_rescale_dataset_split_sizes</c>), the
/// tf.data path's order (first left, last right; Python's random.shuffle, fixture), arrays and data sources.</summary>
public class DatasetUtilsTests
{
    private static IEnumerable<TestCaseData> SizeCases() =>
        DataUtilsFixture.Get("split_sizes").AsArray()
            .Where(c => c!["left"]?.GetValueKind() != System.Text.Json.JsonValueKind.String)
            .Select(c => new TestCaseData(c!.ToJsonString()).SetName($"RescaleSizes_MatchesKeras({c["left"]?.ToJsonString() ?? "None"}, {c["right"]?.ToJsonString() ?? "None"}, {c["total"]})"));

    [TestCaseSource(nameof(SizeCases))]
    public void RescaleSizes_MatchesKeras(string json)
    {
        var c = System.Text.Json.Nodes.JsonNode.Parse(json)!;
        var left = Size(c["left"]);
        var right = Size(c["right"]);
        var total = c["total"]!.GetValue<int>();

        if (c["result"] is { } result)
        {
            Assert.That(DatasetUtils.RescaleSizes(left, right, total), Is.EqualTo((result[0]!.GetValue<int>(), result[1]!.GetValue<int>())));
        }
        else
        {
            var keras = c["error"]!["message"]!.GetValue<string>();
            var error = Assert.Throws<ArgumentException>(() => DatasetUtils.RescaleSizes(left, right, total));
            if (c["error"]!["type"]!.GetValue<string>() == "TypeError")
            {
                // Keras' None - int TypeError when both are None is caught earlier by split_dataset's own check.
                Assert.That(error!.Message, Does.Contain("At least one of the `left_size` or `right_size` must be specified"));
            }
            else
            {
                // Same text; Keras glues two sentences without a space in two messages ("...11.0and", "=3.Resulting").
                Assert.That(Normalize(error!.Message), Does.Contain(Normalize(keras)));
            }
        }
    }

    [TestCase(0, 10)]
    [TestCase(1337, 16)]
    [TestCase(123, 6)]
    [TestCase(42, 1000)]
    public void PythonShuffle_MatchesPythonsRandomShuffle(int seed, int n)
    {
        var expected = DataUtilsFixture.Get("shuffles").AsArray().Single(s => s!["seed"]!.GetValue<long>() == seed && s["n"]!.GetValue<int>() == n)!["python"]!.AsArray().Select(v => v!.GetValue<int>());
        var order = Enumerable.Range(0, n).ToArray();

        MersenneTwister.Python(seed).PythonShuffle(order);

        Assert.That(order, Is.EqualTo(expected));
    }

    [TestCase(4294967295L)]
    [TestCase(1099511627781L)]
    [TestCase(-3L)]
    public void PythonShuffle_LargeAndNegativeSeeds_MatchPython(long seed)
    {
        var entry = DataUtilsFixture.Get("shuffles").AsArray().Single(s => s!["seed"]!.GetValue<long>() == seed)!;
        var order = Enumerable.Range(0, entry["n"]!.GetValue<int>()).ToArray();

        MersenneTwister.Python(seed).PythonShuffle(order);

        Assert.That(order, Is.EqualTo(entry["python"]!.AsArray().Select(v => v!.GetValue<int>())));
    }

    [Test]
    public void SplitDataset_Tuple_LeftIsTheFirstAndRightTheLastSamples()
    {
        var x = new float[10, 2];
        var y = new int[10];
        for (var i = 0; i < 10; i++)
        {
            x[i, 0] = i;
            x[i, 1] = -i;
            y[i] = 100 + i;
        }

        var (left, right) = DatasetUtils.SplitDataset(new Array[] { x, y }, leftSize: 3, rightSize: 0.5);

        Assert.That(left[0], Is.EqualTo(new float[,] { { 0, 0 }, { 1, -1 }, { 2, -2 } }));
        Assert.That(left[1], Is.EqualTo(new[] { 100, 101, 102 }));
        Assert.That(right[1], Is.EqualTo(new[] { 105, 106, 107, 108, 109 }), "the last 5; samples 3 and 4 are in neither part");
        Assert.That(((float[,])right[0])[0, 0], Is.EqualTo(5f));
    }

    [Test]
    public void SplitDataset_Fraction_UsesTheComplement()
    {
        var (left, right) = DatasetUtils.SplitDataset(Enumerable.Range(0, 1000).ToArray(), leftSize: 0.8);

        Assert.That(left.Length, Is.EqualTo(800));
        Assert.That(right.Length, Is.EqualTo(200));
        Assert.That(((int[])right)[0], Is.EqualTo(800));
    }

    [Test]
    public void SplitDataset_Shuffled_IsPythonsRandomShuffleWithTheSeedAndKeepsRowsTogether()
    {
        var expected = DataUtilsFixture.Get("shuffles").AsArray().Single(s => s!["seed"]!.GetValue<long>() == 1337)!["python"]!.AsArray().Select(v => v!.GetValue<int>()).ToArray();
        var ids = Enumerable.Range(0, 16).ToArray();
        var doubled = ids.Select(i => i * 2L).ToArray();

        var (left, right) = DatasetUtils.SplitDataset(new Array[] { ids, doubled }, rightSize: 4, shuffle: true, seed: 1337);

        Assert.That(left[0], Is.EqualTo(expected[..12]));
        Assert.That(right[0], Is.EqualTo(expected[12..]));
        Assert.That(left[1], Is.EqualTo(expected[..12].Select(i => i * 2L)));
        Assert.That(((int[])left[0]).Concat((int[])right[0]).Order(), Is.EqualTo(ids), "a permutation");
    }

    [Test]
    public void SplitDataset_BadTuples_AreRefusedWithKerasMessages()
    {
        Assert.That(Assert.Throws<ArgumentException>(() => DatasetUtils.SplitDataset(Array.Empty<Array>(), 0.5))!.Message, Does.Contain("Received an empty list dataset"));
        Assert.That(Assert.Throws<ArgumentException>(() => DatasetUtils.SplitDataset(new Array[] { new int[4], new int[5] }, 0.5))!.Message, Does.Contain("different lengths").And.Contain("index 1"));
        Assert.That(Assert.Throws<ArgumentException>(() => DatasetUtils.SplitDataset(new int[4]))!.Message, Does.Contain("At least one of the `left_size` or `right_size`"));
        Assert.That(Assert.Throws<ArgumentException>(() => DatasetUtils.SplitDataset(new int[0], 0.5))!.Message, Does.Contain("empty dataset"));
        Assert.That(Assert.Throws<ArgumentException>(() => DatasetUtils.SplitDataset(new int[4], leftSize: 1.0))!.Message, Does.Contain("left_size=1.0"));
    }

    [Test]
    public void SplitDataset_DataSource_UnbatchesSplitsAndRebatchesWithTheSourceBatchSize()
    {
        var x = new float[11, 2];
        var y = new float[11];
        var w = new float[11];
        for (var i = 0; i < 11; i++)
        {
            x[i, 0] = i;
            y[i] = i * 10;
            w[i] = i / 10f;
        }

        var source = new ArrayDataSource(new Array[] { x }, new Array[] { y }, w, batchSize: 4);

        var (left, right) = DatasetUtils.SplitDataset(source, leftSize: 7);

        Assert.That((left.SampleCount, left.BatchSize, left.Count), Is.EqualTo((7, 4, 2)));
        Assert.That((right.SampleCount, right.Count), Is.EqualTo((4, 1)));
        var last = left.GetBatch(1);
        Assert.That(last.X.Arrays![0], Is.EqualTo(new float[,] { { 4, 0 }, { 5, 0 }, { 6, 0 } }));
        Assert.That(last.Y!.Arrays![0], Is.EqualTo(new[] { 40f, 50f, 60f }));
        Assert.That(last.SampleWeight, Is.EqualTo(new[] { 0.4f, 0.5f, 0.6f }));
        Assert.That(right.GetBatch(0).Y!.Arrays![0], Is.EqualTo(new[] { 70f, 80f, 90f, 100f }));
    }

    [Test]
    public void SplitDataset_DataSourceOfTensors_ReadsThemIntoArrays()
    {
        using var a = TorchSharp.torch.arange(6, dtype: TorchSharp.torch.ScalarType.Float32).reshape(3, 2);
        using var b = TorchSharp.torch.arange(6, 10, dtype: TorchSharp.torch.ScalarType.Float32).reshape(2, 2);
        var source = DataSourceOf(new DataBatch(a), new DataBatch(b));

        var (left, right) = DatasetUtils.SplitDataset(source, rightSize: 1);

        Assert.That(left.X[0], Is.EqualTo(new float[,] { { 0, 1 }, { 2, 3 }, { 4, 5 }, { 6, 7 } }));
        Assert.That(right.X[0], Is.EqualTo(new float[,] { { 8, 9 } }));
        Assert.That(left.Y, Is.Null);
        Assert.That(left.BatchSize, Is.EqualTo(3));
    }

    [Test]
    public void SplitDataset_DataSourceWithMismatchedSamples_IsRefusedAsKeras()
    {
        var source = DataSourceOf(new DataBatch(new float[2, 3]), new DataBatch(new float[2, 4]));

        var error = Assert.Throws<ArgumentException>(() => DatasetUtils.SplitDataset(source, 0.5));

        Assert.That(error!.Message, Does.Contain("All `dataset` samples must have same shape").And.Contain("(3,)").And.Contain("(4,)"));
        Assert.That(Assert.Throws<ArgumentException>(() => DatasetUtils.SplitDataset(DataSource.FromEnumerable([]), 0.5))!.Message, Does.Contain("no known Count"));
        Assert.That(Assert.Throws<ArgumentException>(() => DatasetUtils.SplitDataset(DataSourceOfMixed(), 0.5))!.Message, Does.Contain("batch 1 has no targets"));
    }

    [Test]
    public void SplitDataset_Sources_TrainAModel()
    {
        var (x, y) = TinyModels.Blobs(40);
        var source = new ArrayDataSource(new Array[] { x }, new Array[] { y }, batchSize: 8);
        var (train, validation) = DatasetUtils.SplitDataset(source, 0.75, shuffle: true, seed: 3);
        using var model = TinyModels.Mlp();
        model.Compile("adam", "binary_crossentropy");

        var history = model.Fit(train, epochs: 2, verbose: 0, validationData: validation);

        Assert.That(history.Values["val_loss"], Has.Count.EqualTo(2));
        Assert.That((train.SampleCount, validation.SampleCount), Is.EqualTo((30, 10)));
    }

    private static DataSource DataSourceOfMixed() => DataSourceOf(new DataBatch(new float[2, 3], new float[2]), new DataBatch(new float[2, 3]));

    private static DataSource DataSourceOf(params DataBatch[] batches) => new ListSource(batches);

    private static SplitSize? Size(System.Text.Json.Nodes.JsonNode? node) =>
        node is null ? null : node.ToJsonString().Contains('.') ? SplitSize.FromFraction(node.GetValue<double>()) : SplitSize.FromCount(node.GetValue<int>());

    private static string Normalize(string message) => message.Replace("SplitDataset: ", string.Empty).Replace(" ", string.Empty);

    private sealed class ListSource(DataBatch[] batches) : DataSource
    {
        public override int? Count => batches.Length;

        public override DataBatch GetBatch(int index) => batches[index];
    }
}
