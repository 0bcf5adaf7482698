using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Initializers;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Tests.Saving;
using Identity = KerasStyle.Initializers.Identity;

namespace KerasStyle.Tests.Initializers;

/// <summary>
/// Initializers as layer arguments (Keras' <c>kernel_initializer</c>, <c>bias_initializer</c>, ...): used when the layer
/// builds, written and read in configs as Keras 3.16 (Training/KerasFixtures/initializers.json), refused clearly where
/// they cannot fill a weight.
/// </summary>
public class LayerInitializerTests
{
    private static JsonObject Fixture => InitializerTests.Fixture;

    private static float[] Weight(Layer layer, int index) => layer.GetWeights()[index].Data;

    private static Layer Built(Layer layer, params int[] inputShape)
    {
        var input = new Input(inputShape);
        _ = new Model(input, layer.Call(input));
        return layer;
    }

    [Test]
    public void KerasModelConfig_WithSeededAndConstantInitializers_BuildsWithThoseValues()
    {
        var json = Fixture["model_json"]!.ToJsonString();
        var model = Model.FromJson(json);
        foreach (var (path, values) in Fixture["weights"]!.AsObject())
        {
            var layer = model.GetLayer(path.Split('/')[0]);
            var index = layer.Weights.Select(w => w.Name).ToList().IndexOf(path.Split('/')[1]);
            Assert.That(index, Is.GreaterThanOrEqualTo(0), path);
            Assert.That(Weight(layer, index), Is.EqualTo(FixtureJson.Flatten(values!).Select(v => (float)v).ToArray()), path);
        }

        // Seeded initializers give the same weights in a second build of the config; limits as their formulas.
        var again = Model.FromJson(json);
        foreach (var name in new[] { "lstm", "dense", "out" })
        {
            Assert.That(Weight(again.GetLayer(name), 0), Is.EqualTo(Weight(model.GetLayer(name), 0)), name);
        }

        Assert.That(Weight(model.GetLayer("dense"), 0).Max(v => Math.Abs(v)), Is.LessThan(2 * Math.Sqrt(2.0 / 3) / 0.87962566103423978), "he_normal over fan_in 3");
        Assert.That(Weight(model.GetLayer("conv1d"), 0).Max(v => Math.Abs(v)), Is.LessThanOrEqualTo(Math.Sqrt(6.0 / (2 * 3)) + 1e-6), "he_uniform over fan_in 2 * 3");
        Assert.That(Weight(model.GetLayer("out"), 0).Max(v => Math.Abs(v)), Is.LessThanOrEqualTo(Math.Sqrt(3 * 0.5 / 2) + 1e-6), "VarianceScaling(0.5, fan_out) over fan_out 2");
    }

    [Test]
    public void KerasModelConfig_LayersWriteTheirInitializersAsKeras()
    {
        var model = Model.FromJson(Fixture["model_json"]!.ToJsonString());
        foreach (var (name, keras) in Fixture["configs"]!.AsObject())
        {
            if (name == "x")
            {
                continue;
            }

            var config = model.GetLayer(name).GetConfig();
            foreach (var (key, value) in keras!.AsObject().Where(p => p.Key.EndsWith("_initializer", StringComparison.Ordinal)))
            {
                Assert.That(InitializerTests.SameJson(config[key], value), Is.True, $"{name}.{key}: {config[key]?.ToJsonString()} vs {value?.ToJsonString()}");
            }
        }
    }

    [Test]
    public void OneSeededInitializer_InTwoLayers_GivesEqualWeights_AsKeras()
    {
        var seeded = new HeNormal(seed: 21);
        var a = Built(new Dense(5) { KernelInitializer = seeded }, 4);
        var b = Built(new Dense(5) { KernelInitializer = seeded }, 4);
        Assert.That(Weight(b, 0), Is.EqualTo(Weight(a, 0)));
        Assert.That(Weight(a, 0), Is.EqualTo(seeded.Invoke(4, 5)), "the layer's values are the initializer's");
        var c = Built(new Dense(5), 4);
        var d = Built(new Dense(5), 4);
        Assert.That(Weight(c, 0), Is.Not.EqualTo(Weight(d, 0)), "unseeded: each layer's own generator");
    }

