using System.Text.Json;
using System.Text.Json.Nodes;
using KerasStyle.Initializers;
using KerasStyle.Tests.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Initializers;

/// <summary>
/// keras.initializers against their formulas (keras/src/initializers/{constant,random}_initializers.py) and Keras 3.16
/// (Training/KerasFixtures/initializers.json, tools/keras-fixtures/initializers.py): values, seeds, names, configs
/// both ways and the errors Keras raises; cases of Keras' initializers_test.py that apply.
/// </summary>
public class InitializerTests
{
    internal static readonly JsonObject Fixture = JsonNode.Parse(File.ReadAllText(Path.Combine(TestContext.CurrentContext.TestDirectory, "Training", "KerasFixtures", "initializers.json")))!.AsObject();

    private static readonly Dictionary<string, Func<Initializer>> Cases = new()
    {
        ["Constant(0.3)"] = () => new Constant(0.3),
        ["Zeros()"] = () => new Zeros(),
        ["Ones()"] = () => new Ones(),
        ["Identity(2.5)"] = () => new Identity(2.5),
        ["RandomNormal(1.0,0.2,seed=3)"] = () => new RandomNormal(1.0, 0.2, seed: 3),
        ["RandomUniform(-1.0,2.0,seed=4)"] = () => new RandomUniform(-1.0, 2.0, seed: 4),
        ["TruncatedNormal(0.5,0.1,seed=5)"] = () => new TruncatedNormal(0.5, 0.1, seed: 5),
        ["VarianceScaling(0.5,fan_out,uniform,seed=6)"] = () => new VarianceScaling(0.5, "fan_out", "uniform", seed: 6),
        ["VarianceScaling(2.0,fan_avg,Normal)"] = () => new VarianceScaling(2.0, "fan_avg", "Normal"),
        ["VarianceScaling(1.0,fan_in,untruncated_normal,axes)"] = () => new VarianceScaling(distribution: "untruncated_normal", inputAxes: new[] { 0, 1 }, outputAxes: new[] { 2 }),
        ["GlorotNormal(seed=7)"] = () => new GlorotNormal(seed: 7),
        ["GlorotUniform(seed=8)"] = () => new GlorotUniform(seed: 8),
        ["HeNormal(seed=9)"] = () => new HeNormal(seed: 9),
        ["HeUniform(seed=10)"] = () => new HeUniform(seed: 10),
        ["LecunNormal(seed=11)"] = () => new LecunNormal(seed: 11),
        ["LecunUniform(seed=12)"] = () => new LecunUniform(seed: 12),
        ["Orthogonal(1.5,seed=13)"] = () => new Orthogonal(1.5, seed: 13),
    };

    private static IEnumerable<string> CaseNames => Cases.Keys;

    private static IEnumerable<string> GetNames => Fixture["get"]!.AsObject().Select(p => p.Key);

    private static IEnumerable<string> RefusedNames => Fixture["get_refused"]!.AsObject().Select(p => p.Key);

    /// <summary>JSON equality with numbers compared by value (1 and 1.0 alike), as Keras' float arguments are written.</summary>
    internal static bool SameJson(JsonNode? a, JsonNode? b) => (a, b) switch
    {
        (null, null) => true,
        (JsonObject x, JsonObject y) => x.Count == y.Count && x.All(p => y.ContainsKey(p.Key) && SameJson(p.Value, y[p.Key])),
        (JsonArray x, JsonArray y) => x.Count == y.Count && x.Zip(y).All(p => SameJson(p.First, p.Second)),
        (JsonValue x, JsonValue y) when x.GetValueKind() == JsonValueKind.Number && y.GetValueKind() == JsonValueKind.Number => double.Parse(x.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture) == double.Parse(y.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture),
        (JsonValue x, JsonValue y) => JsonNode.DeepEquals(x, y),
        _ => false,
    };

