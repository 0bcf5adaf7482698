using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Tests.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Layers.Preprocessing;

/// <summary>
/// Keras' <c>Hashing</c> layer. TensorFlow (which Keras' layer calls) does not install here, so every expected bin
/// below is a value Keras itself states: the docstring examples of keras/src/layers/preprocessing/hashing.py (Keras
/// 3.16) and the cases of its hashing_test.py, each named where it is used. They are TensorFlow's own
/// <c>to_hash_bucket_fast</c> / <c>to_hash_bucket_strong</c> results, so they check FarmHash, SipHash, the salt as the
/// SipHash key and the integer-to-string conversion together.
/// </summary>
public class HashingTests
{
    private static readonly string[] Wire = { "omar", "stringer", "marlo", "wire", "skywalker" };
    private static readonly string[] Letters = { "A", "B", "C", "D", "E" };

    private static long[] Longs(Tensor t)
    {
        using var scope = NewDisposeScope();
        return t.to_type(ScalarType.Int64).contiguous().data<long>().ToArray();
    }

    private static float[] Floats(Tensor t)
    {
        using var scope = NewDisposeScope();
        return t.to_type(ScalarType.Float32).contiguous().data<float>().ToArray();
    }

    private static string[,] Column(string[] values)
    {
        var column = new string[values.Length, 1];
        for (var i = 0; i < values.Length; i++)
        {
            column[i, 0] = values[i];
        }

        return column;
    }

    private static long[] StringBins(Hashing layer, string[] values)
    {
        using var output = layer.Invoke(Column(values));
        Assert.That(output.shape, Is.EqualTo(new long[] { values.Length, 1 }));
        Assert.That(output.dtype, Is.EqualTo(ScalarType.Int64));
        return Longs(output);
    }

    // The four examples of Keras' Hashing docstring (also hashing_test.py's test_correctness).
    [Test]
    public void Strings_DocstringFarmHashExample_GivesKerasBins() =>
        Assert.That(StringBins(new Hashing(3), Letters), Is.EqualTo(new long[] { 1, 0, 1, 1, 2 }));

    [Test]
    public void Strings_DocstringMaskValueExample_KeepsBinZeroForTheMask() =>
        Assert.That(StringBins(new Hashing(3, maskValue: ""), new[] { "A", "B", "", "C", "D" }), Is.EqualTo(new long[] { 1, 1, 0, 2, 2 }));

    [Test]
    public void Strings_DocstringSipHashPairSaltExample_GivesKerasBins() =>
        Assert.That(StringBins(new Hashing(3, salt: new[] { 133L, 137L }), Letters), Is.EqualTo(new long[] { 1, 2, 1, 0, 2 }));

    [Test]
    public void Strings_DocstringSingleSaltExample_IsTheSaltTwice() =>
        Assert.That(StringBins(new Hashing(3, salt: new[] { 133L, 133L }), Letters), Is.EqualTo(new long[] { 0, 0, 2, 1, 0 }));

    // hashing_test.py: test_hash_dense_input_farmhash, test_hash_dense_list_input_farmhash (rank 1 too).
    [Test]
    public void Strings_KerasTestFarmHash_GivesKerasBinsAtRankOneAndTwo()
    {
        var layer = new Hashing(2);
        Assert.That(StringBins(layer, Wire), Is.EqualTo(new long[] { 0, 0, 1, 0, 0 }));
        using var flat = layer.Invoke(Wire);
        Assert.That(flat.shape, Is.EqualTo(new long[] { 5 }));
        Assert.That(Longs(flat), Is.EqualTo(new long[] { 0, 0, 1, 0, 0 }));
        Assert.That(layer.HashToBins(Wire), Is.EqualTo(new long[] { 0, 0, 1, 0, 0 }));
    }

    // hashing_test.py: test_hash_dense_input_mask_value_farmhash.
    [Test]
    public void Strings_KerasTestMaskValues_ShiftOtherBinsByOne()
    {
        Assert.That(StringBins(new Hashing(3, maskValue: ""), Wire), Is.EqualTo(new long[] { 1, 1, 2, 1, 1 }));
        Assert.That(StringBins(new Hashing(3, maskValue: "omar"), Wire), Is.EqualTo(new long[] { 0, 1, 2, 1, 1 }));
    }