    [Test]
    public void Lstm_UnitForgetBias_CallsTheBiasInitializerAroundTheForgetGateOnes()
    {
        var lstm = Built(new LSTM(3) { BiasInitializer = new Constant(0.3) }, 4, 2);
        var expected = new[] { 0.3f, 0.3f, 0.3f, 1f, 1f, 1f, 0.3f, 0.3f, 0.3f, 0.3f, 0.3f, 0.3f };
        Assert.That(Weight(lstm, 2), Is.EqualTo(expected));
        var plain = Built(new LSTM(3, unitForgetBias: false) { BiasInitializer = new Constant(0.3) }, 4, 2);
        Assert.That(Weight(plain, 2), Is.EqualTo(Enumerable.Repeat(0.3f, 12).ToArray()));
        var seeded = new RandomUniform(seed: 5);
        var random = Built(new LSTM(3) { BiasInitializer = seeded }, 4, 2);
        var bias = Weight(random, 2);
        Assert.That(bias[..3], Is.EqualTo(seeded.Invoke(3)), "Keras calls the initializer on (units,) for the input gate");
        Assert.That(bias[6..], Is.EqualTo(seeded.Invoke(6)), "and on (2 units,) for the cell and output gates");
    }

    [Test]
    public void RecurrentLayers_TakeKernelRecurrentAndBiasInitializers()
    {
        var gru = Built(new GRU(2) { KernelInitializer = new Ones(), RecurrentInitializer = new Identity(2.0), BiasInitializer = new Constant(-1) }, 3, 2);
        Assert.That(Weight(gru, 0), Is.All.EqualTo(1f));
        Assert.That(Weight(gru, 1), Is.EqualTo(new Identity(2.0).Invoke(2, 6)));
        Assert.That(Weight(gru, 2), Is.All.EqualTo(-1f));
        var rnn = Built(new SimpleRNN(3) { RecurrentInitializer = new Orthogonal(0.5, seed: 2) }, 3, 2);
        Assert.That(Weight(rnn, 1), Is.EqualTo(new Orthogonal(0.5, seed: 2).Invoke(3, 3)));
        var conv = Built(new ConvLSTM1D(2, 2) { KernelInitializer = new Constant(0.5), BiasInitializer = new Constant(0.2) }, 3, 5, 1);
        Assert.That(Weight(conv, 0), Is.All.EqualTo(0.5f));
        Assert.That(Weight(conv, 2), Is.EqualTo(new[] { 0.2f, 0.2f, 1f, 1f, 0.2f, 0.2f, 0.2f, 0.2f }));
    }

    [Test]
    public void ConvolutionsEmbeddingAndNormalizations_TakeTheirKerasInitializers()
    {
        Assert.That(Weight(Built(new Conv2D(2, 3) { KernelInitializer = new Constant(0.5), BiasInitializer = new Ones() }, 5, 5, 1), 0), Is.All.EqualTo(0.5f));
        Assert.That(Weight(Built(new Conv1DTranspose(2, 3) { BiasInitializer = new Constant(0.7) }, 4, 1), 1), Is.All.EqualTo(0.7f));
        Assert.That(Weight(Built(new DepthwiseConv2D(3) { DepthwiseInitializer = new Constant(0.25) }, 5, 5, 2), 0), Is.All.EqualTo(0.25f));
        var separable = Built(new SeparableConv1D(3, 2) { DepthwiseInitializer = new Ones(), PointwiseInitializer = new Constant(2) }, 5, 2);
        Assert.That(Weight(separable, 0), Is.All.EqualTo(1f));
        Assert.That(Weight(separable, 1), Is.All.EqualTo(2f));
        var input = new Input(4, DType.Int64);
        var embedding = new Embedding(10, 3) { EmbeddingsInitializer = new Constant(0.125) };
        _ = new Model(input, embedding.Call(input));
        Assert.That(Weight(embedding, 0), Is.All.EqualTo(0.125f));
        Assert.That(Weight(Built(new PReLU() { AlphaInitializer = new Constant(0.25) }, 3), 0), Is.All.EqualTo(0.25f));
        var bn = Built(new BatchNormalization() { GammaInitializer = new Constant(2), BetaInitializer = new Ones(), MovingMeanInitializer = new Constant(0.5), MovingVarianceInitializer = new Constant(4) }, 3);
        Assert.That(bn.GetWeights().Select(w => w.Data[0]), Is.EqualTo(new[] { 2f, 1f, 0.5f, 4f }));
        var ln = Built(new LayerNormalization() { GammaInitializer = new Constant(3), BetaInitializer = new Constant(-1) }, 3);
        Assert.That(ln.GetWeights().Select(w => w.Data[0]), Is.EqualTo(new[] { 3f, -1f }));
        var gn = Built(new GroupNormalization(groups: 1) { GammaInitializer = new Constant(5) }, 2);
        Assert.That(Weight(gn, 0), Is.All.EqualTo(5f));
    }