    private static float[] Values(Initializer initializer, params long[] shape)
    {
        using var t = initializer.Invoke(shape);
        Assert.That(t.shape, Is.EqualTo(shape));
        Assert.That(t.dtype, Is.EqualTo(ScalarType.Float32));
        return t.data<float>().ToArray();
    }

    private static (double Mean, double Std) Moments(float[] values)
    {
        var mean = values.Average(v => (double)v);
        return (mean, Math.Sqrt(values.Average(v => (v - mean) * (v - mean))));
    }

    [TestCase("GlorotUniform", 6.0 / (60 + 75))]
    [TestCase("HeUniform", 6.0 / 60)]
    [TestCase("LecunUniform", 3.0 / 60)]
    [TestCase("VarianceScaling(0.5,fan_out,uniform)", 1.5 / 75)]
    public void UniformScalings_DrawWithinSqrtOfKerasLimit_AndFillIt(string name, double limitSquared)
    {
        // A conv kernel (3, 20, 25): fan_in 3 * 20 = 60, fan_out 3 * 25 = 75 (compute_fans' receptive field).
        Initializer initializer = name switch
        {
            "GlorotUniform" => new GlorotUniform(seed: 1),
            "HeUniform" => new HeUniform(seed: 1),
            "LecunUniform" => new LecunUniform(seed: 1),
            _ => new VarianceScaling(0.5, "fan_out", "uniform", seed: 1),
        };
        var values = Values(initializer, 3, 20, 25);
        var limit = Math.Sqrt(limitSquared);
        Assert.That(values.Max(v => Math.Abs(v)), Is.LessThanOrEqualTo(limit * (1 + 1e-6)));
        Assert.That(values.Max(), Is.GreaterThan(limit * 0.98));
        Assert.That(values.Min(), Is.LessThan(-limit * 0.98));
        var (mean, std) = Moments(values);
        Assert.That(mean, Is.EqualTo(0).Within(limit * 0.05));
        Assert.That(std, Is.EqualTo(limit / Math.Sqrt(3)).Within(limit / Math.Sqrt(3) * 0.03));
    }

    [TestCase("GlorotNormal", 2.0 / (300 + 400))]
    [TestCase("HeNormal", 2.0 / 300)]
    [TestCase("LecunNormal", 1.0 / 300)]
    [TestCase("VarianceScaling(3,fan_out,truncated_normal)", 3.0 / 400)]
    public void TruncatedScalings_HaveKerasStddevAfterTruncation_AndNoValueBeyondTwoStddevsBefore(string name, double variance)
    {
        Initializer initializer = name switch
        {
            "GlorotNormal" => new GlorotNormal(seed: 2),
            "HeNormal" => new HeNormal(seed: 2),
            "LecunNormal" => new LecunNormal(seed: 2),
            _ => new VarianceScaling(3, "fan_out", "truncated_normal", seed: 2),
        };
        var values = Values(initializer, 300, 400);
        var target = Math.Sqrt(variance);
        var (mean, std) = Moments(values);
        // stddev = sqrt(scale / n) / 0.87962566103423978 before truncation at 2 stddevs; sqrt(scale / n) after.
        Assert.That(std, Is.EqualTo(target).Within(target * 0.01));
        Assert.That(mean, Is.EqualTo(0).Within(target * 0.01));
        Assert.That(values.Max(v => Math.Abs(v)), Is.LessThan(2 * target / 0.87962566103423978));
        Assert.That(values.Max(v => Math.Abs(v)), Is.GreaterThan(1.95 * target / 0.87962566103423978));
    }

    [Test]
    public void VarianceScaling_UntruncatedNormal_HasStddevSqrtScaleOverFan()
    {
        var values = Values(new VarianceScaling(2.0, "fan_avg", "untruncated_normal", seed: 3), 200, 600);
        var (mean, std) = Moments(values);
        var target = Math.Sqrt(2.0 / 400);
        Assert.That(std, Is.EqualTo(target).Within(target * 0.01));
        Assert.That(mean, Is.EqualTo(0).Within(target * 0.01));
        Assert.That(values.Max(v => Math.Abs(v)), Is.GreaterThan(3.5 * target), "not truncated");
    }

