using System.Text.Json.Nodes;
using KerasStyle.Layers;
using KerasStyle.Models;
using PureHDF;

namespace KerasStyle.Tests.Layers.Preprocessing;

using KerasStyle.Graph;
using Normalization = KerasStyle.Layers.Normalization;

/// <summary>
/// The arguments and errors of Normalization, Discretization, CategoryEncoding and Rescaling as Keras 3.16 checks them
/// (keras/src/layers/preprocessing/normalization_test.py, discretization_test.py, category_encoding_test.py,
/// rescaling_test.py: the cases that apply on the torch backend), and tf.keras 2's config forms.
/// </summary>
public class NumericPreprocessingArgumentTests
{
    [Test]
    public void Normalization_OnlyMeanOrDifferentShapesOrRankAboveAxes_RefusedAsKeras()
    {
        Assert.That(() => new Normalization(mean: new[] { 1.0 }), Throws.ArgumentException.With.Message.Contains("both mean and variance must be set"));
        Assert.That(() => new Normalization(mean: new[] { 1.0, 2.0 }, variance: new[] { 1.0 }), Throws.ArgumentException.With.Message.Contains("same shape"));
        Assert.That(() => new Normalization(axis: new[] { -1 }, mean: new double[,] { { 1 } }, variance: new double[,] { { 1 } }), Throws.ArgumentException.With.Message.Contains("less than or equal to the number of axes (1)"));
    }

    [Test]
    public void Normalization_AxisOutOfRangeOrBatchOrUnknown_RefusedWhenCalled()
    {
        Assert.That(() => new Normalization(axis: new[] { 3 }, name: "n").Call(new Input(4)), Throws.TypeOf<LayerInputException>().With.Message.Contains("[-ndim, ndim)"));
        Assert.That(() => new Normalization(axis: new[] { 0 }, name: "n").Call(new Input(4)), Throws.TypeOf<LayerInputException>().With.Message.Contains("batch axis"));
        Assert.That(() => new Normalization(name: "n").Call(new Input(new int?[] { null })), Throws.TypeOf<LayerInputException>().With.Message.Contains("known shape"));
    }

    [Test]
    public void Normalization_AdaptOnOtherFeatureCount_RefusedAndStateKept()
    {
        using var layer = new Normalization(name: "n");
        layer.Adapt(new float[,] { { 0, 7, 4 }, { 2, 9, 6 }, { 0, 7, 4 }, { 2, 9, 6 } });
        Assert.That(layer.GetWeights()[0].Data, Is.EqualTo(new[] { 1f, 8f, 5f }));
        Assert.That(layer.GetWeights()[1].Data, Is.EqualTo(new[] { 1f, 1f, 1f }));
        Assert.That(() => layer.Adapt(new float[,] { { 1, 2 } }), Throws.TypeOf<LayerInputException>());
        Assert.That(layer.GetWeights()[0].Data, Is.EqualTo(new[] { 1f, 8f, 5f }));
        // Keras' docstring: [[0, 7, 4]] gives [-1, -1, -1].
        Assert.That((float[,])layer.Invoke(new float[,] { { 0, 7, 4 } }), Is.EqualTo(new float[,] { { -1, -1, -1 } }).Within(1e-6));
    }

    [Test]
    public void Normalization_InvertDocstringExample_GivesKerasValues()
    {
        using var layer = new Normalization(invert: true);
        layer.Adapt(new float[,] { { 0, 7, 4 }, { 2, 9, 6 }, { 0, 7, 4 }, { 2, 9, 6 } });
        Assert.That((float[,])layer.Invoke(new float[,] { { 1, 2, 3 } }), Is.EqualTo(new float[,] { { 2, 10, 8 } }).Within(1e-6));
    }

    [Test]
    public void Normalization_GivenValues_AdaptRefused()
    {
        using var layer = new Normalization(3.0, 2.0);
        Assert.That(() => layer.Adapt(new float[,] { { 1 } }), Throws.InvalidOperationException.With.Message.Contains("nothing to adapt"));
        Assert.That((float[,])layer.Invoke(new float[,] { { 1 }, { 2 }, { 3 } }), Is.EqualTo(new float[,] { { -1.4142135f }, { -0.70710677f }, { 0 } }).Within(1e-6));
    }

