using KerasStyle.Models;
using KerasStyle.Saving;
using KerasStyle.Training;
using KerasStyle.Training.Losses;
using KerasStyle.Training.Metrics;
using KerasStyle.Training.Optimizers;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Training;

/// <summary>
/// Issue 21 point 7: an optimizer, a loss and a metric written by a user, as Keras' subclasses (update_step; call;
/// update_state/result with add_variable), used in Compile, Fit and Evaluate, saved by class name and loaded once
/// registered with <see cref="CustomObjects"/>.
/// </summary>
public class UserDefinedObjectsTests
{
    private static readonly float[,] X = { { 1 }, { 2 }, { -1 }, { 0.5f }, { 3 }, { -2 } };
    private static readonly float[] Y = { 2, 3, -1, 1, 5, -3 };

    [SetUp]
    public void Fresh() => Backend.ClearSession();

    [TearDown]
    public void Forget()
    {
        CustomObjects.Unregister(nameof(PlainSgd));
        CustomObjects.Unregister(nameof(AbsoluteError));
        CustomObjects.Unregister(nameof(SampleCount));
    }

    [Test]
    public void FitAndEvaluate_WithUserObjects_MatchTheBuiltInsAndLogTheirNames()
    {
        using var mine = TinyModels.Linear(new float[,] { { 0.5f } });
        using var builtIn = TinyModels.Linear(new float[,] { { 0.5f } });
        mine.Compile(new PlainSgd(0.1), new AbsoluteError(), new Metric[] { new SampleCount() });
        builtIn.Compile(new SGD(0.1), "mae", new[] { "mae" });
        var batches = new List<IReadOnlyDictionary<string, double>>();
        var recorder = new KerasStyle.Training.Callbacks.LambdaCallback(onBatchEnd: (_, logs) => batches.Add(new Dictionary<string, double>(logs)));

        var history = mine.Fit(X, Y, batchSize: 4, epochs: 2, verbose: 0, shuffle: false, callbacks: new[] { recorder });
        var expected = builtIn.Fit(X, Y, batchSize: 4, epochs: 2, verbose: 0, shuffle: false);

        Assert.That(mine.MetricsNames, Is.EqualTo(new[] { "loss", "sample_count" }));
        Assert.That(history["loss"], Is.EqualTo(expected["loss"]).Within(1e-7));
        Assert.That(history["sample_count"], Is.EqualTo(new[] { 6.0, 6.0 }), "summed over the epoch's batches");
        Assert.That(batches.Select(b => b["sample_count"]), Is.EqualTo(new[] { 4.0, 2.0, 4.0, 2.0 }), "each batch's own value");
        Assert.That(TinyModels.Flat(mine), Is.EqualTo(TinyModels.Flat(builtIn)).Within(1e-7));
        Assert.That(mine.Optimizer!.Iterations, Is.EqualTo(4));
        var scores = mine.Evaluate(X, Y, batchSize: 4);
        Assert.That(scores["loss"], Is.EqualTo(builtIn.Evaluate(X, Y, batchSize: 4)["loss"]).Within(1e-7));
        Assert.That(scores["sample_count"], Is.EqualTo(6));
    }

    [Test]
    public void UserObjects_Eagerly_WorkAsKerasSubclasses()
    {
        var loss = new AbsoluteError(reduction: "sum");
        var metric = new SampleCount();
        using var optimizer = new PlainSgd(0.5);
        using var scope = NewDisposeScope();
        var variable = new TorchSharp.Modules.Parameter(tensor(new[] { 1f, 2f }));

        Assert.That(loss.Invoke(new float[,] { { 1 }, { 2 } }, new float[,] { { 0 }, { 4 } }), Is.EqualTo(3));
        Assert.That(loss.Name, Is.EqualTo("absolute_error"), "Keras' auto_name: the class name in snake case");
        metric.UpdateState(new float[] { 1, 2, 3 }, new float[] { 1, 2, 3 });
        Assert.That(metric.Invoke(new float[] { 1 }, new float[] { 1 }), Is.EqualTo(4));
        metric.ResetState();
        Assert.That(metric.Result(), Is.EqualTo(0));
        optimizer.ApplyGradients(new[] { ((Tensor?)tensor(new[] { 2f, -2f }), variable) });
        Assert.That(variable.data<float>().ToArray(), Is.EqualTo(new[] { 0f, 3f }));
        Assert.That(optimizer.Name, Is.EqualTo("plain_sgd"));
    }