    [Test]
    public void VarianceScaling_WithAxes_TakesFansFromThem()
    {
        // Keras' test_variance_scaling_with_axes: (8, 64, 64) with input_axes [0] has fan_in 8.
        var values = Values(new VarianceScaling(1.0, "fan_in", "untruncated_normal", seed: 4, inputAxes: new[] { 0 }, outputAxes: new[] { 1, 2 }), 8, 64, 64);
        Assert.That(Moments(values).Std, Is.EqualTo(Math.Sqrt(1.0 / 8)).Within(Math.Sqrt(1.0 / 8) * 0.02));
        var plain = Values(new VarianceScaling(1.0, "fan_in", "untruncated_normal", seed: 4), 8, 64, 64);
        Assert.That(Moments(plain).Std, Is.EqualTo(Math.Sqrt(1.0 / (8 * 64))).Within(Math.Sqrt(1.0 / (8 * 64)) * 0.02));
    }

    [Test]
    public void RandomNormal_HasItsMeanAndStddev()
    {
        var (mean, std) = Moments(Values(new RandomNormal(1.0, 0.2, seed: 5), 400, 500));
        Assert.That(mean, Is.EqualTo(1.0).Within(0.002));
        Assert.That(std, Is.EqualTo(0.2).Within(0.002));
    }

    [Test]
    public void TruncatedNormal_StaysWithinTwoStddevsOfItsMean()
    {
        var values = Values(new TruncatedNormal(0.5, 0.1, seed: 6), 400, 500);
        Assert.That(values.Min(), Is.GreaterThan(0.3 - 1e-6));
        Assert.That(values.Max(), Is.LessThan(0.7 + 1e-6));
        var (mean, std) = Moments(values);
        Assert.That(mean, Is.EqualTo(0.5).Within(0.001));
        Assert.That(std, Is.EqualTo(0.1 * 0.87962566103423978).Within(0.001));
    }

    [Test]
    public void RandomUniform_DrawsInItsHalfOpenRange()
    {
        // Keras' test_random_uniform: min >= minval, max < maxval.
        var values = Values(new RandomUniform(-1.0, 2.0, seed: 7), 300, 300);
        Assert.That(values.Min(), Is.GreaterThanOrEqualTo(-1.0f));
        Assert.That(values.Max(), Is.LessThan(2.0f));
        Assert.That(Moments(values).Mean, Is.EqualTo(0.5).Within(0.01));
    }

    [TestCase(6, 4, 1.0)]
    [TestCase(4, 6, 1.5)]
    [TestCase(5, 5, 2.0)]
    public void Orthogonal_ShorterSideIsOrthogonalWithNormGain(int rows, int cols, double gain)
    {
        using var q = new Orthogonal(gain, seed: 8).Invoke(new long[] { rows, cols }, "float64");
        // Keras' test_orthogonal: Q^T Q = gain^2 I (Q Q^T when wider than tall).
        using var product = rows >= cols ? q.t().matmul(q) : q.matmul(q.t());
        var n = Math.Min(rows, cols);
        using var expected = eye(n, dtype: ScalarType.Float64).mul(gain * gain);
        Assert.That(product.allclose(expected, rtol: 0, atol: 1e-5), Is.True, product.ToString(TorchSharp.TensorStringStyle.Numpy));
    }

    [Test]
    public void Orthogonal_OfAKernelShape_FlattensAllButTheLastAxis()
    {
        using var q = new Orthogonal(seed: 9).Invoke(new long[] { 2, 3, 5 });
        using var flat = q.reshape(6, 5).to_type(ScalarType.Float64);
        using var product = flat.t().matmul(flat);
        Assert.That(product.allclose(eye(5, dtype: ScalarType.Float64), rtol: 0, atol: 1e-5), Is.True);
    }

