using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Training;
using KerasStyle.Training.Data;
using TorchSharp;

namespace KerasStyle.Tests.Training.Data;

/// <summary>
/// The input adapter makes every check once for every kind of data: the same wrong data given as C# arrays, as
/// TorchSharp tensors and as a <see cref="DataSource"/> batch gives one error each, with the same message apart from
/// the argument's name (<c>x</c>, or <c>x.X</c> inside the source's <see cref="DataSourceException"/>).
/// </summary>
public class InputAdapterTests
{
    [SetUp]
    public void Seed()
    {
        Backend.ClearSession();
        Utils.SetRandomSeed(5);
    }

    [Test]
    public void NaNInput_GivesTheSameError_ForArraysTensorsAndASource()
    {
        using var model = Dense();
        var x = new float[4, 2];
        x[1, 1] = float.NaN;

        var messages = FitErrors(model, x, torch.tensor(x), new float[4], torch.zeros(4));

        AssertSameShape(messages, "the data for 'input_1' contains NaN or infinity; expected finite values.");
        AssertSameShape(PredictErrors(model, x, torch.tensor(x)), "the data for 'input_1' contains NaN or infinity; expected finite values.");
    }

    [Test]
    public void WrongFeatureCount_GivesTheSameError_ForArraysTensorsAndASource()
    {
        using var model = Dense();
        var x = new float[4, 3];

        var messages = FitErrors(model, x, torch.tensor(x), new float[4], torch.zeros(4));

        // The kind of data is named as given: the array's C# type, or "tensor".
        Assert.That(messages, Has.All.Match(@"^input 'input_1' expects shape \(None, 2\), but the (float\[,\]|tensor) given has shape \(4, 3\)\.$"));
    }

    [Test]
    public void TargetCountDiffersFromSampleCount_GivesTheSameError_ForArraysTensorsAndASource()
    {
        using var model = Dense();
        var x = new float[4, 2];

        var errors = Errors(
            () => model.Fit(x, new float[3], verbose: 0),
            () => model.Fit(torch.tensor(x), torch.zeros(3), verbose: 0),
            () => model.Fit(new OneBatch(new DataBatch(x, new float[3])), verbose: 0));

        Assert.That(errors[0], Is.EqualTo("y: x has 4 samples but y for output 'dense_1' has 3; they must match. (Parameter 'y')"));
        Assert.That(errors[1], Is.EqualTo(errors[0]));
        Assert.That(errors[2], Is.EqualTo("x.Y: x.X has 4 samples but x.Y for output 'dense_1' has 3; they must match. (Parameter 'x.Y')"));
    }

    [Test]
    public void TokenIdsOutOfRange_GiveTheSameError_ForArraysTensorsAndASource()
    {
        using var model = Embedded();
        var ids = new long[,] { { 1, 2, 12 }, { 0, 0, 0 } };

        var messages = FitErrors(model, ids, torch.tensor(ids), new float[2, 3, 2], torch.zeros(2, 3, 2));

        AssertSameShape(messages, "token ids for input 'input_1' range over [0, 12], but Embedding 'embedding_1' accepts ids in [0, 10).");
        AssertSameShape(PredictErrors(model, ids, torch.tensor(ids)), "token ids for input 'input_1' range over [0, 12], but Embedding 'embedding_1' accepts ids in [0, 10).");
    }

    [Test]
    public void FloatDataForTokenIds_IsRefused_ForArraysTensorsAndASource()
    {
        using var model = Embedded();
        var ids = new float[2, 3];

        var messages = FitErrors(model, ids, torch.tensor(ids), new float[2, 3, 2], torch.zeros(2, 3, 2));

        Assert.That(messages, Has.All.StartWith("input 'input_1' takes integer token ids"));
    }

    [Test]
    public void SampleCountsDifferBetweenInputs_GiveTheSameError_ForArraysTensorsAndASource()
    {
        using var model = TwoInputs();
        Array[] x = { new float[4, 2], new float[3, 2] };
        torch.Tensor[] tensors = { torch.zeros(4, 2), torch.zeros(3, 2) };

        var messages = Strip(Errors(
            () => model.Fit(x, new float[4], verbose: 0),
            () => model.Fit(tensors, torch.zeros(4), verbose: 0),
            () => model.Fit(new OneBatch(new DataBatch(x, new float[4])), verbose: 0)), "x", "x", "x.X");

        AssertSameShape(messages, "all inputs must have the same number of samples, but input 'input_1' has 4 and 'input_2' has 3.");
        AssertSameShape(PredictErrors(model, x, tensors), "all inputs must have the same number of samples, but input 'input_1' has 4 and 'input_2' has 3.");
    }