    // hashing_test.py: test_hash_dense_input_siphash.
    [Test]
    public void Strings_KerasTestSipHash_DependsOnTheSalt()
    {
        Assert.That(StringBins(new Hashing(2, salt: new[] { 133L, 137L }), Wire), Is.EqualTo(new long[] { 0, 1, 0, 1, 0 }));
        Assert.That(StringBins(new Hashing(2, salt: new[] { 211L, 137L }), Wire), Is.EqualTo(new long[] { 1, 0, 1, 0, 1 }));
    }

    // hashing_test.py: test_hash_single_bin (every value in bin 0, the mask then unused as in Keras).
    [Test]
    public void Strings_OneBin_EverythingInBinZero()
    {
        Assert.That(StringBins(new Hashing(1), Letters), Is.EqualTo(new long[5]));
        Assert.That(StringBins(new Hashing(1, maskValue: "A"), Letters), Is.EqualTo(new long[5]));
    }

    // hashing_test.py: test_hash_dense_int_input_farmhash and test_tensor_like_inputs (integers hash as their decimal strings).
    [TestCase(ScalarType.Int64)]
    [TestCase(ScalarType.Int32)]
    public void Integers_KerasTestFarmHash_HashAsDecimalStrings(ScalarType type)
    {
        using var layer = new Hashing(3);
        using var input = tensor(new long[] { 0, 1, 2, 3, 4 }, new long[] { 5, 1 }).to_type(type);
        using var output = layer.Invoke(input);
        Assert.That(output.shape, Is.EqualTo(new long[] { 5, 1 }));
        Assert.That(Longs(output), Is.EqualTo(new long[] { 1, 0, 1, 0, 2 }));
        Assert.That(layer.HashToBins(new long[] { 0, 1, 2, 3, 4 }), Is.EqualTo(new long[] { 1, 0, 1, 0, 2 }));
    }

    // hashing_test.py: test_hash_dense_int_input_siphash.
    [Test]
    public void Integers_KerasTestSipHash_GivesKerasBins()
    {
        using var layer = new Hashing(3, salt: new[] { 133L, 137L });
        Assert.That((float[,])layer.Invoke(new long[,] { { 0 }, { 1 }, { 2 }, { 3 }, { 4 } }), Is.EqualTo(new float[,] { { 1 }, { 1 }, { 2 }, { 0 }, { 1 } }));
    }

    // hashing_test.py: test_hash_list_input (list_input_2d_multiple).
    [Test]
    public void Integers_KerasTestListInput_GivesKerasBins()
    {
        using var layer = new Hashing(2);
        Assert.That((float[,])layer.Invoke(new long[,] { { 1, 2 }, { 2, 3 }, { 3, 4 } }), Is.EqualTo(new float[,] { { 1, 1 }, { 1, 1 }, { 1, 1 } }));
    }

    [Test]
    public void Integers_MaskValue_GoesToBinZero()
    {
        // Bins of 0..4 with 2 hash bins (hashing_test.py's FarmHash values for num_bins=2 are those of test_hash_list_input:
        // 1, 2, 3 in bin 1), shifted by one; 3 is the mask.
        using var layer = new Hashing(3, maskValue: 3L);
        var expected = new Hashing(2).HashToBins(new long[] { 1, 2, 4 }).Select(b => b + 1).ToArray();
        Assert.That(expected.Take(2), Is.EqualTo(new long[] { 2, 2 }));
        Assert.That(layer.HashToBins(new long[] { 1, 2, 3, 4 }), Is.EqualTo(new[] { expected[0], expected[1], 0, expected[2] }));
    }

    [Test]
    public void Floats_AreCutToIntegersTowardZeroFirst_AsKeras3()
    {
        using var layer = new Hashing(3, maskValue: 2L);
        var bins = (float[,])layer.Invoke(new float[,] { { 0.9f }, { 1.7f }, { -2.2f }, { 2f }, { 2.5f } });
        var ints = layer.HashToBins(new long[] { 0, 1, -2, 2, 2 });
        // 2.0 equals the mask; 2.5 is compared before the cast (Keras' tf.equal on the floats), so it hashes as "2".
        Assert.That(bins, Is.EqualTo(new float[,] { { ints[0] }, { ints[1] }, { ints[2] }, { 0 }, { new Hashing(2).HashToBins(new long[] { 2 })[0] + 1 } }));
    }

