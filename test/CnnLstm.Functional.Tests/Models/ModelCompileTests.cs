using KerasStyle.Models;
using KerasStyle.Training.Losses;
using KerasStyle.Training.Optimizers;

namespace KerasStyle.Tests.Models;

public class ModelCompileTests
{
    private Model model = null!;

    [SetUp]
    public void Build()
    {
        Backend.ClearSession();
        model = TinyModels.Mlp();
    }

    [TearDown]
    public void DisposeModel() => model.Dispose();

    [TestCase("adam", typeof(Adam))]
    [TestCase("sgd", typeof(SGD))]
    [TestCase("rmsprop", typeof(RMSprop))]
    public void ByNames_CreatesKerasDefaults(string optimizer, Type type)
    {
        model.Compile(optimizer, "binary_crossentropy", new[] { "accuracy" });
        Assert.That(model.Optimizer, Is.TypeOf(type));
        Assert.That(model.IsCompiled, Is.True);
        Assert.That(model.MetricsNames, Is.EqualTo(new[] { "loss", "accuracy" }));
    }

    [Test]
    public void WithObjects_UsesThem()
    {
        var adam = new Adam(learningRate: 0.02);
        model.Compile(adam, new MeanSquaredError(), new[] { "mae" });
        Assert.That(model.Optimizer, Is.SameAs(adam));
        Assert.That(model.Evaluate(new float[2, 2], new float[2]).Keys, Is.EqualTo(new[] { "loss", "mae" }));
    }

    [Test]
    public void MixedNameAndObject_BothOverloadsWork()
    {
        model.Compile(new SGD(), "mse");
        Assert.That(model.Optimizer, Is.TypeOf<SGD>());
        model.Compile("rmsprop", new MeanAbsoluteError());
        Assert.That(model.Optimizer, Is.TypeOf<RMSprop>());
    }

    [Test]
    public void BeforeCompile_IsNotCompiled_AndLogsOnlyLoss()
    {
        Assert.That(model.IsCompiled, Is.False);
        Assert.That(model.Optimizer, Is.Null);
        Assert.That(model.MetricsNames, Is.EqualTo(new[] { "loss" }));
    }

    [Test]
    public void UnknownOptimizer_FailsAtCompileListingTheKnownOnes()
    {
        var e = Assert.Throws<ArgumentException>(() => model.Compile("lamb", "mse"));
        Assert.That(e!.ParamName, Is.EqualTo("optimizer"));
        Assert.That(e.Message, Does.Contain("'lamb'").And.Contain("adam, sgd, rmsprop"));
        Assert.That(model.IsCompiled, Is.False);
    }

    [Test]
    public void UnknownLoss_FailsAtCompileListingTheKnownOnes()
    {
        var e = Assert.Throws<ArgumentException>(() => model.Compile("adam", "dice"));
        Assert.That(e!.ParamName, Is.EqualTo("loss"));
        Assert.That(e.Message, Does.Contain("binary_crossentropy, mse, mean_squared_error, mae, mean_absolute_error, categorical_crossentropy, sparse_categorical_crossentropy"));
        Assert.That(model.IsCompiled, Is.False);
    }

    [Test]
    public void UnknownMetric_FailsAtCompileListingTheKnownOnes()
    {
        var e = Assert.Throws<ArgumentException>(() => model.Compile("adam", "mse", new[] { "accuracy", "f1" }));
        Assert.That(e!.ParamName, Is.EqualTo("metrics"));
        Assert.That(e.Message, Does.Contain("'f1'").And.Contain("accuracy, acc, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy, precision, recall, auc, mse, mean_squared_error, mae, mean_absolute_error, rmse, root_mean_squared_error"));
        Assert.That(model.IsCompiled, Is.False);
    }

    [Test]
    public void NullArguments_Throw()
    {
        Assert.Throws<ArgumentNullException>(() => model.Compile((Optimizer)null!, "mse"));
        Assert.Throws<ArgumentNullException>(() => model.Compile("adam", (Loss)null!));
        Assert.Throws<ArgumentNullException>(() => model.Compile("adam", "mse", new[] { (string)null! }));
    }

    [Test]
    public void CompilingAgain_ReplacesOptimizerLossAndMetrics()
    {
        model.Compile("adam", "binary_crossentropy", new[] { "accuracy" });
        model.Compile("sgd", "mse", new[] { "mae" });
        Assert.That(model.Optimizer, Is.TypeOf<SGD>());
        Assert.That(model.MetricsNames, Is.EqualTo(new[] { "loss", "mae" }));
    }
}
