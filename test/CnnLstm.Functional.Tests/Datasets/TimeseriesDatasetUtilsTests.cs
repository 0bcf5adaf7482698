using KerasStyle.Datasets;
using KerasStyle.Layers;
using KerasStyle.Models;

namespace KerasStyle.Tests.Datasets;

/// <summary>
/// TimeseriesDatasetFromArray against Keras 3.16's timeseries_dataset_utils.py and timeseries_dataset_utils_test.py.
/// Keras builds it with tf.data, which cannot run here (no TensorFlow): the expected windows and targets are computed
/// by hand from its source (window p: rows start + p + k * sampling_rate; target: targets[start + p]).
/// </summary>
public class TimeseriesDatasetUtilsTests
{
    private static int[] Range(int start, int stop, int step = 1) => Enumerable.Range(0, (stop - start + step - 1) / step).Select(i => start + (i * step)).ToArray();

    private static int[] Row(Array a, int row) => Enumerable.Range(0, a.GetLength(1)).Select(k => (int)a.GetValue(row, k)!).ToArray();

    [Test]
    public void Basics_KerasTest_19BatchesOf5Then2_WindowsAndTargetsAligned()
    {
        var data = Range(0, 100);
        var targets = data.Select(v => v * 2).ToArray();

        var ds = TimeseriesDatasetUtils.TimeseriesDatasetFromArray(data, targets, sequenceLength: 9, batchSize: 5);

        Assert.That(ds.Count, Is.EqualTo(19));
        for (var i = 0; i < 19; i++)
        {
            var batch = ds.GetBatch(i);
            var x = batch.X.Arrays![0];
            var y = (int[])batch.Y!.Arrays![0];
            Assert.That(x.GetLength(0), Is.EqualTo(i < 18 ? 5 : 2));
            Assert.That(x.GetLength(1), Is.EqualTo(9));
            for (var j = 0; j < x.GetLength(0); j++)
            {
                Assert.That(Row(x, j), Is.EqualTo(Range((i * 5) + j, (i * 5) + j + 9)));
                Assert.That(y[j], Is.EqualTo(Row(x, j)[0] * 2));
            }
        }
    }

    [Test]
    public void Regression_KerasTest_TargetIsTheValueAfterTheWindow()
    {
        var data = Range(0, 10);

        var ds = TimeseriesDatasetUtils.TimeseriesDatasetFromArray(data, data[3..], sequenceLength: 3, batchSize: 1);

        Assert.That(ds.Count, Is.EqualTo(7));
        for (var i = 0; i < 7; i++)
        {
            var batch = ds.GetBatch(i);
            Assert.That(Row(batch.X.Arrays![0], 0), Is.EqualTo(data[i..(i + 3)]));
            Assert.That(((int[])batch.Y!.Arrays![0])[0], Is.EqualTo(data[i + 3]));
        }
    }

    [Test]
    public void NoTargets_KerasTest_9BatchesOfInputsOnly()
    {
        var ds = TimeseriesDatasetUtils.TimeseriesDatasetFromArray(Range(0, 50), null, sequenceLength: 10, batchSize: 5);

        Assert.That(ds.Count, Is.EqualTo(9));
        Assert.That(ds.GetBatch(8).Y, Is.Null);
        Assert.That(ds.GetBatch(8).X.Arrays![0].GetLength(0), Is.EqualTo(1));
        Assert.That(Row(ds.GetBatch(8).X.Arrays![0], 0), Is.EqualTo(Range(40, 50)));
    }

    [Test]
    public void SamplingRate_KerasTest_16BatchesOf5Then4_EverySecondRow()
    {
        var data = Range(0, 100);

        var ds = TimeseriesDatasetUtils.TimeseriesDatasetFromArray(data, data.Select(v => v * 2).ToArray(), sequenceLength: 9, batchSize: 5, samplingRate: 2);

        // 100 - 8 * 2 = 84 windows: 16 batches of 5 and one of 4.
        Assert.That(ds.Count, Is.EqualTo(17));
        Assert.That(ds.GetBatch(16).X.Arrays![0].GetLength(0), Is.EqualTo(4));
        for (var i = 0; i < 17; i++)
        {
            var x = ds.GetBatch(i).X.Arrays![0];
            for (var j = 0; j < x.GetLength(0); j++)
            {
                var start = (i * 5) + j;
                Assert.That(Row(x, j), Is.EqualTo(Range(start, start + 18, 2)));
            }
        }
    }

    [Test]
    public void SequenceStride_KerasTest_6BatchesOf5Then1()
    {
        var data = Range(0, 100);

        var ds = TimeseriesDatasetUtils.TimeseriesDatasetFromArray(data, data.Select(v => v * 2).ToArray(), sequenceLength: 9, batchSize: 5, sequenceStride: 3);

        // start positions 0, 3, ..., 90 (below 92): 31 windows.
        Assert.That(ds.Count, Is.EqualTo(7));
        Assert.That(ds.GetBatch(6).X.Arrays![0].GetLength(0), Is.EqualTo(1));
        for (var i = 0; i < 7; i++)
        {
            var batch = ds.GetBatch(i);
            var x = batch.X.Arrays![0];
            for (var j = 0; j < x.GetLength(0); j++)
            {
                var start = (i * 15) + (j * 3);
                Assert.That(Row(x, j), Is.EqualTo(Range(start, start + 9)));
                Assert.That(((int[])batch.Y!.Arrays![0])[j], Is.EqualTo(start * 2));
            }
        }
    }