    [Test]
    public void Floats_NotANumber_RefusedNamingTheLayer()
    {
        using var layer = new Hashing(3, name: "h");
        Assert.That(() => layer.Invoke(new float[,] { { float.NaN } }), Throws.TypeOf<LayerInputException>().With.Message.Contains("Hashing 'h'").And.Message.Contains("NaN"));
    }

    // hashing_test.py: test_one_hot_output (a model on int32 ids).
    [Test]
    public void OneHot_InModel_GivesKerasTestRows()
    {
        var x = new Input(new[] { 1 }, DType.Int32);
        var y = new Hashing(3, outputMode: "one_hot").Call(x);
        Assert.That(y.Shape, Is.EqualTo(new Shape(null, 3)));
        Assert.That(y.DType, Is.EqualTo(DType.Float32));
        using var model = new Model(new[] { x }, new[] { y });
        var output = (float[,])model.Predict(new long[,] { { 0 }, { 1 }, { 2 }, { 3 }, { 4 } });
        Assert.That(output, Is.EqualTo(new float[,] { { 0, 1, 0 }, { 1, 0, 0 }, { 0, 1, 0 }, { 1, 0, 0 }, { 0, 0, 1 } }));
    }

    [Test]
    public void OneHot_StringsOfRankOne_GivesOneRowEach()
    {
        using var layer = new Hashing(3, outputMode: "one_hot");
        using var output = layer.Invoke(Letters);
        Assert.That(output.shape, Is.EqualTo(new long[] { 5, 3 }));
        Assert.That(Floats(output), Is.EqualTo(new float[] { 0, 1, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1 }));
    }

    // hashing_test.py: test_multi_hot_output and test_count_output (2d_input).
    [TestCase("multi_hot", new float[] { 1, 1, 1 })]
    [TestCase("count", new float[] { 2, 2, 1 })]
    public void MultiHotAndCount_InModel_GiveKerasTestRow(string mode, float[] expected)
    {
        var x = new Input(new int?[] { null }, DType.Int32);
        var y = new Hashing(3, outputMode: mode).Call(x);
        Assert.That(y.Shape, Is.EqualTo(new Shape(null, 3)));
        using var model = new Model(new[] { x }, new[] { y });
        Assert.That((float[,])model.Predict(new long[,] { { 0, 1, 2, 3, 4 } }), Is.EqualTo(new float[,] { { expected[0], expected[1], expected[2] } }));
    }

    // hashing_test.py: test_int_output_dtype and test_one_hot_output_dtype.
    [Test]
    public void DType_Int32AndIntegerOneHot_AreTheOutputTypes()
    {
        using var ints = new Hashing(3, dtype: DType.Int32);
        using var bins = ints.Invoke(tensor(new long[] { 0, 1 }, new long[] { 2, 1 }));
        Assert.That(bins.dtype, Is.EqualTo(ScalarType.Int32));
        var x = new Input(new[] { 1 }, DType.Int64);
        Assert.That(new Hashing(3, outputMode: "one_hot", dtype: DType.Int64).Call(x).DType, Is.EqualTo(DType.Int64));
        Assert.That(new Hashing(3).Call(x).DType, Is.EqualTo(DType.Int64));
    }

    // hashing_test.py: test_invalid_inputs, test_hashing_invalid_num_bins, _output_mode, _dtype_for_int_mode, test_hashing_sparse_with_int_mode.
    [Test]
    public void Constructor_KerasInvalidArguments_RefusedWithKerasMessages()
    {
        Assert.That(() => new Hashing(0), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("cannot be `None` or non-positive"));
        Assert.That(() => new Hashing(-1), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("cannot be `None` or non-positive"));
        Assert.That(() => new Hashing(2, salt: new[] { 1L }), Throws.ArgumentException.With.Message.Contains("can only be a tuple of size 2"));
        Assert.That(() => new Hashing(1, salt: new[] { 133L, 137L, 177L }), Throws.ArgumentException.With.Message.Contains("can only be a tuple of size 2"));
        Assert.That(() => new Hashing(3, outputMode: "unsupported_mode"), Throws.ArgumentException.With.Message.Contains("Invalid value for argument `output_mode`. Expected one of"));
        Assert.That(() => new Hashing(3, dtype: DType.Float32), Throws.ArgumentException.With.Message.Contains("When `output_mode=\"int\"`, `dtype` should be an integer type,"));
        Assert.That(() => new Hashing(3, sparse: true), Throws.ArgumentException.With.Message.Contains("`sparse` may only be true if `output_mode` is"));
        Assert.That(() => new Hashing(3, outputMode: "count", sparse: true), Throws.TypeOf<NotSupportedException>().With.Message.Contains("sparse"));
        Assert.That(() => new Hashing(3, maskValue: 0.5), Throws.ArgumentException.With.Message.Contains("mask_value"));
    }