    [Test]
    public void Normalization_TfKeras2Config_AxisTupleAndNoInvert_Read()
    {
        var config = JsonNode.Parse("""{"name": "normalization", "trainable": true, "dtype": "float32", "axis": [-1], "mean": null, "variance": null}""")!.AsObject();
        using var layer = (Normalization)NumericPreprocessingFixtureTests.FromKerasConfig("Normalization", config);
        Assert.That(layer.Axis, Is.EqualTo(new[] { -1 }));
        Assert.That(layer.Invert, Is.False);
        var scalarAxis = JsonNode.Parse("""{"name": "n2", "axis": 1, "mean": [1.0, 2.0], "variance": [1.0, 4.0]}""")!.AsObject();
        using var given = (Normalization)NumericPreprocessingFixtureTests.FromKerasConfig("Normalization", scalarAxis);
        Assert.That((float[,])given.Invoke(new float[,] { { 2, 4 } }), Is.EqualTo(new float[,] { { 1, 1 } }).Within(1e-6));
    }

    [Test]
    public void Discretization_Arguments_RefusedAsKeras()
    {
        Assert.That(() => new Discretization(new[] { 0.0 }, "tf_idf"), Throws.ArgumentException.With.Message.Contains("output_mode"));
        Assert.That(() => new Discretization(new[] { 0.0 }, "one_hot", sparse: true), Throws.ArgumentException.With.Message.Contains("sparse=True"));
        Assert.That(() => new Discretization(new[] { 0.0 }, "int", sparse: true), Throws.ArgumentException.With.Message.Contains("may only be used"));
        Assert.That(() => new Discretization(-1), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("greater than or equal to 0"));
        var both = JsonNode.Parse("""{"name": "d", "bin_boundaries": null, "num_bins": null}""")!.AsObject();
        Assert.That(() => NumericPreprocessingFixtureTests.FromKerasConfig("Discretization", both), Throws.TypeOf<FormatException>().With.Message.Contains("either num_bins or bin_boundaries"));
    }

    [Test]
    public void Discretization_AdaptWithGivenBoundariesOrCallBeforeAdapt_Refused()
    {
        using var given = new Discretization(new[] { 0.0, 1.0 });
        Assert.That(() => given.Adapt(new float[] { 1, 2 }), Throws.InvalidOperationException.With.Message.Contains("use num_bins instead"));
        using var unadapted = new Discretization(numBins: 3);
        Assert.That(() => unadapted.Invoke(new float[,] { { 1 } }), Throws.InvalidOperationException.With.Message.Contains("Adapt"));
    }

    [Test]
    public void Discretization_IntMode_Int32IdsOfTheInputShape()
    {
        // discretization_test.py's test_discretization_basics: [[-1, 0.1, 3, 0]] with boundaries [0, 1, 2].
        using var layer = new Discretization(new[] { 0.0, 1.0, 2.0 });
        var x = new Input(4);
        var y = layer.Call(x);
        Assert.That(y.DType, Is.EqualTo(DType.Int32));
        Assert.That((float[,])layer.Invoke(new float[,] { { -1, 0.1f, 3, 0 } }), Is.EqualTo(new float[,] { { 0, 1, 3, 1 } }));
    }

    [Test]
    public void CategoryEncoding_Arguments_RefusedAsKeras()
    {
        Assert.That(() => new CategoryEncoding(0), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("num_tokens must be >= 1"));
        Assert.That(() => new CategoryEncoding(3, "invalid_mode"), Throws.ArgumentException.With.Message.Contains("Unknown arg for output_mode"));
        Assert.That(() => new CategoryEncoding(3, sparse: true), Throws.ArgumentException.With.Message.Contains("sparse=True"));
        using var layer = new CategoryEncoding(3, "one_hot");
        Assert.That(() => layer.Invoke(new[,] { { 0, 1 } }, new float[,] { { 1, 1 } }), Throws.ArgumentException.With.Message.Contains("count_weights is not used"));
        var missing = JsonNode.Parse("""{"name": "c", "output_mode": "count"}""")!.AsObject();
        Assert.That(() => NumericPreprocessingFixtureTests.FromKerasConfig("CategoryEncoding", missing), Throws.TypeOf<FormatException>().With.Message.Contains("num_tokens must be set"));
    }

