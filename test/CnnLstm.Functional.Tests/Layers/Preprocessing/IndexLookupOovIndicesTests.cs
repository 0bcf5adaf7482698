using System.IO.Compression;
using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Saving;
using KerasStyle.Tests.Saving;

namespace KerasStyle.Tests.Layers.Preprocessing;

/// <summary>
/// Several OOV indices in StringLookup and IntegerLookup (Keras 3.16's index_lookup.py <c>_lookup_dense</c>): an
/// unknown token goes to <c>oov_start + bucket</c>, the bucket from TensorFlow's <c>to_hash_bucket_fast</c> (strings,
/// and integers' decimal text with <c>oov_method='farmhash'</c>), <c>to_hash_bucket_strong</c> with a <c>salt</c>, or
/// <c>floormod</c> for integers by default. TensorFlow cannot run here: the expected values are Keras' own (its
/// docstrings and tests, written from TensorFlow's outputs) and, for the rest, buckets computed with
/// <see cref="Hashing.ToHashBucketFast"/>/<see cref="Hashing.ToHashBucketStrong"/>, which HashingTests checks against
/// TensorFlow's values.
/// </summary>
public class IndexLookupOovIndicesTests : SavingTestBase
{
    private static readonly long[] Salt = { 137, 42 };

    [Test]
    public void StringLookup_TwoOovIndices_KerasDocstringExample()
    {
        // string_lookup.py: vocab a..d, num_oov_indices=2: [["a","c","d"],["m","z","b"]] -> [[2,4,5],[0,1,3]].
        using var layer = new StringLookup(vocabulary: new[] { "a", "b", "c", "d" }, numOovIndices: 2);
        var ids = (long[,])layer.Invoke(new[,] { { "a", "c", "d" }, { "m", "z", "b" } });
        Assert.That(ids, Is.EqualTo(new long[,] { { 2, 4, 5 }, { 0, 1, 3 } }));
        Assert.That(layer.GetVocabulary(), Is.EqualTo(new[] { "[UNK]", "[UNK]", "a", "b", "c", "d" }));
    }

    [Test]
    public void StringLookup_SeveralOovIndices_OovStartPlusFarmHashBucket()
    {
        // With a mask in int mode the OOV indices start at 1; the mask stays 0, known terms after the 5 OOV indices.
        var unknown = new[] { "x", "y", "z", "w", "v", "u", "hello world", "ünïcode" };
        using var layer = new StringLookup(vocabulary: new[] { "cat", "dog" }, numOovIndices: 5, maskToken: "");
        var ids = (long[])layer.Invoke(unknown.Concat(new[] { "", "cat", "dog" }).ToArray());
        var expected = unknown.Select(s => 1 + Hashing.ToHashBucketFast(s, 5)).Concat(new long[] { 0, 6, 7 }).ToArray();
        Assert.That(ids, Is.EqualTo(expected));
        Assert.That(expected.Take(unknown.Length).Distinct().Count(), Is.GreaterThan(1), "the strings spread over several OOV indices");
    }

    [Test]
    public void StringLookup_Salt_SipHashBucketsDifferingFromFarmHash()
    {
        // string_lookup_test.py test_salt_siphash: the salted buckets differ from the unsalted ones.
        var unknown = new[] { "x", "y", "z", "w", "v", "u" };
        using var plain = new StringLookup(vocabulary: new[] { "a", "b", "c" }, numOovIndices: 4);
        using var salted = new StringLookup(vocabulary: new[] { "a", "b", "c" }, numOovIndices: 4, salt: Salt);
        var fast = (long[])plain.Invoke(unknown);
        var strong = (long[])salted.Invoke(unknown);
        Assert.That(fast, Is.EqualTo(unknown.Select(s => Hashing.ToHashBucketFast(s, 4)).ToArray()));
        Assert.That(strong, Is.EqualTo(unknown.Select(s => Hashing.ToHashBucketStrong(s, 4, 137, 42)).ToArray()));
        Assert.That(strong, Is.Not.EqualTo(fast));
        Assert.That((long[])salted.Invoke(new[] { "a", "c" }), Is.EqualTo(new long[] { 4, 6 }));
    }