    [Test]
    public void Shapes_KerasCannotComputeConsistently_RefusedNamingTheLayer()
    {
        var pairs = new Input(new[] { 3 }, DType.Int64);
        Assert.That(() => new Hashing(3, outputMode: "one_hot", name: "oh").Call(pairs), Throws.TypeOf<LayerInputException>().With.Message.Contains("Hashing 'oh'").And.Message.Contains("(batch, 1)"));
        using var count = new Hashing(3, outputMode: "count", name: "c");
        Assert.That(() => count.Invoke(Letters), Throws.TypeOf<LayerInputException>().With.Message.Contains("Hashing 'c'").And.Message.Contains("drops the batch axis"));
        var cube = new Input(new[] { 2, 2 }, DType.Int64);
        Assert.That(() => new Hashing(3, outputMode: "multi_hot", name: "m").Call(cube), Throws.TypeOf<LayerInputException>().With.Message.Contains("Hashing 'm'").And.Message.Contains("axis 1"));
        using var oneHot = new Hashing(3, outputMode: "one_hot", name: "oh2");
        Assert.That(() => oneHot.Invoke(new string[,] { { "a", "b" } }), Throws.TypeOf<LayerInputException>().With.Message.Contains("Hashing 'oh2'"));
    }

    [Test]
    public void MaskValue_OfTheOtherKindThanTheInput_Refused()
    {
        Assert.That(() => new Hashing(3, maskValue: "", name: "h").Call(new Input(new[] { 1 }, DType.Int64)), Throws.TypeOf<LayerInputException>().With.Message.Contains("Hashing 'h'").And.Message.Contains("string"));
        using var layer = new Hashing(3, maskValue: 0L, name: "h2");
        Assert.That(() => layer.Invoke(Letters), Throws.TypeOf<LayerInputException>().With.Message.Contains("Hashing 'h2'").And.Message.Contains("integer"));
    }

    [Test]
    public void GetConfig_IsKerasGetConfig()
    {
        using var layer = new Hashing(8, maskValue: "", salt: new[] { 133L, 137L }, outputMode: "count", name: "hashing");
        // Keras 3.16's Hashing.get_config: Layer's name, trainable, dtype (the policy of float32 outside int mode), then its own keys.
        var expected = JsonNode.Parse("""
            {"name": "hashing", "trainable": true,
             "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null},
             "num_bins": 8, "salt": [133, 137], "mask_value": "", "output_mode": "count", "sparse": false}
            """);
        Assert.That(layer.GetConfig().ToJsonString(), Is.EqualTo(expected!.ToJsonString()));
        using var plain = new Hashing(8);
        Assert.That(plain.GetConfig()["dtype"]!["config"]!["name"]!.GetValue<string>(), Is.EqualTo("int64"));
        Assert.That(plain.GetConfig()["salt"], Is.Null);
    }

    private static string ModelJson(string hashingConfig, string inputDType = "int64", bool keras2 = false) => keras2
        ? "{\"class_name\":\"Sequential\",\"keras_version\":\"2.11.0\",\"backend\":\"tensorflow\",\"config\":{\"name\":\"s\",\"layers\":[{\"class_name\":\"InputLayer\",\"config\":{\"batch_input_shape\":[null,1],\"dtype\":\"" + inputDType + "\",\"name\":\"x\"}},"
            + "{\"class_name\":\"Hashing\",\"config\":{\"name\":\"h\",\"trainable\":true," + hashingConfig + "}}]}}"
        : "{\"class_name\":\"Sequential\",\"keras_version\":\"3.16.0\",\"config\":{\"name\":\"s\",\"layers\":[{\"class_name\":\"InputLayer\",\"config\":{\"batch_shape\":[null,1],\"dtype\":\"" + inputDType + "\",\"name\":\"x\"}},"
            + "{\"class_name\":\"Hashing\",\"config\":{\"name\":\"h\",\"trainable\":true," + hashingConfig + "}}]}}";

