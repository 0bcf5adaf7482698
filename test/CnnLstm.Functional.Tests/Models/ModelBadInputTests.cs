using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Tests.Training;
using KerasStyle.Training.Callbacks;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Models;

/// <summary>
/// Every bad argument to Fit is an exception that names the argument, what was given and what was expected, raised
/// before anything trains: the weights, the optimizer's step count and the callbacks are untouched.
/// </summary>
public class ModelBadInputTests
{
    private Model model = null!;
    private RecordingCallback recorder = null!;
    private float[] before = null!;

    [SetUp]
    public void BuildSequenceModel()
    {
        Backend.ClearSession();
        Utils.SetRandomSeed(3);
        var input = new Input(new[] { 4, 2 });
        model = new Model(input, new Dense(1, activation: "sigmoid").Call(new LSTM(3).Call(input)));
        model.Compile("adam", "binary_crossentropy", new[] { "accuracy" });
        recorder = new RecordingCallback();
        before = TinyModels.Flat(model);
    }

    [TearDown]
    public void DisposeModel() => model.Dispose();

    [Test]
    public void SampleCountsDiffer()
    {
        var e = Rejected<ArgumentException>(() => Fit(new float[10, 4, 2], new float[9]));
        Assert.That(e.ParamName, Is.EqualTo("y"));
        Assert.That(e.Message, Does.Contain("x has 10 samples").And.Contain("has 9"));
    }

    [Test]
    public void WrongTrailingShape()
    {
        var e = Rejected<ArgumentException>(() => Fit(new float[10, 3, 2], new float[10]));
        Assert.That(e.ParamName, Is.EqualTo("x"));
        Assert.That(e.Message, Does.Contain("expects shape (None, 4, 2)").And.Contain("(10, 3, 2)"));
    }

    [Test]
    public void WrongRank()
    {
        var e = Rejected<ArgumentException>(() => Fit(new float[10, 8], new float[10]));
        Assert.That(e.ParamName, Is.EqualTo("x"));
        Assert.That(e.Message, Does.Contain("(None, 4, 2)").And.Contain("(10, 8)"));
    }

    [Test]
    public void TargetsOfWrongShape_NameTheOutput()
    {
        var e = Rejected<ArgumentException>(() => Fit(new float[10, 4, 2], new float[10, 2]));
        Assert.That(e.ParamName, Is.EqualTo("y"));
        Assert.That(e.Message, Does.Contain("output 'dense_1'").And.Contain("(None, 1)").And.Contain("(10, 2)"));
        Assert.That(e.Message, Does.Not.Contain("input"));
    }

    [Test]
    public void WrongNumberOfInputArrays()
    {
        var e = Rejected<ArgumentException>(() => Fit(new Array[] { new float[10, 4, 2], new float[10, 4, 2] }, new float[10]));
        Assert.That(e.ParamName, Is.EqualTo("x"));
        Assert.That(e.Message, Does.Contain("has 1 inputs").And.Contain("but 2 were given"));
    }

    [Test]
    public void NaNInX()
    {
        var x = new float[10, 4, 2];
        x[7, 3, 1] = float.NaN;
        var e = Rejected<ArgumentException>(() => Fit(x, new float[10]));
        Assert.That(e.ParamName, Is.EqualTo("x"));
        Assert.That(e.Message, Does.Contain("NaN or infinity").And.Contain("expected finite values"));
    }

    [Test]
    public void InfinityInY()
    {
        var y = new float[10];
        y[2] = float.PositiveInfinity;
        var e = Rejected<ArgumentException>(() => Fit(new float[10, 4, 2], y));
        Assert.That(e.ParamName, Is.EqualTo("y"));
        Assert.That(e.Message, Does.Contain("NaN or infinity"));
    }

    [Test]
    public void DoubleTargetTooLargeForFloat32_IsInfinity()
    {
        var y = new double[10];
        y[0] = 1e300;
        var e = Rejected<ArgumentException>(() => Fit(new float[10, 4, 2], y));
        Assert.That(e.ParamName, Is.EqualTo("y"));
    }

    [Test]
    public void NaNInValidationData()
    {
        var vx = new float[3, 4, 2];
        vx[0, 0, 0] = float.NaN;
        var e = Rejected<ArgumentException>(() => Fit(new float[10, 4, 2], new float[10], validationData: (vx, new float[3])));
        Assert.That(e.ParamName, Is.EqualTo("validationData.X"));
    }