    [Test]
    public void StringLookup_OovMethodFromConfig_StringsHashedEitherWay()
    {
        // index_lookup_test.py test_oov_method_ignored_for_string_dtype: floormod and farmhash give the same string buckets.
        var data = new[] { "aaa", "bbb", "ccc", "ddd", "eee", "fff" };
        long[] Run(string method)
        {
            var config = JsonNode.Parse(new StringLookup(maxTokens: 10, numOovIndices: 4, maskToken: "", oovToken: "[OOV]", vocabulary: new[] { "cat", "dog", "fish" }, name: "s").GetConfig().ToJsonString())!.AsObject();
            config["oov_method"] = method;
            using var layer = (StringLookup)LayerRegistry.Create(new LayerConfig("StringLookup", "s", config));
            Assert.That(layer.OovMethod, Is.EqualTo(method));
            Assert.That((string?)layer.GetConfig()["oov_method"], Is.EqualTo(method));
            return (long[])layer.Invoke(data);
        }

        var floormod = Run("floormod");
        Assert.That(Run("farmhash"), Is.EqualTo(floormod));
        Assert.That(floormod, Is.EqualTo(data.Select(s => 1 + Hashing.ToHashBucketFast(s, 4)).ToArray()));
    }

    [Test]
    public void StringLookup_Invert_EveryOovIndexGivesTheOovToken()
    {
        // Keras' inverted table holds only the terms (and the mask): the OOV indices take the default, oov_token.
        using var layer = new StringLookup(vocabulary: new[] { "a", "b" }, numOovIndices: 3, maskToken: "<m>", invert: true);
        var tokens = (string[])layer.Invoke((Array)new long[] { 0, 1, 2, 3, 4, 5, 9 });
        Assert.That(tokens, Is.EqualTo(new[] { "<m>", "[UNK]", "[UNK]", "[UNK]", "a", "b", "[UNK]" }));
    }

    [Test]
    public void StringLookup_OneHotAndCount_OovBucketsAreTheirOwnColumns()
    {
        var bucketX = Hashing.ToHashBucketFast("x", 3);
        var bucketY = Hashing.ToHashBucketFast("y", 3);
        using var count = new StringLookup(vocabulary: new[] { "a", "b" }, numOovIndices: 3, outputMode: "count");
        var counted = (float[,])count.Invoke(new[,] { { "a", "x", "y", "x" } });
        var expected = new float[1, 5];
        expected[0, 3] = 1;
        expected[0, bucketX] += 2;
        expected[0, bucketY] += 1;
        Assert.That(counted, Is.EqualTo(expected));
    }

    [Test]
    public void StringLookup_SaltArguments_AsKeras()
    {
        // index_lookup_test.py test_salt_valid_and_invalid_formats: 2 values kept, another count refused.
        Assert.That(new StringLookup(numOovIndices: 2, salt: Salt).Salt, Is.EqualTo(Salt));
        Assert.That(() => new StringLookup(numOovIndices: 2, salt: new long[] { 1, 2, 3 }), Throws.ArgumentException.With.Message.Contains("StringLookup").And.Message.Contains("salt"));
        // For strings Keras takes a salt whatever oov_method and num_oov_indices (it is used with several OOV indices).
        Assert.That(new StringLookup(salt: Salt).Salt, Is.EqualTo(Salt));
    }

    [Test]
    public void IntegerLookup_TwoOovIndices_KerasDocstringFloorModExample()
    {
        // integer_lookup.py: vocab [12,36,1138,42], num_oov_indices=2: [[12,1138,42],[37,1000,36]] -> [[2,4,5],[1,0,3]].
        using var layer = new IntegerLookup(vocabulary: new long[] { 12, 36, 1138, 42 }, numOovIndices: 2);
        var ids = (long[,])layer.Invoke(new long[,] { { 12, 1138, 42 }, { 37, 1000, 36 } });
        Assert.That(ids, Is.EqualTo(new long[,] { { 2, 4, 5 }, { 1, 0, 3 } }));
    }