    [Test]
    public void BatchSizeBelowOne_IsRefused_ForArraysAndTensors_AsStepsBelowOneForASource()
    {
        using var model = Dense();
        var x = new float[4, 2];

        Assert.Throws<ArgumentOutOfRangeException>(() => model.Fit(x, new float[4], batchSize: 0, verbose: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Fit(torch.tensor(x), torch.zeros(4), batchSize: 0, verbose: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Predict(x, batchSize: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.PredictTensors(new[] { torch.tensor(x) }, batchSize: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Fit(new OneBatch(new DataBatch(x, new float[4])), verbose: 0, stepsPerEpoch: 0));
        Assert.That(model.Optimizer!.Iterations, Is.Zero, "nothing trained");
    }

    /// <summary>The messages of Fit on arrays, on tensors and on a one-batch source, without their argument names.</summary>
    private static string[] FitErrors(Model model, Array x, torch.Tensor tensorX, Array y, torch.Tensor tensorY) => Strip(Errors(
        () => model.Fit(x, y, verbose: 0),
        () => model.Fit(tensorX, tensorY, verbose: 0),
        () => model.Fit(new OneBatch(new DataBatch(x, y)), verbose: 0)), "x", "x", "x.X");

    /// <summary>The messages of Predict on arrays, PredictTensors and Predict on a one-batch source, without their argument names.</summary>
    private static string[] PredictErrors(Model model, Array x, torch.Tensor tensor) => PredictErrors(model, new[] { x }, new[] { tensor });

    private static string[] PredictErrors(Model model, Array[] x, torch.Tensor[] tensors) => Strip(Errors(
        () => model.Predict(x),
        () => model.PredictTensors(tensors),
        () => model.Predict(new OneBatch(new DataBatch(x)))), "x", "x", "x.X");

    /// <summary>One error each: an ArgumentException for arrays and tensors, a DataSourceException naming batch 0 around one for the source.</summary>
    private static string[] Errors(Action arrays, Action tensors, Action source)
    {
        var fromArrays = Assert.Catch<ArgumentException>(() => arrays())!;
        var fromTensors = Assert.Catch<ArgumentException>(() => tensors())!;
        var fromSource = Assert.Throws<DataSourceException>(() => source())!;
        Assert.That(fromSource.BatchIndex, Is.Zero);
        Assert.That(fromSource.InnerException, Is.InstanceOf<ArgumentException>());
        Assert.That(fromSource.Message, Is.EqualTo($"Data source batch 0 failed: {fromSource.InnerException!.Message}"));
        Assert.That(fromTensors.GetType(), Is.EqualTo(fromArrays.GetType()), "the same exception type");
        Assert.That(fromSource.InnerException.GetType(), Is.EqualTo(fromArrays.GetType()), "the same exception type");
        return new[] { fromArrays.Message, fromTensors.Message, fromSource.InnerException.Message };
    }

    /// <summary>Each message without its leading "argument: " and .NET's trailing " (Parameter 'argument')".</summary>
    private static string[] Strip(string[] messages, params string[] arguments) =>
        messages.Select((m, i) =>
        {
            var prefix = arguments[i] + ": ";
            var suffix = $" (Parameter '{arguments[i]}')";
            Assert.That(m, Does.StartWith(prefix).And.EndWith(suffix));
            return m[prefix.Length..^suffix.Length];
        }).ToArray();

    private static void AssertSameShape(string[] messages, string expected) => Assert.That(messages, Has.All.EqualTo(expected));

    private static Model Dense()
    {
        var input = new Input(new[] { 2 });
        var model = new Model(input, new Dense(1).Call(input));
        model.Compile("sgd", "mse");
        return model;
    }

    private static Model TwoInputs()
    {
        var a = new Input(new[] { 2 });
        var b = new Input(new[] { 2 });
        var model = new Model(new[] { a, b }, new Dense(1).Call(new Add().Call(a, b)));
        model.Compile("sgd", "mse");
        return model;
    }

    private static Model Embedded()
    {
        var ids = new Input(new[] { 3 }, dtype: DType.Int64);
        var model = new Model(ids, new Embedding(10, 2).Call(ids));
        model.Compile("sgd", "mse");
        return model;
    }

    /// <summary>A source of one batch.</summary>
    private sealed class OneBatch(DataBatch batch) : DataSource
    {
        public override int? Count => 1;

        public override DataBatch GetBatch(int index) => batch;
    }
}