    [Test]
    public void Save_UserObjects_ByClassName_LoadOnlyOnceRegistered()
    {
        var path = Path.Combine(Path.GetTempPath(), $"user-objects-{Guid.NewGuid():N}.keras");
        try
        {
            using (var model = TinyModels.Linear(new float[,] { { 0.5f } }))
            {
                model.Compile(new PlainSgd(0.25), new AbsoluteError(name: "abs"), new Metric[] { new SampleCount("seen") });
                model.Save(path);
            }

            // Unregistered, the training config cannot be restored: the model loads uncompiled with one warning (issue 22).
            var warnings = new List<string>();
            void Record(object? sender, string message) => warnings.Add(message);
            KerasStyle.Warnings.Raised += Record;
            try
            {
                using var unregistered = Model.Load(path);
                Assert.That(unregistered.IsCompiled, Is.False);
            }
            finally
            {
                KerasStyle.Warnings.Raised -= Record;
            }

            Assert.That(warnings, Has.Count.EqualTo(1));
            Assert.That(warnings[0], Does.Contain("uncompiled").And.Contain("CustomObjects.Register"));
            using (var uncompiled = Model.Load(path, compile: false))
            {
                Assert.That(uncompiled.IsCompiled, Is.False);
            }

            CustomObjects.Register(nameof(PlainSgd), c => new PlainSgd(c.GetDouble("learning_rate", 0.01)));
            CustomObjects.Register(nameof(AbsoluteError), c => new AbsoluteError(c.GetNullableString("reduction"), c.GetNullableString("name")));
            CustomObjects.Register(nameof(SampleCount), c => new SampleCount(c.GetNullableString("name")));
            using var loaded = Model.Load(path);

            Assert.That(loaded.Optimizer, Is.InstanceOf<PlainSgd>());
            Assert.That(loaded.Optimizer!.LearningRate, Is.EqualTo(0.25));
            Assert.That(loaded.MetricsNames, Is.EqualTo(new[] { "loss", "seen" }));
            Assert.That(loaded.Evaluate(X, Y)["loss"], Is.EqualTo(X.Cast<float>().Zip(Y, (x, y) => Math.Abs((0.5 * x) - y)).Average()).Within(1e-6));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void Register_LibraryClassOrTwice_ThrowsArgumentException()
    {
        Assert.That(() => CustomObjects.Register("Adam", c => new PlainSgd(0.1)), Throws.ArgumentException.With.Message.Contains("library"));
        Assert.That(() => CustomObjects.Register("MeanSquaredError", c => new AbsoluteError()), Throws.ArgumentException.With.Message.Contains("library"));
        CustomObjects.Register(nameof(SampleCount), c => new SampleCount());
        Assert.That(() => CustomObjects.Register(nameof(SampleCount), c => new SampleCount()), Throws.ArgumentException.With.Message.Contains("already"));
    }

    /// <summary>Plain SGD, as Keras' update_step: p -= lr g.</summary>
    private sealed class PlainSgd(double learningRate) : Optimizer(learningRate)
    {
        protected override void Update(Tensor variable, Tensor grad, Tensor[] state, long step) => variable.sub_(grad * LearningRate);
    }

    /// <summary>Mean absolute error, as Keras' Loss.call.</summary>
    private sealed class AbsoluteError(string? reduction = "sum_over_batch_size", string? name = null) : Loss(reduction, name)
    {
        protected override Tensor Call(Tensor yTrue, Tensor yPred) => (yPred - yTrue).abs().mean(new long[] { -1 });
    }

    /// <summary>How many samples were seen, as a Keras metric with one variable.</summary>
    private sealed class SampleCount : Metric
    {
        private readonly MetricVariable count;

        public SampleCount(string? name = null)
            : base(name)
        {
            count = AddVariable("count");
        }

        public override void UpdateState(Tensor yTrue, Tensor yPred, Tensor? sampleWeight = null) => count.AssignAdd(yPred.shape[0]);

        public override double Result() => count.Scalar;
    }
}