    [Test]
    public void IntegerLookup_FarmHash_KerasDocstringAndTestValues()
    {
        // integer_lookup.py docstring: floormod puts these all in OOV index 0, farmhash gives [3,3,2,2,0,1].
        var values = new long[] { 100, 300, 700, 1100, 1700, 2000 };
        using var floormod = new IntegerLookup(vocabulary: new long[] { 10, 20, 30 }, numOovIndices: 4, oovMethod: "floormod");
        using var farmhash = new IntegerLookup(vocabulary: new long[] { 10, 20, 30 }, numOovIndices: 4, oovMethod: "farmhash");
        Assert.That((long[])floormod.Invoke((Array)values), Is.EqualTo(new long[] { 0, 0, 0, 0, 0, 0 }));
        Assert.That((long[])farmhash.Invoke((Array)values), Is.EqualTo(new long[] { 3, 3, 2, 2, 0, 1 }));

        // integer_lookup_test.py test_oov_method_farmhash_output_is_correct (TensorFlow's to_hash_bucket_fast of as_string).
        Assert.That((long[])farmhash.Invoke((Array)new long[] { 100, 200, 300, 400 }), Is.EqualTo(new long[] { 3, 1, 3, 1 }));
        Assert.That((long[])farmhash.Invoke((Array)new long[] { 10, 20, 30 }), Is.EqualTo(new long[] { 4, 5, 6 }));
    }

    [Test]
    public void IntegerLookup_FarmHash_HashesTheDecimalTextOfEachValue()
    {
        // tf.strings.as_string of an int64: its decimal digits, with a minus sign; int32 inputs read as the same values.
        var values = new long[] { -7, 0, 99, long.MaxValue, long.MinValue, 123456789012 };
        using var layer = new IntegerLookup(vocabulary: new long[] { 1 }, numOovIndices: 3, maskToken: 1000, oovMethod: "farmhash");
        var expected = values.Select(v => 1 + Hashing.ToHashBucketFast(v.ToString(System.Globalization.CultureInfo.InvariantCulture), 3)).ToArray();
        Assert.That((long[])layer.Invoke((Array)values), Is.EqualTo(expected));
        Assert.That((long[])layer.Invoke((Array)new[] { -7, 0, 99, 1000, 1 }), Is.EqualTo(expected.Take(3).Concat(new long[] { 0, 4 }).ToArray()));
    }

    [Test]
    public void IntegerLookup_SaltWithFarmHash_SipHashOfTheDecimalText()
    {
        // integer_lookup_test.py test_salt_siphash: differs from unsalted farmhash.
        var values = new long[] { 100, 300, 700, 1100, 1700, 2000 };
        using var salted = new IntegerLookup(vocabulary: new long[] { 10, 20, 30 }, numOovIndices: 4, oovMethod: "farmhash", salt: Salt);
        var ids = (long[])salted.Invoke((Array)values);
        Assert.That(ids, Is.EqualTo(values.Select(v => Hashing.ToHashBucketStrong(v.ToString(System.Globalization.CultureInfo.InvariantCulture), 4, 137, 42)).ToArray()));
        Assert.That(ids, Is.Not.EqualTo(new long[] { 3, 3, 2, 2, 0, 1 }));
    }

    [Test]
    public void IntegerLookup_OneOovIndex_OovMethodHasNoEffect()
    {
        // integer_lookup_test.py test_oov_method_ignored_when_single_oov_index.
        using var floormod = new IntegerLookup(vocabulary: new long[] { 1, 2, 3 }, oovMethod: "floormod");
        using var farmhash = new IntegerLookup(vocabulary: new long[] { 1, 2, 3 }, oovMethod: "farmhash");
        Assert.That((long[])farmhash.Invoke((Array)new long[] { 99, 100, 101 }), Is.EqualTo((long[])floormod.Invoke((Array)new long[] { 99, 100, 101 })).And.EqualTo(new long[] { 0, 0, 0 }));
    }

    [Test]
    public void IntegerLookup_SaltAndOovMethodArguments_AsKeras()
    {
        // index_lookup_test.py: salt needs farmhash for integers, 2 values; an unknown oov_method is refused.
        Assert.That(() => new IntegerLookup(numOovIndices: 2, salt: Salt), Throws.ArgumentException.With.Message.Contains("IntegerLookup").And.Message.Contains("farmhash"));
        Assert.That(() => new IntegerLookup(numOovIndices: 2, oovMethod: "farmhash", salt: new long[] { 1, 2, 3 }), Throws.ArgumentException.With.Message.Contains("salt"));
        Assert.That(() => new IntegerLookup(numOovIndices: 2, oovMethod: "invalid_method"), Throws.ArgumentException.With.Message.Contains("'invalid_method'"));
        Assert.That(new IntegerLookup(numOovIndices: 2, oovMethod: "farmhash", salt: new long[] { 99, 99 }).Salt, Is.EqualTo(new long[] { 99, 99 }));
    }