    [Test]
    public void EinsumDense_GivesAVarianceScalingKernelTheEquationsAxes_AsKeras()
    {
        // Kernel (6, 4, 5) of "ab,bcd->acd": fan_in over the input axis b (6), not compute_fans' 4 * 6.
        var layer = Built(new EinsumDense("ab,bcd->acd", new int?[] { 4, 5 }) { KernelInitializer = new HeUniform(seed: 3) }, 6);
        var kernel = Weight(layer, 0);
        Assert.That(kernel.Max(v => Math.Abs(v)), Is.GreaterThan(0.9).And.LessThanOrEqualTo(1.0 + 1e-6), "limit sqrt(6 / 6)");
        Assert.That(layer.GetConfig()["kernel_initializer"]!["config"]!["input_axes"], Is.Null, "the layer's own initializer is written as given");
    }

    [Test]
    public void MultiHeadAttention_WritesAndReadsItsInitializers()
    {
        var mha = new MultiHeadAttention(2, 3) { KernelInitializer = new HeNormal(seed: 1), BiasInitializer = new Constant(0.1) };
        var config = mha.GetConfig();
        Assert.That(InitializerTests.SameJson(config["kernel_initializer"], new HeNormal(seed: 1).Serialize()), Is.True);
        var query = new Input((4, 6));
        var output = mha.Call(query, query);
        _ = new Model(query, output);
        var values = mha.GetWeights();
        var biases = mha.Weights.Select((w, i) => (w.Name, values[i].Data)).Where(p => p.Name.EndsWith("bias", StringComparison.Ordinal)).ToArray();
        Assert.That(biases, Has.Length.EqualTo(4));
        Assert.That(biases.SelectMany(b => b.Data), Is.All.EqualTo(0.1f));
    }

    [Test]
    public void AnInitializerThatCannotFillAWeight_IsRefusedAtBuild_NamingTheLayer()
    {
        var input = new Input(4);
        var dense = new Dense(3, name: "d") { BiasInitializer = new Identity() };
        Assert.That(() => dense.Call(input), Throws.ArgumentException.With.Message.Contains("Dense 'd'").And.Message.Contains("Identity").And.Message.Contains("'bias'"));
        Assert.That(() => Built(new DepthwiseConv2D(3) { KernelInitializer = new Ones() }, 5, 5, 2), Throws.InstanceOf<NotSupportedException>().With.Message.Contains("DepthwiseInitializer"));
    }

    [Test]
    public void LayerConfig_NamingAnUnknownOrUncomputableInitializer_IsRefusedClearly()
    {
        var json = Fixture["model_json"]!.DeepClone();
        var dense = json["config"]!["layers"]!.AsArray().First(l => (string?)l!["config"]!["name"] == "dense")!["config"]!;
        dense["kernel_initializer"] = "glorot";
        Assert.That(() => Model.FromJson(json.ToJsonString()), Throws.InstanceOf<FormatException>().With.Message.Contains("Dense 'dense'").And.Message.Contains("'kernel_initializer'"));
        dense["kernel_initializer"] = "stft";
        Assert.That(() => Model.FromJson(json.ToJsonString()), Throws.InstanceOf<NotSupportedException>().With.Message.Contains("'kernel_initializer'"));
        dense["kernel_initializer"] = "he_normal";
        dense["bias_initializer"] = "orthogonal";
        Assert.That(() => Model.FromJson(json.ToJsonString()), Throws.ArgumentException.With.Message.Contains("Orthogonal"));
    }
}