    [Test]
    public void StartAndEndIndex_KerasTest_RowsStayInside()
    {
        var ds = TimeseriesDatasetUtils.TimeseriesDatasetFromArray(Range(0, 100), null, sequenceLength: 9, batchSize: 5, sequenceStride: 3, samplingRate: 2, startIndex: 10, endIndex: 90);

        // (90 - 10) - 8 * 2 = 64 candidates, stride 3: starts 10, 13, ..., 73 (22 windows), last row 73 + 16 = 89.
        Assert.That(ds.SampleCount, Is.EqualTo(22));
        Assert.That(ds.WindowStarts, Is.EqualTo(Range(10, 74, 3)));
        var all = Enumerable.Range(0, ds.Count!.Value).SelectMany(i => ds.GetBatch(i).X.Arrays![0].Cast<int>()).ToArray();
        Assert.That(all.Min(), Is.EqualTo(10));
        Assert.That(all.Max(), Is.EqualTo(89));
    }

    [Test]
    public void StartIndex_TargetsAreTakenAtTheSameAbsoluteRow()
    {
        var data = Range(0, 20);
        var targets = data.Select(v => 1000 + v).ToArray();

        var ds = TimeseriesDatasetUtils.TimeseriesDatasetFromArray(data, targets, sequenceLength: 4, startIndex: 5, endIndex: 15);

        // Keras slices both to [5:15] and gathers position p: window rows 5+p.., target targets[5+p]; 10 - 3 = 7 windows.
        var batch = ds.GetBatch(0);
        Assert.That(Row(batch.X.Arrays![0], 0), Is.EqualTo(new[] { 5, 6, 7, 8 }));
        Assert.That(batch.Y!.Arrays![0], Is.EqualTo(Range(1005, 1012)));
    }

    [Test]
    public void MultiFeatureData_WindowsKeepFeaturesAndElementType()
    {
        var data = new double[6, 2];
        var targets = new float[6, 3];
        for (var t = 0; t < 6; t++)
        {
            data[t, 0] = t;
            data[t, 1] = -t;
            targets[t, 0] = t;
            targets[t, 2] = 10 * t;
        }

        var ds = TimeseriesDatasetUtils.TimeseriesDatasetFromArray(data, targets, sequenceLength: 2, samplingRate: 2, batchSize: 10);
        var batch = ds.GetBatch(0);

        // 6 - 1 * 2 = 4 windows: rows (0, 2), (1, 3), (2, 4), (3, 5).
        var x = (double[,,])batch.X.Arrays![0];
        Assert.That(new[] { x.GetLength(0), x.GetLength(1), x.GetLength(2) }, Is.EqualTo(new[] { 4, 2, 2 }));
        Assert.That(new[] { x[3, 0, 0], x[3, 0, 1], x[3, 1, 0], x[3, 1, 1] }, Is.EqualTo(new[] { 3.0, -3.0, 5.0, -5.0 }));
        var y = (float[,])batch.Y!.Arrays![0];
        Assert.That(new[] { y[3, 0], y[3, 2] }, Is.EqualTo(new[] { 3f, 30f }));
        var (sx, sy) = ds.GetSample(1);
        Assert.That(sx, Is.EqualTo(new double[,] { { 1, -1 }, { 3, -3 } }));
        Assert.That(sy, Is.EqualTo(new float[] { 1, 0, 10 }));
    }

    [Test]
    public void TooFewRows_GivesNoWindows()
    {
        var ds = TimeseriesDatasetUtils.TimeseriesDatasetFromArray(Range(0, 5), null, sequenceLength: 6);

        Assert.That((ds.SampleCount, ds.Count), Is.EqualTo((0, 0)));
    }

    [Test]
    public void ShortTargets_LimitTheWindows_AsKeras()
    {
        var ds = TimeseriesDatasetUtils.TimeseriesDatasetFromArray(Range(0, 20), Range(0, 4), sequenceLength: 3);

        Assert.That(ds.SampleCount, Is.EqualTo(4));
    }

    [Test]
    public void TargetsTooShortForTheStartIndex_AreRefused()
    {
        var error = Assert.Throws<ArgumentException>(() => TimeseriesDatasetUtils.TimeseriesDatasetFromArray(Range(0, 20), Range(0, 6), sequenceLength: 3, startIndex: 4));

        Assert.That(error!.Message, Does.Contain("targets[9]").And.Contain("6 rows"));
    }