    [Test]
    public void IntegerLookup_Invert_EveryOovIndexGivesTheOovToken()
    {
        using var layer = new IntegerLookup(vocabulary: new long[] { 12, 36 }, numOovIndices: 2, oovMethod: "farmhash", invert: true);
        Assert.That((long[])layer.Invoke((Array)new long[] { 0, 1, 2, 3, 7 }), Is.EqualTo(new long[] { -1, -1, 12, 36, -1 }));
    }

    [Test]
    public void GetConfig_SaltAndOovMethod_WrittenAsKerasAndRoundTrip()
    {
        // index_lookup_test.py test_salt_config_serialization: Keras keeps salt as the list [137, 42].
        using var layer = new IntegerLookup(maxTokens: 10, numOovIndices: 2, vocabulary: new long[] { 1, 2, 3 }, oovMethod: "farmhash", salt: Salt, name: "il");
        var config = layer.GetConfig();
        Assert.That(config["oov_method"]!.ToJsonString(), Is.EqualTo("\"farmhash\""));
        Assert.That(config["salt"]!.ToJsonString(), Is.EqualTo("[137,42]"));
        using var again = (IntegerLookup)LayerRegistry.Create(new LayerConfig("IntegerLookup", "il", JsonNode.Parse(config.ToJsonString())!.AsObject()));
        Assert.That(again.GetConfig().ToJsonString(), Is.EqualTo(config.ToJsonString()));
        Assert.That((long[])again.Invoke((Array)new long[] { 100, 200, 3 }), Is.EqualTo((long[])layer.Invoke((Array)new long[] { 100, 200, 3 })));

        using var strings = new StringLookup(numOovIndices: 3, vocabulary: new[] { "a" }, salt: new long[] { -1, 5 }, name: "sl");
        var stringConfig = strings.GetConfig();
        Assert.That((stringConfig["oov_method"]!.ToJsonString(), stringConfig["salt"]!.ToJsonString()), Is.EqualTo(("\"floormod\"", "[-1,5]")));
        using var stringsAgain = (StringLookup)LayerRegistry.Create(new LayerConfig("StringLookup", "sl", JsonNode.Parse(stringConfig.ToJsonString())!.AsObject()));
        Assert.That((long[])stringsAgain.Invoke(new[] { "p", "q", "r", "a" }), Is.EqualTo((long[])strings.Invoke(new[] { "p", "q", "r", "a" })));
    }

    [Test]
    public void FromConfig_SingleIntegerSalt_IsBothKeyWords_AndBadSaltOrMethodRefused()
    {
        // Keras' __init__ turns salt=s into [s, s] (what its get_config then writes).
        JsonObject Config(string salt, string method) => JsonNode.Parse($$"""
            {"name": "il", "trainable": true, "dtype": "int64", "invert": false, "max_tokens": null, "num_oov_indices": 2, "oov_token": -1,
             "mask_token": null, "output_mode": "int", "sparse": false, "pad_to_max_tokens": false, "vocabulary_dtype": "int64",
             "idf_weights": null, "vocabulary": [5], "vocabulary_size": 3, "oov_method": {{method}}, "salt": {{salt}}}
            """)!.AsObject();
        using var layer = (IntegerLookup)LayerRegistry.Create(new LayerConfig("IntegerLookup", "il", Config("99", "\"farmhash\"")));
        Assert.That(layer.Salt, Is.EqualTo(new long[] { 99, 99 }));
        Assert.That(layer.GetConfig()["salt"]!.ToJsonString(), Is.EqualTo("[99,99]"));
        Assert.That(() => LayerRegistry.Create(new LayerConfig("IntegerLookup", "il", Config("[1, 2, 3]", "\"farmhash\""))), Throws.InstanceOf<FormatException>().With.Message.Contains("salt"));
        Assert.That(() => LayerRegistry.Create(new LayerConfig("IntegerLookup", "il", Config("\"bad\"", "\"farmhash\""))), Throws.InstanceOf<FormatException>().With.Message.Contains("salt"));
        Assert.That(() => LayerRegistry.Create(new LayerConfig("IntegerLookup", "il", Config("[1, 2]", "\"floormod\""))), Throws.InstanceOf<FormatException>().With.Message.Contains("farmhash"));
        Assert.That(() => LayerRegistry.Create(new LayerConfig("IntegerLookup", "il", Config("null", "\"murmur\""))), Throws.InstanceOf<FormatException>().With.Message.Contains("'murmur'"));
    }