    [Test]
    public void FromConfig_KerasSingleSalt_IsTheSaltTwice()
    {
        using var model = Model.FromJson(ModelJson("\"dtype\":\"int64\",\"num_bins\":3,\"salt\":133,\"mask_value\":null,\"output_mode\":\"int\",\"sparse\":false"));
        var layer = (Hashing)model.Layers[^1];
        Assert.That(layer.Salt, Is.EqualTo(new[] { 133L, 133L }));
        // Keras' docstring: salt=133 hashes 0..4 ... here its letters' example through HashToBins.
        Assert.That(layer.HashToBins(Letters), Is.EqualTo(new long[] { 0, 0, 2, 1, 0 }));
    }

    [Test]
    public void FromConfig_TfKeras2FloatDTypeInIntMode_ReadAsInt64AsTfKeras2Does()
    {
        using var model = Model.FromJson(ModelJson("\"dtype\":\"float32\",\"num_bins\":3,\"salt\":[133,137],\"mask_value\":0,\"output_mode\":\"int\",\"sparse\":false", keras2: true));
        var layer = (Hashing)model.Layers[^1];
        Assert.That((layer.OutputDType, layer.MaskValue), Is.EqualTo((DType.Int64, (object)0L)));
        // The same in a Keras 3 config is refused, as Keras 3 refuses it.
        Assert.That(() => Model.FromJson(ModelJson("\"dtype\":\"float32\",\"num_bins\":3,\"output_mode\":\"int\"")), Throws.Exception.With.Message.Contains("Hashing 'h'").And.Message.Contains("integer type"));
    }

    [Test]
    public void FromConfig_UnsupportedValues_RefusedNamingTheLayer()
    {
        Assert.That(() => Model.FromJson(ModelJson("\"dtype\":\"float64\",\"num_bins\":3,\"output_mode\":\"count\"")), Throws.TypeOf<NotSupportedException>().With.Message.Contains("Hashing 'h'").And.Message.Contains("float64"));
        Assert.That(() => Model.FromJson(ModelJson("\"num_bins\":3,\"output_mode\":\"count\",\"sparse\":true")), Throws.TypeOf<NotSupportedException>().With.Message.Contains("sparse"));
        Assert.That(() => Model.FromJson(ModelJson("\"num_bins\":3,\"salt\":\"string\"")), Throws.Exception.With.Message.Contains("Hashing 'h'").And.Message.Contains("can only be a tuple of size 2"));
        Assert.That(() => Model.FromJson(ModelJson("\"num_bins\":null")), Throws.Exception.With.Message.Contains("Hashing 'h'").And.Message.Contains("cannot be `None`"));
        Assert.That(() => Model.FromJson(ModelJson("\"num_bins\":3,\"unknown_key\":1")), Throws.Exception.With.Message.Contains("unknown_key"));
    }

    [Test]
    public void Model_WithHashingBeforeEmbedding_SavesAndLoadsInEveryForm()
    {
        var x = new Input(new[] { 4 }, DType.Int64, name: "ids");
        var hashed = new Hashing(7, maskValue: 0L, salt: new[] { 3L, 5L }, name: "h").Call(x);
        var y = new Dense(1).Call(new GlobalAveragePooling1D().Call(new Embedding(7, 3).Call(hashed)));
        using var model = new Model(new[] { x }, new[] { y });
        var ids = new long[,] { { 0, 11, 12, 13 }, { 5, 0, 0, 7 } };
        var expected = (float[,])model.Predict(ids);
        ModelFiles.CheckEveryForm(model, back =>
        {
            var layer = (Hashing)back.Layers.Single(l => l.Name == "h");
            Assert.That((layer.NumBins, layer.MaskValue, layer.OutputMode, layer.OutputDType), Is.EqualTo((7, (object)0L, "int", DType.Int64)));
            Assert.That(layer.Salt, Is.EqualTo(new[] { 3L, 5L }));
            Assert.That((float[,])back.Predict(ids), Is.EqualTo(expected).Within(1e-6));
        });
    }