    [TestCase("Constant(0.3)(2,3)")]
    [TestCase("Identity(2.5)(3,4)")]
    [TestCase("Identity()(3,2)")]
    [TestCase("Ones()(2,2)")]
    public void ConstantInitializers_GiveKerasValues(string name)
    {
        Initializer initializer = name switch
        {
            "Constant(0.3)(2,3)" => new Constant(0.3),
            "Identity(2.5)(3,4)" => new Identity(2.5),
            "Identity()(3,2)" => new Identity(),
            _ => new Ones(),
        };
        var expected = Fixture["values"]![name]!.AsArray();
        var shape = new[] { expected.Count, expected[0]!.AsArray().Count };
        Assert.That(initializer.Invoke(shape), Is.EqualTo(FixtureJson.Flatten(expected).Select(v => (float)v).ToArray()));
    }

    [Test]
    public void Constant_CastToAnIntegerDtype_TruncatesAsKeras()
    {
        using var values = new Constant(3.7).Invoke(new long[] { 2 }, "int32");
        Assert.That(values.dtype, Is.EqualTo(ScalarType.Int32));
        Assert.That(values.data<int>().ToArray(), Is.EqualTo(FixtureJson.Flatten(Fixture["values"]!["Constant(3.7)(2,) int32"]!).Select(v => (int)v).ToArray()));
    }

    [Test]
    public void Constant_WithAnArrayValue_BroadcastsItAndSerializesItAsKeras()
    {
        // Keras' test_constant_initializer_array_value, and its serialized NumPy value (checked in Keras 3.16:
        // {"value": {"class_name": "__numpy__", "config": {"value": [[1.0, 2.0], [3.0, 4.0]], "dtype": "float32"}}}).
        var constant = new Constant(new float[,] { { 1, 2 }, { 3, 4 } });
        Assert.That(constant.Invoke(2, 2), Is.EqualTo(new[] { 1f, 2f, 3f, 4f }));
        var expected = JsonNode.Parse("""{"module": "keras.initializers", "class_name": "Constant", "config": {"value": {"class_name": "__numpy__", "config": {"value": [[1.0, 2.0], [3.0, 4.0]], "dtype": "float32"}}}, "registered_name": null}""");
        Assert.That(SameJson(constant.Serialize(), expected), Is.True, constant.Serialize().ToJsonString());
        var read = (Constant)Initializer.Get(expected)!;
        Assert.That(read.Invoke(2, 2), Is.EqualTo(new[] { 1f, 2f, 3f, 4f }));
        Assert.That(SameJson(read.Serialize(), expected), Is.True);
        Assert.That(new Constant(new[] { 1.0, 2.0 }).Invoke(3, 2), Is.EqualTo(new[] { 1f, 2f, 1f, 2f, 1f, 2f }), "broadcast as NumPy");
        Assert.That(() => new Constant(new[] { 1.0, 2.0, 3.0 }).Invoke(3, 2), Throws.ArgumentException.With.Message.Contains("does not broadcast"));
        var list = JsonNode.Parse("""{"class_name": "Constant", "config": {"value": [0.5, 1.5]}}""");
        var fromList = Initializer.Get(list)!;
        Assert.That(fromList.Invoke(2, 2), Is.EqualTo(new[] { 0.5f, 1.5f, 0.5f, 1.5f }));
        Assert.That(SameJson(fromList.GetConfig(), list!["config"]), Is.True, "a list is written back as a list, as Keras");
    }

    [Test]
    public void Zeros_TakesIntegerAndBoolDtypes()
    {
        using var z = new Zeros().Invoke(new long[] { 2, 2 }, "int64");
        Assert.That(z.dtype, Is.EqualTo(ScalarType.Int64));
        using var o = new Ones().Invoke(new long[] { 3 }, "bool");
        Assert.That(o.data<bool>().ToArray(), Is.EqualTo(new[] { true, true, true }));
    }

