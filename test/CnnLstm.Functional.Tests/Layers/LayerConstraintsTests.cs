using System.Text.Json.Nodes;
using KerasStyle.Constraints;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Regularizers;
using KerasStyle.Saving;
using KerasStyle.Tests.Saving;
using KerasStyle.Training.Optimizers;

namespace KerasStyle.Tests.Layers;

/// <summary>
/// The layers' own regularizer and constraint arguments against Keras 3.16 (issue 25;
/// KerasFixtures/constraints/layer_constraints.json, tools/keras-fixtures/layer_constraints.py): beta/gamma of the
/// normalizations, PReLU's alpha, the depthwise/pointwise/bias weights of the depthwise and separable convolutions,
/// ConvLSTM1D/2D/3D's kernel/recurrent/bias, EinsumDense's and MultiHeadAttention's kernel/bias. Each model trains
/// three SGD steps from Keras' weights: the penalties enter the loss and each constraint is assigned after every
/// update, as Keras.
/// </summary>
public class LayerConstraintsTests
{
    private static readonly Lazy<JsonObject> Json = new(() => JsonNode.Parse(File.ReadAllText(Path.Combine(
        TestContext.CurrentContext.TestDirectory, "Layers", "KerasFixtures", "constraints", "layer_constraints.json")))!.AsObject());

    private static readonly string[] Cases = { "norms", "prelu", "conv1d", "conv2d", "convlstm1d", "convlstm2d", "convlstm3d", "attention" };

    private static JsonNode Case(string name) => Json.Value["cases"]![name]!;

    /// <summary>The fixture's models, as tools/keras-fixtures/layer_constraints.py builds them.</summary>
    internal static Model Build(string name)
    {
        switch (name)
        {
            case "norms":
            {
                var input = new Input(new[] { 5, 4 });
                var h = new LayerNormalization(name: "layer_norm")
                {
                    GammaRegularizer = new L2(0.05), BetaRegularizer = new L1(0.02), GammaConstraint = new NonNeg(), BetaConstraint = new MaxNorm(0.3),
                }.Call(input);
                h = new BatchNormalization(name: "batch_norm")
                {
                    GammaRegularizer = new L1L2(0.01, 0.02), BetaRegularizer = new L2(0.03), GammaConstraint = new MinMaxNorm(0.5, 1.0), BetaConstraint = new UnitNorm(),
                }.Call(h);
                h = new GroupNormalization(groups: 2, name: "group_norm")
                {
                    GammaRegularizer = new L2(0.04), BetaRegularizer = new L2(0.01), GammaConstraint = new MaxNorm(1.0), BetaConstraint = new NonNeg(),
                }.Call(h);
                return Finish(input, h);
            }

            case "prelu":
            {
                var input = new Input(new[] { 3, 4 });
                var h = new Dense(4, name: "dense").Call(input);
                h = new PReLU(new[] { 1 }, name: "prelu") { AlphaRegularizer = new L2(0.1), AlphaConstraint = new NonNeg() }.Call(h);
                h = new Dense(4, name: "dense_2").Call(h);
                h = new PReLU(name: "prelu_2") { AlphaRegularizer = new L1(0.05), AlphaConstraint = new MinMaxNorm(0.2, 0.5, 1, new[] { 0, 1 }) }.Call(h);
                return Finish(input, h);
            }

            case "conv1d":
            {
                var input = new Input(new[] { 8, 3 });
                var h = new DepthwiseConv1D(3, depthMultiplier: 2, name: "depthwise")
                {
                    DepthwiseRegularizer = new L2(0.05), BiasRegularizer = new L1(0.01), DepthwiseConstraint = new MaxNorm(0.5, new[] { 0, 1 }), BiasConstraint = new NonNeg(),
                }.Call(input);
                h = new SeparableConv1D(4, 2, name: "separable")
                {
                    DepthwiseRegularizer = new L1(0.02), PointwiseRegularizer = new L2(0.03), BiasRegularizer = new L2(0.01),
                    DepthwiseConstraint = new UnitNorm(0), PointwiseConstraint = new MinMaxNorm(0.3, 0.8, 1, new[] { 0, 1 }), BiasConstraint = new MaxNorm(0.2),
                }.Call(h);
                return Finish(input, h);
            }

            case "conv2d":
            {
                var input = new Input(new[] { 5, 5, 2 });
                var h = new DepthwiseConv2D(2, depthMultiplier: 2, name: "depthwise")
                {
                    DepthwiseRegularizer = new L1L2(0.01, 0.02), BiasRegularizer = new L2(0.05), DepthwiseConstraint = new UnitNorm(new[] { 0, 1 }), BiasConstraint = new MaxNorm(0.1),
                }.Call(input);
                h = new SeparableConv2D(3, 2, depthMultiplier: 2, name: "separable")
                {
                    DepthwiseRegularizer = new L2(0.02), PointwiseRegularizer = new L1(0.01), BiasRegularizer = new L1(0.02),
                    DepthwiseConstraint = new NonNeg(), PointwiseConstraint = new MaxNorm(0.6, new[] { 0, 1, 2 }), BiasConstraint = new NonNeg(),
                }.Call(h);
                return Finish(input, h);
            }

            case "convlstm1d":
            {
                var input = new Input(new[] { 3, 6, 2 });
                var h = new ConvLSTM1D(3, 2, name: "conv_lstm")
                {
                    KernelRegularizer = new L2(0.02), RecurrentRegularizer = new L1(0.01), BiasRegularizer = new L2(0.05),
                    KernelConstraint = new MaxNorm(0.5, new[] { 0, 1 }), RecurrentConstraint = new UnitNorm(new[] { 0, 1 }), BiasConstraint = new NonNeg(),
                }.Call(input);
                return Finish(input, h);
            }

            case "convlstm2d":
            {
                var input = new Input(new[] { 2, 4, 4, 2 });
                var h = new ConvLSTM2D(2, 2, name: "conv_lstm")
                {
                    KernelRegularizer = new L1(0.01), RecurrentRegularizer = new L2(0.02), BiasRegularizer = new L1L2(0.01, 0.01),
                    KernelConstraint = new MinMaxNorm(0.2, 0.6, 0.5, new[] { 0, 1, 2 }), RecurrentConstraint = new MaxNorm(0.4), BiasConstraint = new MaxNorm(0.3),
                }.Call(input);
                return Finish(input, h);
            }

            case "convlstm3d":
            {
                var input = new Input(new[] { 2, 3, 3, 3, 1 });
                var h = new ConvLSTM3D(2, 2, name: "conv_lstm")
                {
                    KernelRegularizer = new L2(0.03), RecurrentRegularizer = new L2(0.01), BiasRegularizer = new L1(0.02),
                    KernelConstraint = new NonNeg(), RecurrentConstraint = new MinMaxNorm(0.1, 0.5, 1, new[] { 0, 1, 2, 3 }), BiasConstraint = new UnitNorm(),
                }.Call(input);
                return Finish(input, h);
            }

            case "attention":
            {
                var input = new Input(new[] { 4, 3 });
                var h = new EinsumDense("abc,cd->abd", new int?[] { 4, 5 }, biasAxes: "d", name: "einsum")
                {
                    KernelRegularizer = new L2(0.02), BiasRegularizer = new L1(0.01), KernelConstraint = new MaxNorm(0.7), BiasConstraint = new NonNeg(),
                }.Call(input);
                h = new MultiHeadAttention(2, 3, name: "mha")
                {
                    KernelRegularizer = new L2(0.01), BiasRegularizer = new L2(0.02), KernelConstraint = new UnitNorm(), BiasConstraint = new MaxNorm(0.5),
                }.Call(h, h);
                return Finish(input, h);
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(name), name, "no such case");
        }

        static Model Finish(Input input, KerasTensor h) => new(input, new Dense(2, name: "out").Call(new Flatten(name: "flatten").Call(h)));
    }