    [Test]
    public void Model_OnStringInput_PredictsTheDocstringBinsInEveryBatchSize()
    {
        // Keras' docstring: Hashing(3) of A..E gives 1, 0, 1, 1, 2; with mask_value "" the mask takes bin 0.
        var text = new Input(new[] { 1 }, DType.String, name: "category");
        using var model = new Model(text, new Hashing(3).Call(text));
        foreach (var batchSize in new[] { 1, 2, 32 })
        {
            var bins = model.Predict<float[,]>(new[,] { { "A" }, { "B" }, { "C" }, { "D" }, { "E" } }, batchSize);
            Assert.That(Enumerable.Range(0, 5).Select(i => (long)bins[i, 0]), Is.EqualTo(new long[] { 1, 0, 1, 1, 2 }), $"batch size {batchSize}");
        }

        var masked = new Input(Array.Empty<int>(), DType.String);
        using var maskModel = new Model(masked, new Hashing(3, maskValue: "", outputMode: "one_hot").Call(masked));
        Assert.That(maskModel.Predict<float[,]>(new[] { "A", "" }), Is.EqualTo(new float[,] { { 0, 1, 0 }, { 1, 0, 0 } }));
    }

    [Test]
    public void Model_StringsThenEmbedding_SavesAndLoadsInEveryForm()
    {
        var text = new Input(new[] { 3 }, DType.String, name: "words");
        var hashed = new Hashing(5, salt: new[] { 133L, 137L }, name: "h").Call(text);
        var y = new Dense(1).Call(new GlobalAveragePooling1D().Call(new Embedding(5, 2).Call(hashed)));
        using var model = new Model(new[] { text }, new[] { y });
        var words = new[,] { { "the", "cat", "sat" }, { "on", "a", "mat" } };
        var expected = (float[,])model.Predict(words);
        ModelFiles.CheckEveryForm(model, back => Assert.That((float[,])back.Predict(words), Is.EqualTo(expected).Within(1e-6)));
    }

    [Test]
    public void Model_IntegerMaskOnStringInput_RefusedAtTheCall()
    {
        var text = new Input(new[] { 1 }, DType.String);
        var layer = new Hashing(3, maskValue: 0L, name: "h");
        Assert.That(() => layer.Call(text), Throws.TypeOf<LayerInputException>().With.Message.Contains("Hashing 'h'").And.Message.Contains("holds strings"));
    }

    [Test]
    public void Invoke_StringArray_ReturnsTheBinsAsLongs() =>
        Assert.That((long[])new Hashing(3).Invoke((Array)Letters), Is.EqualTo(new long[] { 1, 0, 1, 1, 2 }));

    [Test]
    public void ExportOnnx_Refused_NamingTheLayer()
    {
        var x = new Input(new[] { 1 }, DType.Int64);
        using var model = new Model(new[] { x }, new[] { new Dense(1).Call(new Hashing(3, outputMode: "one_hot", name: "hash_me").Call(x)) });
        var path = Path.Combine(Path.GetTempPath(), $"ks-hashing-{Guid.NewGuid():N}.onnx");
        try
        {
            Assert.That(() => model.Export(path), Throws.TypeOf<NotSupportedException>().With.Message.Contains("Hashing 'hash_me'").And.Message.Contains("FarmHash"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void ToHashBucket_StaticFunctions_AreTensorFlowsOps()
    {
        // Keras' docstring values again, through the two TensorFlow ops alone.
        Assert.That(Letters.Select(s => Hashing.ToHashBucketFast(s, 3)), Is.EqualTo(new long[] { 1, 0, 1, 1, 2 }));
        Assert.That(Letters.Select(s => Hashing.ToHashBucketStrong(s, 3, 133, 137)), Is.EqualTo(new long[] { 1, 2, 1, 0, 2 }));
        Assert.That(() => Hashing.ToHashBucketFast("a", 0), Throws.TypeOf<ArgumentOutOfRangeException>());
    }
}