    [TestCase("int32")]
    [TestCase("bool")]
    public void RandomInitializers_RefuseANonFloatDtype(string dtype)
    {
        // Keras' random.uniform refuses it; torch refuses a normal draw of ints too.
        Assert.That(() => new RandomNormal().Invoke(new long[] { 2, 2 }, dtype), Throws.ArgumentException.With.Message.Contains("floating point"));
        Assert.That(() => new GlorotUniform().Invoke(new long[] { 2, 2 }, dtype), Throws.ArgumentException.With.Message.Contains("floating point"));
    }

    [Test]
    public void Invoke_WithFloat64_GivesFloat64_AndAnUnknownDtypeIsRefused()
    {
        using var values = new HeNormal(seed: 1).Invoke(new long[] { 3, 3 }, "float64");
        Assert.That(values.dtype, Is.EqualTo(ScalarType.Float64));
        Assert.That(() => new Zeros().Invoke(new long[] { 2 }, "floaty"), Throws.ArgumentException.With.Message.Contains("invalid dtype 'floaty'"));
        Assert.That(() => new Zeros().Invoke(new long[] { -1 }), Throws.ArgumentException.With.Message.Contains("negative"));
    }

    [TestCase("Orthogonal rank 1")]
    [TestCase("Identity rank 3")]
    public void Invoke_OnAShapeTheInitializerCannotFill_ThrowsKerasMessage(string name)
    {
        var keras = Fixture["errors"]![name]!.GetValue<string>()["ValueError: ".Length..];
        if (name == "Orthogonal rank 1")
        {
            Assert.That(() => new Orthogonal().Invoke(new long[] { 5 }), Throws.ArgumentException.With.Message.Contains(keras));
        }
        else
        {
            Assert.That(() => new Identity().Invoke(new long[] { 2, 2, 2 }), Throws.ArgumentException.With.Message.Contains(keras));
        }
    }

    [Test]
    public void VarianceScaling_RefusesKerasBadArguments_WithKerasMessages()
    {
        var errors = Fixture["errors"]!;
        string Keras(string key) => errors[key]!.GetValue<string>()["ValueError: ".Length..];
        Assert.That(() => new VarianceScaling(scale: -1.0), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains(Keras("scale=-1")));
        Assert.That(() => new VarianceScaling(scale: 0.0), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains(Keras("scale=0")));
        // Keras prints the allowed values as a Python set, in no fixed order: compare up to it.
        Assert.That(() => new VarianceScaling(mode: "invalid_mode"), Throws.ArgumentException.With.Message.Contains(Keras("mode=invalid_mode")[..Keras("mode=invalid_mode").IndexOf('{')]));
        Assert.That(() => new VarianceScaling(distribution: "invalid"), Throws.ArgumentException.With.Message.Contains(Keras("distribution=invalid")[..Keras("distribution=invalid").IndexOf('{')]));
        Assert.That(new VarianceScaling(distribution: "Normal").Distribution, Is.EqualTo("truncated_normal"));
    }

    [Test]
    public void ComputeFans_MatchesKeras()
    {
        foreach (var (key, value) in Fixture["fans"]!.AsObject())
        {
            var shape = JsonNode.Parse(key)!.AsArray().Select(d => d!.GetValue<long>()).ToArray();
            var expected = value!.AsArray().Select(d => d!.GetValue<long>()).ToArray();
            Assert.That(VarianceScaling.ComputeFans(shape), Is.EqualTo((expected[0], expected[1])), key);
        }

        Assert.That(VarianceScaling.ComputeFans(new long[] { 8, 64, 64 }, new[] { 0 }, new[] { 1, 2 }), Is.EqualTo((8L, 4096L)));
        Assert.That(VarianceScaling.ComputeFans(new long[] { 4, 5, 6 }, new[] { -1 }, new[] { 0, 1 }), Is.EqualTo((6L, 20L)));
        var axes = Fixture["fans_axes"]!;
        Assert.That(axes["(8,64,64),[0],[1,2]"]!.AsArray().Select(d => d!.GetValue<long>()), Is.EqualTo(new[] { 8L, 4096L }));
        Assert.That(axes["(4,5,6),[-1],[0,1]"]!.AsArray().Select(d => d!.GetValue<long>()), Is.EqualTo(new[] { 6L, 20L }));
    }