    [Test]
    public void CategoryEncoding_Rank1InMultiHot_RefusedWithReshapeHint()
    {
        using var layer = new CategoryEncoding(4, name: "enc");
        Assert.That(() => layer.Invoke((Array)new[] { 0, 1 }), Throws.TypeOf<LayerInputException>().With.Message.Contains("reshape it to (1, n)"));
    }

    [Test]
    public void CategoryEncoding_TfKeras2BinaryMode_ReadAsMultiHot()
    {
        var config = JsonNode.Parse("""{"name": "c", "trainable": true, "dtype": "float32", "num_tokens": 4, "output_mode": "binary", "sparse": false}""")!.AsObject();
        using var layer = (CategoryEncoding)NumericPreprocessingFixtureTests.FromKerasConfig("CategoryEncoding", config);
        Assert.That(layer.OutputMode, Is.EqualTo("multi_hot"));
    }

    [Test]
    public void Rescaling_ChannelsMismatchOrBadValues_Refused()
    {
        Assert.That(() => new Rescaling(new[] { 1.0, 2.0 }, name: "r").Call(new Input(3)), Throws.TypeOf<LayerInputException>().With.Message.Contains("2 values, one per channel"));
        Assert.That(() => new Rescaling(double.NaN), Throws.ArgumentException);
        Assert.That(() => new Rescaling(new[] { 1.0, 2.0 }, new[] { 1.0, 2.0, 3.0 }), Throws.ArgumentException.With.Message.Contains("same length"));
    }

    [Test]
    public void Rescaling_IntegerInput_CastToFloat()
    {
        // rescaling_test.py's test_rescaling_correctness: x * scale + offset.
        using var layer = new Rescaling(1.0 / 255, 0.5);
        Assert.That((float[,])layer.Invoke((Array)new[,] { { 255, 0 } }), Is.EqualTo(new float[,] { { 1.5f, 0.5f } }).Within(1e-6));
    }

    [Test]
    public void Normalization_PartialKeepAxis_MeanAlignedFromTheRightAndBroadcast()
    {
        // normalization_test.py's test_broadcast_partial_keep_axis: axis (1, 2), a mean of shape (5,) on (batch, 7, 5, 3).
        using var layer = new Normalization(axis: new[] { 1, 2 }, mean: new[] { 1.0, 2.0, 3.0, 4.0, 5.0 }, variance: new[] { 1.0, 1.0, 1.0, 1.0, 1.0 });
        var x = new float[1, 7, 5, 3];
        var y = (float[,,,])layer.Invoke((Array)x);
        for (var h = 0; h < 7; h++)
        {
            for (var w = 0; w < 5; w++)
            {
                Assert.That(y[0, h, w, 2], Is.EqualTo(-(w + 1)));
            }
        }

        // test_broadcast_non_scalar_middle_axis: axis 2 alone with a mean of shape (5,).
        using var middle = new Normalization(axis: new[] { 2 }, mean: new[] { 1.0, 2.0, 3.0, 4.0, 5.0 }, variance: new[] { 1.0, 1.0, 1.0, 1.0, 1.0 });
        Assert.That(((float[,,,])middle.Invoke((Array)new float[1, 4, 5, 3]))[0, 3, 4, 1], Is.EqualTo(-5f));
        // A mean that does not fit the kept axis is refused when called.
        using var wrong = new Normalization(axis: new[] { 2 }, mean: new[] { 1.0, 2.0 }, variance: new[] { 1.0, 1.0 }, name: "wrong");
        Assert.That(() => wrong.Invoke((Array)new float[1, 4, 5, 3]), Throws.TypeOf<LayerInputException>().With.Message.Contains("do not broadcast"));
    }