    [Test]
    public void ValidationDataOfWrongShape()
    {
        var e = Rejected<ArgumentException>(() => Fit(new float[10, 4, 2], new float[10], validationData: (new float[3, 4, 3], new float[3])));
        Assert.That(e.ParamName, Is.EqualTo("validationData.X"));
        Assert.That(e.Message, Does.Contain("(None, 4, 2)").And.Contain("(3, 4, 3)"));
    }

    [TestCase(0)]
    [TestCase(-3)]
    public void BatchSizeBelowOne(int batchSize)
    {
        var e = Rejected<ArgumentOutOfRangeException>(() => Fit(new float[10, 4, 2], new float[10], batchSize: batchSize));
        Assert.That(e.ParamName, Is.EqualTo("batchSize"));
        Assert.That(e.ActualValue, Is.EqualTo(batchSize));
        Assert.That(e.Message, Does.Contain($"'{batchSize}'").And.Contain("'1'"));
    }

    [Test]
    public void NegativeEpochs()
    {
        var e = Rejected<ArgumentOutOfRangeException>(() => Fit(new float[10, 4, 2], new float[10], epochs: -1));
        Assert.That(e.ParamName, Is.EqualTo("epochs"));
        Assert.That(e.Message, Does.Contain("'-1'").And.Contain("non-negative"));
    }

    [Test]
    public void NegativeInitialEpoch()
    {
        var e = Rejected<ArgumentOutOfRangeException>(() => Fit(new float[10, 4, 2], new float[10], initialEpoch: -2));
        Assert.That(e.ParamName, Is.EqualTo("initialEpoch"));
    }

    [Test]
    public void VerboseOutsideZeroToTwo()
    {
        var e = Rejected<ArgumentOutOfRangeException>(() => Fit(new float[10, 4, 2], new float[10], verbose: 3));
        Assert.That(e.ParamName, Is.EqualTo("verbose"));
        Assert.That(e.Message, Does.Contain("0, 1 or 2").And.Contain("3"));
    }

    [TestCase(-0.1)]
    [TestCase(1.0)]
    [TestCase(1.5)]
    [TestCase(double.NaN)]
    public void ValidationSplitOutsideZeroToOne(double split)
    {
        var e = Rejected<ArgumentOutOfRangeException>(() => Fit(new float[10, 4, 2], new float[10], validationSplit: split));
        Assert.That(e.ParamName, Is.EqualTo("validationSplit"));
        Assert.That(e.Message, Does.Contain("[0, 1)"));
        Assert.That(e.ActualValue, Is.EqualTo(split));
    }

    [Test]
    public void ValidationSplitLeavingNoTrainingSamples()
    {
        var e = Rejected<ArgumentException>(() => Fit(new float[1, 4, 2], new float[1], validationSplit: 0.5));
        Assert.That(e.ParamName, Is.EqualTo("validationSplit"));
        Assert.That(e.Message, Does.Contain("0.5 of 1 samples"));
    }

    [Test]
    public void NoSamples()
    {
        var e = Rejected<ArgumentException>(() => Fit(new float[0, 4, 2], new float[0]));
        Assert.That(e.ParamName, Is.EqualTo("x"));
        Assert.That(e.Message, Does.Contain("no samples").And.Contain("(0, 4, 2)").And.Contain("at least one"));
    }

    [Test]
    public void NoSamples_InEvaluateAndTrainOnBatch()
    {
        Assert.That(Assert.Throws<ArgumentException>(() => model.Evaluate(new float[0, 4, 2], new float[0]))!.ParamName, Is.EqualTo("x"));
        Rejected<ArgumentException>(() => model.TrainOnBatch(new float[0, 4, 2], new float[0]));
    }

    [Test]
    public void NoValidationSamples()
    {
        var e = Rejected<ArgumentException>(() => Fit(new float[4, 4, 2], new float[4], validationData: (new float[0, 4, 2], new float[0])));
        Assert.That(e.ParamName, Is.EqualTo("validationData.X"));
    }

    [Test]
    public void NullCallback()
    {
        var e = Rejected<ArgumentNullException>(() => Fit(new float[10, 4, 2], new float[10], callbacks: new ICallback[] { recorder, null! }));
        Assert.That(e.ParamName, Is.EqualTo("callbacks"));
    }