    [Test]
    public void Shuffle_IsAPermutationOfTheWindowsWithTargetsPairedAndSeedDeterministic()
    {
        var data = Range(0, 10);
        var targets = data.Select(v => v * 2).ToArray();

        var a = TimeseriesDatasetUtils.TimeseriesDatasetFromArray(data, targets, sequenceLength: 5, batchSize: 1, shuffle: true, seed: 123);
        var b = TimeseriesDatasetUtils.TimeseriesDatasetFromArray(data, targets, sequenceLength: 5, batchSize: 1, shuffle: true, seed: 123);

        // Keras' first stage: np.random.RandomState(123).shuffle(arange(6)) (fixture); its tf.data buffer shuffle is not reproduced.
        var numpy = DataUtilsFixture.Get("shuffles").AsArray().Single(s => s!["seed"]!.GetValue<long>() == 123)!["numpy"]!.AsArray().Select(v => v!.GetValue<int>());
        Assert.That(a.WindowStarts, Is.EqualTo(numpy));
        Assert.That(a.WindowStarts, Is.EqualTo(b.WindowStarts));
        Assert.That(a.WindowStarts.Order(), Is.EqualTo(Range(0, 6)));
        Assert.That(a.WindowStarts, Is.Not.EqualTo(Range(0, 6)));
        for (var i = 0; i < a.Count; i++)
        {
            var batch = a.GetBatch(i);
            var x = Row(batch.X.Arrays![0], 0);
            Assert.That(x, Is.EqualTo(Range(x[0], x[0] + 5)));
            Assert.That(((int[])batch.Y!.Arrays![0])[0], Is.EqualTo(x[0] * 2));
        }

        var first = a.WindowStarts.ToArray();
        a.OnEpochEnd();
        Assert.That(a.WindowStarts, Is.Not.EqualTo(first), "a new order each epoch, as Keras' tf.data shuffle");
        Assert.That(a.WindowStarts.Order(), Is.EqualTo(Range(0, 6)));
    }

    [TestCase(-1, null, "`start_index` must be ")]
    [TestCase(11, null, "`start_index` must be ")]
    [TestCase(null, -1, "`end_index` must be higher than 0")]
    [TestCase(null, 11, "`end_index` must be lower than the length")]
    [TestCase(null, 10, "`end_index` must be lower than the length")]
    [TestCase(5, 3, "`end_index` must be higher than `start_index`")]
    public void BadIndices_AreRefusedWithKerasMessages(int? start, int? end, string message)
    {
        var error = Assert.Throws<ArgumentException>(() => TimeseriesDatasetUtils.TimeseriesDatasetFromArray(Range(0, 10), null, 3, startIndex: start, endIndex: end));

        Assert.That(error!.Message, Does.Contain(message));
    }

    [Test]
    public void BadStridesAndLengths_AreRefused()
    {
        var data = Range(0, 10);
        Assert.That(Assert.Throws<ArgumentException>(() => TimeseriesDatasetUtils.TimeseriesDatasetFromArray(data, null, 3, samplingRate: 0))!.Message, Does.Contain("`sampling_rate` must be "));
        Assert.That(Assert.Throws<ArgumentException>(() => TimeseriesDatasetUtils.TimeseriesDatasetFromArray(data, null, 3, samplingRate: 10))!.Message, Does.Contain("`sampling_rate` must be lower"));
        Assert.That(Assert.Throws<ArgumentException>(() => TimeseriesDatasetUtils.TimeseriesDatasetFromArray(data, null, 3, sequenceStride: 0))!.Message, Does.Contain("`sequence_stride` must be "));
        Assert.That(Assert.Throws<ArgumentException>(() => TimeseriesDatasetUtils.TimeseriesDatasetFromArray(data, null, 0))!.Message, Does.Contain("`sequence_length` must be higher than 0"));
        Assert.That(Assert.Throws<ArgumentException>(() => TimeseriesDatasetUtils.TimeseriesDatasetFromArray(new string[4], null, 2))!.Message, Does.Contain("float, double, int or long"));
        Assert.Throws<ArgumentOutOfRangeException>(() => TimeseriesDatasetUtils.TimeseriesDatasetFromArray(data, null, 3, batchSize: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => TimeseriesDatasetUtils.TimeseriesDatasetFromArray(data, null, 3, shuffle: true, seed: -1));
    }

    [Test]
    public void Source_FitsAndPredictsAnLstm()
    {
        var series = Enumerable.Range(0, 60).Select(t => (float)Math.Sin(t * 0.3)).ToArray();
        var data = new float[60, 1];
        for (var t = 0; t < 60; t++)
        {
            data[t, 0] = series[t];
        }

        var train = TimeseriesDatasetUtils.TimeseriesDatasetFromArray(data, series[5..], sequenceLength: 5, batchSize: 16, shuffle: true, seed: 1);
        var input = new Input(shape: (5, 1));
        using var model = new Model(input, new Dense(1).Call(new LSTM(4).Call(input)));
        model.Compile("adam", "mse");

        var history = model.Fit(train, epochs: 2, verbose: 0);
        var predictions = model.Predict(TimeseriesDatasetUtils.TimeseriesDatasetFromArray(data, null, sequenceLength: 5, batchSize: 16));

        Assert.That(history.Values["loss"], Has.Count.EqualTo(2));
        Assert.That(predictions[0].GetLength(0), Is.EqualTo(56), "60 - 4 windows");
    }
}