    private static void SetKerasWeights(Model model, JsonNode keras) =>
        model.SetWeights(keras["initial_weights"]!.AsArray().Select(w => WeightArray.FromArray(FixtureJson.ToArray(w!.AsArray()))).ToArray());

    private static void AssertWeights(Model model, JsonArray expected, string what)
    {
        var actual = model.GetWeights();
        Assert.That(actual, Has.Count.EqualTo(expected.Count), what);
        for (var i = 0; i < actual.Count; i++)
        {
            Assert.That(actual[i].Data.Select(v => (double)v), Is.EqualTo(FixtureJson.Flatten(expected[i]!)).Within(1e-5), $"{what}, weight {i}");
        }
    }

    private static void TrainThreeStepsAsKeras(Model model, JsonNode keras)
    {
        SetKerasWeights(model, keras);
        model.Compile(new SGD(0.1), "mse");
        var (x, y) = (FixtureJson.ToArray(keras["x"]!.AsArray()), FixtureJson.ToArray(keras["y"]!.AsArray()));
        for (var step = 0; step < 3; step++)
        {
            var loss = model.TrainOnBatch(x, y)["loss"];
            var expected = keras["losses"]![step]!.GetValue<double>();
            Assert.That(loss, Is.EqualTo(expected).Within(1e-5 * Math.Max(1, Math.Abs(expected))), $"loss of step {step + 1}");
            AssertWeights(model, keras["weights_after_step"]![step]!.AsArray(), $"after step {step + 1}");
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void TrainOnBatch_ThreeSgdSteps_GivesKerasLossesAndConstrainedWeights(string name)
    {
        using var model = Build(name);
        TrainThreeStepsAsKeras(model, Case(name));
    }

    [TestCaseSource(nameof(Cases))]
    public void TrainOnBatch_ModelReadFromTheLibrarysJson_TrainsAsKeras(string name)
    {
        using var built = Build(name);
        using var model = Model.FromJson(built.ToJson());
        TrainThreeStepsAsKeras(model, Case(name));
    }

    [TestCaseSource(nameof(Cases))]
    public void WeightPenalties_OfKerasWeights_SumToKerasModelLosses(string name)
    {
        var keras = Case(name);
        using var model = Build(name);
        SetKerasWeights(model, keras);
        var regularized = model.TrainableWeights.Where(w => w.Regularizer is not null).ToArray();
        Assert.That(regularized, Is.Not.Empty);
        var penalty = regularized.Sum(w => (double)w.Regularizer!.Invoke(w.Get().Data));
        Assert.That(penalty, Is.EqualTo(keras["initial_penalty"]!.GetValue<double>()).Within(1e-5));
    }

    private static IEnumerable<KeyValuePair<string, JsonNode?>> PenaltyAndConstraintKeys(JsonObject config) =>
        config.Where(kv => (kv.Key.EndsWith("_regularizer", StringComparison.Ordinal) && kv.Key != "activity_regularizer") || kv.Key.EndsWith("_constraint", StringComparison.Ordinal));

    [TestCaseSource(nameof(Cases))]
    public void GetConfig_WritesRegularizersAndConstraintsAsKeras316(string name)
    {
        using var model = Build(name);
        foreach (var (layerName, kerasConfig) in Case(name)["configs"]!.AsObject())
        {
            var config = model.Layers.Single(l => l.Name == layerName).GetConfig();
            var expected = PenaltyAndConstraintKeys(kerasConfig!.AsObject()).ToArray();
            Assert.That(PenaltyAndConstraintKeys(config).Select(kv => kv.Key), Is.EquivalentTo(expected.Select(kv => kv.Key)), layerName);
            foreach (var (key, value) in expected)
            {
                Assert.That(JsonNode.DeepEquals(config[key], value), Is.True, $"{layerName}.{key}: {config[key]?.ToJsonString()} against Keras' {value?.ToJsonString()}");
            }
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void FromConfig_KerasLayerConfigs_ReadEveryRegularizerAndConstraint(string name)
    {
        using var model = Build(name);
        foreach (var (layerName, kerasConfig) in Case(name)["configs"]!.AsObject())
        {
            var className = model.Layers.Single(l => l.Name == layerName).ClassName;
            using var layer = LayerRegistry.Create(new LayerConfig(className, layerName, kerasConfig!.DeepClone().AsObject()));
            var config = layer.GetConfig();
            foreach (var (key, value) in PenaltyAndConstraintKeys(kerasConfig.AsObject()))
            {
                Assert.That(JsonNode.DeepEquals(config[key], value), Is.True, $"{layerName}.{key} read back as {config[key]?.ToJsonString()}, Keras wrote {value?.ToJsonString()}");
            }
        }
    }

    [Test]
    public void DepthwiseAndSeparableConvs_KernelRegularizerOrConstraint_AreRefusedWhenBuiltNamingTheirOwnArguments()
    {
        var input = new Input(new[] { 6, 3 });
        Assert.That(() => new SeparableConv1D(4, 2, name: "sep") { KernelRegularizer = new L2() }.Call(input),
            Throws.TypeOf<NotSupportedException>().With.Message.Contains("SeparableConv1D 'sep'").And.Message.Contains("DepthwiseRegularizer"));
        Assert.That(() => new DepthwiseConv1D(2, name: "dw") { KernelRegularizer = new L1() }.Call(input),
            Throws.TypeOf<NotSupportedException>().With.Message.Contains("DepthwiseConv1D 'dw'").And.Message.Contains("depthwise_regularizer"));
        Assert.That(() => new SeparableConv1D(4, 2, name: "sep2") { KernelConstraint = new NonNeg() }.Call(input),
            Throws.TypeOf<NotSupportedException>().With.Message.Contains("PointwiseConstraint"));
    }

    [Test]
    public void Fixture_SetsAConstraintOnEveryArgumentOfTheIssue()
    {
        var set = Cases.SelectMany(c => Case(c)["configs"]!.AsObject().SelectMany(l => PenaltyAndConstraintKeys(l.Value!.AsObject()).Where(kv => kv.Value is not null).Select(kv => kv.Key))).ToHashSet();
        Assert.That(set, Is.SupersetOf(new[]
        {
            "beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint", "alpha_regularizer", "alpha_constraint",
            "depthwise_regularizer", "depthwise_constraint", "pointwise_regularizer", "pointwise_constraint", "bias_regularizer", "bias_constraint",
            "kernel_regularizer", "kernel_constraint", "recurrent_regularizer", "recurrent_constraint",
        }));
    }
}