    [Test]
    public void Seeded_GivesTheSameValuesAtEveryCall_AndAcrossInstances()
    {
        // Keras: "an initializer seeded with an integer ... will produce the same random values across multiple calls".
        foreach (var make in new Func<long?, Initializer>[] { s => new RandomNormal(seed: s), s => new RandomUniform(seed: s), s => new TruncatedNormal(seed: s), s => new HeNormal(s), s => new GlorotUniform(s), s => new Orthogonal(seed: s) })
        {
            var one = make(1337);
            var first = one.Invoke(4, 5);
            Assert.That(one.Invoke(4, 5), Is.EqualTo(first), one.ToString());
            Assert.That(make(1337).Invoke(4, 5), Is.EqualTo(first), "another instance with the seed");
            Assert.That(make(1338).Invoke(4, 5), Is.Not.EqualTo(first), "another seed");
        }
    }

    [Test]
    public void Unseeded_RepeatsItsValues_ButAnotherInstanceDraws_Others()
    {
        // Keras draws an unseeded initializer a seed once (same values every call); a clone (from its config) draws another.
        var initializer = new RandomNormal();
        var first = initializer.Invoke(4, 5);
        Assert.That(initializer.Invoke(4, 5), Is.EqualTo(first));
        var clone = Initializer.Get(initializer.Serialize())!;
        Assert.That(clone.Invoke(4, 5), Is.Not.EqualTo(first));
    }

    [Test]
    public void Seed_OnlyItsLow32BitsSeedTheGenerator_AsKerasTorchBackend()
    {
        // Keras' torch backend seeds torch.Generator with seed & 0xFFFFFFFF (RandomValuesTests pins the managed draws).
        var values = new RandomNormal(0.0, 1.0, seed: 42).Invoke(3);
        var again = new RandomNormal(0.0, 1.0, seed: 42 + (1L << 32)).Invoke(3);
        Assert.That(again, Is.EqualTo(values));
        Assert.That(new RandomNormal(0.0, 1.0, seed: 43).Invoke(3), Is.Not.EqualTo(values));
        Assert.That(values.All(float.IsFinite), Is.True);
    }

    [TestCaseSource(nameof(CaseNames))]
    public void GetConfig_AndSerialize_WriteKeras316Form(string name)
    {
        var initializer = Cases[name]();
        Assert.That(SameJson(initializer.GetConfig(), Fixture["get_config"]![name]), Is.True, initializer.GetConfig().ToJsonString());
        Assert.That(SameJson(initializer.Serialize(), Fixture["serialize"]![name]), Is.True, initializer.Serialize().ToJsonString());
    }

    [TestCaseSource(nameof(CaseNames))]
    public void Get_KerasSerializedForm_ReadsBackTheSameInitializer(string name)
    {
        var read = Initializer.Get(Fixture["serialize"]![name]!.DeepClone())!;
        Assert.That(read.GetType(), Is.EqualTo(Cases[name]().GetType()));
        Assert.That(SameJson(read.Serialize(), Fixture["serialize"]![name]), Is.True, read.Serialize().ToJsonString());
    }

    [TestCaseSource(nameof(GetNames))]
    public void Get_AName_GivesKerasClassWithItsDefaults(string name)
    {
        var initializer = Initializer.Get(JsonValue.Create(name))!;
        Assert.That(SameJson(initializer.Serialize(), Fixture["get"]![name]), Is.True, initializer.Serialize().ToJsonString());
    }