    [Test]
    public void FitBeforeCompile()
    {
        var input = new Input(new[] { 2 });
        using var uncompiled = new Model(input, new Dense(1).Call(input));
        var weights = TinyModels.Flat(uncompiled);
        var e = Assert.Throws<InvalidOperationException>(() => uncompiled.Fit(new float[4, 2], new float[4], verbose: 0));
        Assert.That(e!.Message, Does.Contain("Compile(optimizer, loss, metrics) before Fit"));
        Assert.Throws<InvalidOperationException>(() => uncompiled.Evaluate(new float[4, 2], new float[4]));
        Assert.Throws<InvalidOperationException>(() => uncompiled.TrainOnBatch(new float[4, 2], new float[4]));
        Assert.That(TinyModels.Flat(uncompiled), Is.EqualTo(weights));
    }

    [TestCase(10)]
    [TestCase(-1)]
    public void TokenIdsOutsideVocabulary(int badId)
    {
        using var embedding = EmbeddingModel();
        var weights = TinyModels.Flat(embedding);
        var x = new int[6, 5];
        x[4, 2] = badId;
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => embedding.Fit(x, new float[6], verbose: 0));
        Assert.That(e!.ParamName, Is.EqualTo("x"));
        Assert.That(e.Message, Does.Contain("accepts ids in [0, 10)").And.Contain(badId < 0 ? "[-1, 0]" : "[0, 10]"));
        Assert.That(TinyModels.Flat(embedding), Is.EqualTo(weights));
        Assert.That(embedding.Optimizer!.Iterations, Is.EqualTo(0));
    }

    [Test]
    public void FloatsForTokenIds()
    {
        using var embedding = EmbeddingModel();
        var e = Assert.Throws<ArgumentException>(() => embedding.Fit(new float[6, 5], new float[6], verbose: 0));
        Assert.That(e!.ParamName, Is.EqualTo("x"));
        Assert.That(e.Message, Does.Contain("integer token ids").And.Contain("int[,] or long[,]"));
    }

    [Test]
    public void FloatTensorForTokenIds()
    {
        using var embedding = EmbeddingModel();
        using var x = zeros(6, 5);
        var e = Assert.Throws<ArgumentException>(() => embedding.Fit(x, new float[6], verbose: 0));
        Assert.That(e!.ParamName, Is.EqualTo("x"));
        Assert.That(e.Message, Does.Contain("integer token ids"));
    }

    [Test]
    public void EvaluateWithBadBatchSizeOrData()
    {
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => model.Evaluate(new float[2, 4, 2], new float[2], batchSize: 0))!.ParamName, Is.EqualTo("batchSize"));
        Assert.That(Assert.Throws<ArgumentException>(() => model.Evaluate(new float[2, 4, 2], new float[3]))!.ParamName, Is.EqualTo("y"));
    }

    [Test]
    public void PredictWithBadBatchSizeOrShape()
    {
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => model.Predict(new float[2, 4, 2], batchSize: 0))!.ParamName, Is.EqualTo("batchSize"));
        Assert.That(Assert.Throws<ArgumentException>(() => model.Predict(new float[2, 4, 3]))!.ParamName, Is.EqualTo("x"));
    }

    private static Model EmbeddingModel()
    {
        var input = new Input(new[] { 5 }, dtype: DType.Int64);
        var x = new LSTM(2).Call(new Embedding(10, 3).Call(input));
        var result = new Model(input, new Dense(1, activation: "sigmoid").Call(x));
        result.Compile("adam", "binary_crossentropy");
        return result;
    }

    private void Fit(KerasStyle.Training.ModelData x, KerasStyle.Training.ModelData y, int batchSize = 4, int epochs = 1, int verbose = 0,
        (KerasStyle.Training.ModelData, KerasStyle.Training.ModelData)? validationData = null, double validationSplit = 0,
        IEnumerable<ICallback>? callbacks = null, int initialEpoch = 0) =>
        model.Fit(x, y, batchSize, epochs, verbose, validationData, validationSplit, shuffle: true, callbacks ?? new[] { recorder }, initialEpoch);

    private T Rejected<T>(Action fit)
        where T : Exception
    {
        var e = Assert.Throws<T>(fit)!;
        Assert.That(TinyModels.Flat(model), Is.EqualTo(before), "weights unchanged");
        Assert.That(model.Optimizer!.Iterations, Is.EqualTo(0), "no optimizer step");
        Assert.That(recorder.Events, Is.Empty, "no callback ran");
        return e;
    }
}