    [Test]
    public void Normalization_AdaptIterableHighDimAxisTuple_OutputsMean0Variance1()
    {
        // normalization_test.py's test_adapt_iterable_high_dim_axis_tuple.
        var rng = new Random(26);
        var x = new float[32, 4, 3, 5];
        var flat = new float[x.Length];
        for (var i = 0; i < flat.Length; i++)
        {
            flat[i] = (float)rng.NextDouble();
        }

        Buffer.BlockCopy(flat, 0, x, 0, flat.Length * sizeof(float));
        var batches = Enumerable.Range(0, 4).Select(b =>
        {
            var batch = new float[8, 4, 3, 5];
            Buffer.BlockCopy(flat, b * batch.Length * sizeof(float), batch, 0, batch.Length * sizeof(float));
            return (Array)batch;
        }).ToList();
        using var layer = new Normalization(axis: new[] { 1, 2 });
        layer.AdaptBatches(batches);
        var y = (float[,,,])layer.Invoke((Array)x);
        for (var h = 0; h < 4; h++)
        {
            for (var w = 0; w < 3; w++)
            {
                var values = Enumerable.Range(0, 32).SelectMany(n => Enumerable.Range(0, 5).Select(c => (double)y[n, h, w, c])).ToArray();
                var mean = values.Average();
                Assert.That(mean, Is.EqualTo(0).Within(1e-5));
                Assert.That(values.Average(v => (v - mean) * (v - mean)), Is.EqualTo(1).Within(1e-5));
            }
        }
    }

    [Test]
    public void Normalization_AdaptEmptyIterable_RefusedAsKeras()
    {
        using var layer = new Normalization();
        Assert.That(() => layer.AdaptBatches(new List<Array>()), Throws.ArgumentException.With.Message.Contains("no batches"));
        Assert.That(() => layer.Adapt(KerasStyle.Training.Data.DataSource.FromEnumerable(Array.Empty<KerasStyle.Training.Data.DataBatch>())), Throws.ArgumentException.With.Message.Contains("no batches"));
    }

    [Test]
    public void Discretization_AdaptWithStepsOnEndlessSource_ReadsOnlyThoseBatches()
    {
        // discretization_test.py's test_adapt_with_infinite_generator_and_steps and test_adapt_with_list_of_arrays.
        var rng = new Random(3);
        IEnumerable<KerasStyle.Training.Data.DataBatch> Endless()
        {
            while (true)
            {
                yield return new KerasStyle.Training.Data.DataBatch(Enumerable.Range(0, 20).Select(_ => (float)(rng.NextDouble() * 10)).ToArray());
            }
        }

        using var layer = new Discretization(numBins: 4);
        layer.Adapt(KerasStyle.Training.Data.DataSource.FromEnumerable(Endless()), steps: 5);
        Assert.That(layer.BinBoundaries, Has.Count.EqualTo(3));
        using var listed = new Discretization(numBins: 3);
        listed.AdaptBatches(new List<Array> { new[] { 1.0, 2.0, 3.0 }, new[] { 4.0, 5.0, 6.0 } });
        Assert.That(listed.BinBoundaries, Has.Count.EqualTo(2));
    }

    [Test]
    public void Normalization_CountWeight_WrittenAsInt32AsKerasWritesIt()
    {
        var x = new Input(3, name: "x");
        var layer = new Normalization(name: "norm");
        using var model = new Model(x, layer.Call(x));
        layer.Adapt(new float[,] { { 1, 2, 3 }, { 3, 4, 5 } });
        var path = Path.Combine(Path.GetTempPath(), $"ks-norm-{Guid.NewGuid():N}.weights.h5");
        try
        {
            model.SaveWeights(path);
            using (var file = H5File.OpenRead(path))
            {
                Assert.That(file.Dataset("layers/normalization/vars/2").Type.Class.ToString(), Is.EqualTo("FixedPoint"));
                Assert.That(file.Dataset("layers/normalization/vars/0").Read<float[]>(), Is.EqualTo(new[] { 2f, 3f, 4f }));
            }

            var x2 = new Input(3, name: "x3");
            var back = new Normalization(name: "back");
            using var reloaded = new Model(x2, back.Call(x2));
            reloaded.LoadWeights(path);
            Assert.That(back.GetWeights()[1].Data, Is.EqualTo(new[] { 1f, 1f, 1f }));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