    [TestCaseSource(nameof(RefusedNames))]
    public void Get_ANameKerasRefuses_IsRefused(string name)
    {
        Assert.That(Fixture["get_refused"]![name], Is.Not.Null, "Keras refuses it");
        Assert.That(() => Initializer.Get(JsonValue.Create(name)), Throws.InstanceOf<FormatException>());
    }

    [Test]
    public void Get_Null_GivesNull_AndTfKeras2FormsAreRead()
    {
        Assert.That(Initializer.Get(null), Is.Null);
        // tf.keras 2 writes {"class_name", "config"} without module; Keras 2.1 wrote glorot_uniform as VarianceScaling.
        var glorot = Initializer.Get(JsonNode.Parse("""{"class_name": "GlorotUniform", "config": {"seed": null}}"""));
        Assert.That(glorot, Is.InstanceOf<GlorotUniform>());
        var scaling = (VarianceScaling)Initializer.Get(JsonNode.Parse("""{"class_name": "VarianceScaling", "config": {"scale": 2.0, "mode": "fan_in", "distribution": "normal", "seed": 12}}"""))!;
        Assert.That((scaling.Scale, scaling.Mode, scaling.Distribution, scaling.Seed), Is.EqualTo((2.0, "fan_in", "truncated_normal", (long?)12)));
        var identity = (Identity)Initializer.Get(JsonNode.Parse("""{"class_name": "Identity", "config": {"gain": 3.0}}"""))!;
        Assert.That(identity.Gain, Is.EqualTo(3.0));
        var constant = (Constant)Initializer.Get(JsonNode.Parse("""{"class_name": "Constant", "config": {"value": 0}}"""))!;
        Assert.That(constant.Value, Is.EqualTo(0));
    }

    [Test]
    public void Get_RefusesUnknownKeys_BadSeeds_AndWhatThisLibraryDoesNotCompute()
    {
        Assert.That(() => Initializer.Get(JsonNode.Parse("""{"class_name": "HeNormal", "config": {"seed": 1, "scale": 2.0}}""")),
            Throws.InstanceOf<FormatException>().With.Message.Contains("'scale'"));
        Assert.That(() => Initializer.Get(JsonNode.Parse("""{"class_name": "RandomNormal", "config": {"seed": 1.5}}""")),
            Throws.InstanceOf<FormatException>().With.Message.Contains("seed"));
        Assert.That(() => Initializer.Get(JsonNode.Parse("""{"class_name": "RandomNormal", "config": {"seed": {"module": "keras.random", "class_name": "SeedGenerator", "config": {"seed": 1}}}}""")),
            Throws.InstanceOf<NotSupportedException>().With.Message.Contains("SeedGenerator"));
        Assert.That(() => Initializer.Get(JsonValue.Create("stft")), Throws.InstanceOf<NotSupportedException>());
        Assert.That(() => Initializer.Get(JsonNode.Parse("""{"class_name": "VarianceScaling", "config": {"scale": -1.0}}""")),
            Throws.InstanceOf<FormatException>().With.Message.Contains("Argument `scale` must be positive float. Received: scale=-1.0"));
        Assert.That(() => Initializer.Get(JsonNode.Parse("""{"class_name": "Constant", "config": {"value": {"class_name": "SomethingElse", "config": {}}}}""")), Throws.InstanceOf<NotSupportedException>());
        Assert.That(() => Initializer.Get(JsonNode.Parse("""{"class_name": "Constant", "config": {"value": [[1, 2], [3]]}}""")), Throws.InstanceOf<FormatException>().With.Message.Contains("rectangular"));
        Assert.That(() => Initializer.Get(JsonNode.Parse("[1]")), Throws.InstanceOf<FormatException>());
    }
}
