using System.Text.Json.Nodes;
using KerasStyle.Models;
using KerasStyle.Training.Optimizers;
using Parameter = TorchSharp.Modules.Parameter;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Training.Optimizers;

/// <summary>
/// Keras' <c>optimizer.apply_gradients(zip(grads, vars))</c>: four steps of each optimizer of objects.json on fixed
/// variables and gradients against Keras 3.16; the same update as Fit's; arguments checked before any change.
/// </summary>
public class ApplyGradientsTests
{
    private static IEnumerable<string> Names() => ObjectsFixture.Cases("optimizers");

    private static Optimizer Create(string name, JsonNode config)
    {
        double Get(string key, double fallback) => config[key]?.GetValue<double>() ?? fallback;
        bool Flag(string key) => config[key]?.GetValue<bool>() ?? false;
        return name.Split('_')[0] switch
        {
            "Adam" => new Adam(Get("learning_rate", 0), Get("beta_1", 0), Get("beta_2", 0), Get("epsilon", 0), Flag("amsgrad")),
            "SGD" => new SGD(Get("learning_rate", 0), Get("momentum", 0), Flag("nesterov")),
            "RMSprop" => new RMSprop(Get("learning_rate", 0), Get("rho", 0), Get("epsilon", 0), Get("momentum", 0), Flag("centered")),
            _ => throw new ArgumentException(name),
        };
    }

    [TestCaseSource(nameof(Names))]
    public void ApplyGradients_FourSteps_VariablesAsKeras316(string name)
    {
        var keras = ObjectsFixture.Json["optimizers"]![name]!;
        using var optimizer = Create(name, keras["config"]!);
        using var scope = NewDisposeScope();
        var variables = ObjectsFixture.Json["optimizer_start"]!.AsArray().Select(v => new Parameter(ObjectsFixture.Tensor(v!))).ToArray();
        var steps = ObjectsFixture.Json["optimizer_grads"]!.AsArray();

        for (var s = 0; s < steps.Count; s++)
        {
            var grads = steps[s]!.AsArray().Select(g => (Tensor?)ObjectsFixture.Tensor(g!)).ToArray();
            optimizer.ApplyGradients(grads.Zip(variables));
            for (var v = 0; v < variables.Length; v++)
            {
                var expected = ObjectsFixture.Doubles(keras["steps"]![s]![v]!);
                Assert.That(variables[v].data<float>().ToArray().Select(x => (double)x), Is.EqualTo(expected).Within(1e-6).Percent.Or.EqualTo(expected).Within(1e-7), $"step {s + 1}, variable {v}");
            }
        }

        Assert.That(optimizer.Iterations, Is.EqualTo(keras["iterations"]!.GetValue<int>()));
    }

    [TestCase("adam")]
    [TestCase("sgd")]
    [TestCase("rmsprop")]
    public void ApplyGradients_OfTheLossOnTensors_EqualsTrainOnBatch(string optimizerName)
    {
        var kernel = new float[,] { { 0.5f, -0.2f }, { 0.1f, 0.3f }, { -0.4f, 0.2f } };
        var x = new float[,] { { 1, 2, 0 }, { -1, 0.5f, 2 }, { 0, 1, -1 }, { 2, -1, 1 } };
        var y = new float[,] { { 1, 0 }, { 0, 1 }, { 0.5f, 0.5f }, { -1, 2 } };
        using var trained = TinyModels.Linear(kernel);
        using var stepped = TinyModels.Linear(kernel);
        trained.Compile(optimizerName, "mse");
        stepped.Compile(optimizerName, "mse");
        var weight = stepped.Layers[^1].Weights[0];
        var loss = new KerasStyle.Training.Losses.MeanSquaredError();

        for (var step = 0; step < 3; step++)
        {
            trained.TrainOnBatch(x, y);
            // A training loop of one's own: the forward pass with autograd, the loss called on tensors, then apply_gradients.
            using var scope = NewDisposeScope();
            weight.Variable.grad?.zero_();
            var p = tensor(x.Cast<float>().ToArray(), 4, 3).mm(weight.Variable);
            loss.Invoke(tensor(y.Cast<float>().ToArray(), 4, 2), p).backward();
            stepped.Optimizer!.ApplyGradients(new[] { (weight.Variable.grad, weight) });
        }

        Assert.That(TinyModels.Flat(stepped), Is.EqualTo(TinyModels.Flat(trained)).Within(1e-7));
        Assert.That(stepped.Optimizer!.Iterations, Is.EqualTo(3));
    }

    [Test]
    public void ApplyGradients_BadPairs_ThrowBeforeAnyChange()
    {
        using var optimizer = new SGD(0.1);
        using var scope = NewDisposeScope();
        var v = new Parameter(ones(2, 3));
        var u = new Parameter(ones(3));

        Assert.Multiple(() =>
        {
            Assert.That(() => optimizer.ApplyGradients(new[] { ((Tensor?)ones(3), v) }), Throws.ArgumentException.With.Message.Contains("shape"));
            Assert.That(() => optimizer.ApplyGradients(new[] { ((Tensor?)null, v), (null, u) }), Throws.ArgumentException.With.Message.Contains("no gradients"));
            Assert.That(() => optimizer.ApplyGradients(new[] { ((Tensor?)ones(2, 3), v), (ones(2, 3), v) }), Throws.ArgumentException.With.Message.Contains("twice"));
            Assert.That(() => optimizer.Apply(new Tensor?[] { ones(2, 3) }, new[] { v, u }), Throws.ArgumentException.With.Message.Contains("1 gradients for 2"));
            Assert.That(() => optimizer.ApplyGradients(new[] { ((Tensor?)ones(2, 3), v), (ones(2), u) }), Throws.ArgumentException);
        });
        Assert.That(v.data<float>().ToArray(), Is.All.EqualTo(1f));
        Assert.That(optimizer.Iterations, Is.EqualTo(0));
    }

    [Test]
    public void ApplyGradients_NullGradient_SkipsThatVariable()
    {
        using var optimizer = new SGD(0.5);
        using var scope = NewDisposeScope();
        var (v, u) = (new Parameter(ones(2)), new Parameter(ones(2)));

        optimizer.Apply(new Tensor?[] { full(2, 2f), null }, new[] { v, u });

        Assert.That(v.data<float>().ToArray(), Is.EqualTo(new[] { 0f, 0f }));
        Assert.That(u.data<float>().ToArray(), Is.EqualTo(new[] { 1f, 1f }));
        Assert.That(optimizer.Iterations, Is.EqualTo(1));
    }
}