    [Test]
    public void FromConfig_TfKeras2WithoutOovMethodOrSalt_DefaultsFloorModAndFarmHash()
    {
        // tf.keras 2's get_config has neither key; its lookup hashed strings with to_hash_bucket_fast and took floormod of integers.
        using var ints = (IntegerLookup)LayerRegistry.Create(new LayerConfig("IntegerLookup", "il", JsonNode.Parse("""
            {"name": "il", "trainable": true, "dtype": "int64", "invert": false, "max_tokens": null, "num_oov_indices": 2, "oov_token": -1,
             "mask_token": null, "output_mode": "int", "sparse": false, "pad_to_max_tokens": false, "vocabulary_dtype": "int64",
             "idf_weights": null, "vocabulary": [12, 36, 1138, 42], "vocabulary_size": 6}
            """)!.AsObject(), keras2: true));
        Assert.That((ints.OovMethod, ints.Salt), Is.EqualTo(("floormod", (IReadOnlyList<long>?)null)));
        Assert.That((long[])ints.Invoke((Array)new long[] { 37, 1000, 36 }), Is.EqualTo(new long[] { 1, 0, 3 }));
        using var strings = (StringLookup)LayerRegistry.Create(new LayerConfig("StringLookup", "sl", JsonNode.Parse("""
            {"name": "sl", "trainable": true, "dtype": "string", "invert": false, "max_tokens": null, "num_oov_indices": 2, "oov_token": "[UNK]",
             "mask_token": null, "output_mode": "int", "sparse": false, "pad_to_max_tokens": false, "vocabulary": ["a", "b", "c", "d"],
             "idf_weights": null, "encoding": "utf-8"}
            """)!.AsObject(), keras2: true));
        Assert.That((long[,])strings.Invoke(new[,] { { "m", "z", "b" } }), Is.EqualTo(new long[,] { { 0, 1, 3 } }));
    }

    [Test]
    public void SaveKeras_LearnedVocabularyWithTwoOovIndices_AssetsHoldEverySpecialTokenAndLoadBack()
    {
        // index_lookup_test.py test_save_and_load_assets_with_multiple_oov_indices: mask, two OOV tokens, then the terms.
        var word = new Input(new[] { 1 }, DType.String, name: "word");
        var lookup = new StringLookup(maxTokens: 10, numOovIndices: 2, maskToken: "<mask>", oovToken: "[OOV]", name: "look");
        lookup.SetVocabulary(new[] { "apple", "banana" });
        Assert.That(lookup.GetVocabulary(), Is.EqualTo(new[] { "<mask>", "[OOV]", "[OOV]", "apple", "banana" }));
        using var model = new Model(word, lookup.Call(word));
        var path = PathOf("oov.keras");
        model.Save(path);
        using (var zip = ZipFile.OpenRead(path))
        {
            using var reader = new StreamReader(zip.GetEntry("assets/layers/string_lookup/vocabulary.txt")!.Open());
            Assert.That(reader.ReadToEnd(), Is.EqualTo("<mask>\n[OOV]\n[OOV]\napple\nbanana"));
        }

        using var loaded = Model.Load(path);
        var loadedLookup = (StringLookup)loaded.Layers.Single(l => l.Name == "look");
        Assert.That(loadedLookup.GetVocabulary(), Is.EqualTo(lookup.GetVocabulary()));
        var x = new[,] { { "apple" }, { "<mask>" }, { "kiwi" }, { "banana" } };
        // Predict returns the int64 ids as float32.
        Assert.That(loaded.Predict<float[,]>(x), Is.EqualTo(new float[,] { { 3 }, { 0 }, { 1 + Hashing.ToHashBucketFast("kiwi", 2) }, { 4 } }));
        Assert.That(model.Predict<float[,]>(x), Is.EqualTo(loaded.Predict<float[,]>(x)));
    }
}
