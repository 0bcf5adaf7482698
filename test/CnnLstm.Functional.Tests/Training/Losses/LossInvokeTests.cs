using System.Text.Json.Nodes;
using KerasStyle.Training.Losses;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Training.Losses;

/// <summary>
/// Losses called on data, as Keras' <c>loss(y_true, y_pred, sample_weight)</c>: every loss of objects.json with and
/// without sample weights under every reduction, on arrays and tensors, against Keras 3.16; a masked per-step loss;
/// the gradient; shapes refused.
/// </summary>
public class LossInvokeTests
{
    private const double Tolerance = 2e-6;

    private static IEnumerable<TestCaseData> Cases() =>
        from name in ObjectsFixture.Cases("losses")
        from reduction in Loss.Reductions
        select new TestCaseData(name, reduction).SetName($"Invoke_{name}_{reduction}_AsKeras316");

    private static Loss Create(JsonNode keras, string reduction)
    {
        var args = keras["args"]!.AsObject();
        bool fromLogits = args["from_logits"]?.GetValue<bool>() ?? false;
        double smoothing = args["label_smoothing"]?.GetValue<double>() ?? 0;
        return keras["class_name"]!.GetValue<string>() switch
        {
            "BinaryCrossentropy" => new BinaryCrossentropy(fromLogits, smoothing, reduction: reduction),
            "CategoricalCrossentropy" => new CategoricalCrossentropy(fromLogits, smoothing, reduction: reduction),
            "SparseCategoricalCrossentropy" => new SparseCategoricalCrossentropy(fromLogits, args["ignore_class"]?.GetValue<int>(), reduction),
            "MeanSquaredError" => new KerasStyle.Training.Losses.MeanSquaredError(reduction),
            "MeanAbsoluteError" => new KerasStyle.Training.Losses.MeanAbsoluteError(reduction),
            var other => throw new ArgumentException(other),
        };
    }

    [TestCaseSource(nameof(Cases))]
    public void Invoke_WithAndWithoutSampleWeights_AsKeras316(string name, string reduction)
    {
        var keras = ObjectsFixture.Json["losses"]![name]!;
        var loss = Create(keras, reduction);
        var expected = keras["values"]![reduction]!;
        using var scope = NewDisposeScope();
        var (y, p, w) = (ObjectsFixture.Tensor(keras["y"]!), ObjectsFixture.Tensor(keras["p"]!), ObjectsFixture.Tensor(keras["w"]!));

        Assert.That(Values(loss.Invoke(y, p)), Is.EqualTo(ObjectsFixture.Doubles(expected["plain"]!)).Within(Tolerance), "tensors, no weights");
        Assert.That(Values(loss.Invoke(y, p, w)), Is.EqualTo(ObjectsFixture.Doubles(expected["weighted"]!)).Within(Tolerance), "tensors, weights");
        if (reduction != "none")
        {
            var (ya, pa, wa) = (ObjectsFixture.Array(keras["y"]!), ObjectsFixture.Array(keras["p"]!), ObjectsFixture.Array(keras["w"]!));
            Assert.That(loss.Invoke(ya, pa), Is.EqualTo(expected["plain"]!.GetValue<double>()).Within(Tolerance), "arrays, no weights");
            Assert.That(loss.Invoke(ya, pa, wa), Is.EqualTo(expected["weighted"]!.GetValue<double>()).Within(Tolerance), "arrays, weights");
        }
    }

    [TestCaseSource(typeof(Loss), nameof(Loss.Reductions))]
    public void Invoke_MaskedPerStepLoss_AsKeras316(string reduction)
    {
        var keras = ObjectsFixture.Json["masked"]!;
        var loss = new KerasStyle.Training.Losses.MeanSquaredError(reduction);
        using var scope = NewDisposeScope();
        var (y, p, w) = (ObjectsFixture.Tensor(keras["y"]!), ObjectsFixture.Tensor(keras["p"]!), ObjectsFixture.Tensor(keras["w"]!));
        var mask = ObjectsFixture.Tensor(keras["mask"]!).to_type(ScalarType.Bool);

        Assert.That(Values(loss.Invoke(y, p, mask: mask)), Is.EqualTo(ObjectsFixture.Doubles(keras["values"]![reduction]!["plain"]!)).Within(Tolerance));
        Assert.That(Values(loss.Invoke(y, p, w, mask)), Is.EqualTo(ObjectsFixture.Doubles(keras["values"]![reduction]!["weighted"]!)).Within(Tolerance));
    }

    [Test]
    public void Invoke_OnTensors_IsDifferentiable()
    {
        using var scope = NewDisposeScope();
        var p = tensor(new[] { 0.5f, 1.5f, -1f, 2f }, new long[] { 2, 2 }).requires_grad_();
        var y = tensor(new[] { 1f, 1f, 0f, 0f }, new long[] { 2, 2 });

        new KerasStyle.Training.Losses.MeanSquaredError().Invoke(y, p, tensor(new[] { 1f, 3f })).backward();

        // d/dp of sum(w_i (p - y)^2 / 2) / 2 = w_i (p - y) / 2.
        Assert.That(p.grad!.data<float>().ToArray(), Is.EqualTo(new[] { -0.25f, 0.25f, -1.5f, 3f }).Within(1e-6));
    }

    [Test]
    public void Invoke_TargetsWithoutTheUnitAxis_AreExpandedAsKeras()
    {
        var loss = new KerasStyle.Training.Losses.MeanSquaredError();

        Assert.That(loss.Invoke(new[] { 1f, 0f }, new float[,] { { 0.5f }, { 0.5f } }), Is.EqualTo(0.25).Within(1e-7));
    }

    [Test]
    public void Invoke_ShapesThatDoNotFit_ThrowArgumentException()
    {
        var loss = new KerasStyle.Training.Losses.MeanSquaredError();
        var p = new float[,] { { 1, 2, 3 }, { 4, 5, 6 } };

        Assert.Multiple(() =>
        {
            Assert.That(() => loss.Invoke(new float[,] { { 1, 2 }, { 3, 4 } }, p), Throws.ArgumentException.With.Message.Contains("yTrue"));
            Assert.That(() => loss.Invoke(p, p, new float[] { 1, 2, 3 }), Throws.ArgumentException.With.Message.Contains("sampleWeight"));
            Assert.That(() => new KerasStyle.Training.Losses.MeanSquaredError("none").Invoke(p, p), Throws.InvalidOperationException.With.Message.Contains("tensors"));
            Assert.That(() => loss.Invoke(new string[] { "a" }, p), Throws.ArgumentException.With.Message.Contains("String"));
        });
    }

    private static double[] Values(Tensor value) => value.detach().to_type(ScalarType.Float64).flatten().data<double>().ToArray();
}
