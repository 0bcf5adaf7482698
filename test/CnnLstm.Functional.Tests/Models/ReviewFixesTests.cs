using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Training.Optimizers;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Models;

/// <summary>Faults a review of this session's changes found, each pinned by a test that failed before its fix.</summary>
public class ReviewFixesTests
{
    [SetUp]
    public void FreshNames() => Backend.ClearSession();

    [Test]
    public void CustomLayer_KeepingATensorFromBuild_StillHasItWhenPredicting()
    {
        var input = new Input(new[] { 3 });
        using var model = new Model(input, new Scale().Call(input));
        Assert.That(((float[,])model.Predict(new float[,] { { 1, 2, 3 } })).Cast<float>(), Is.EqualTo(new[] { 2f, 4f, 6f }));
    }

    [Test]
    public void PredictTensors_OneBatch_GivesEachOutputItsOwnCopy()
    {
        var input = new Input(new[] { 3 });
        var dropped = new Dropout(0.5).Call(input); // in inference an alias of the input
        using var model = new Model(new[] { input }, new[] { dropped, dropped });
        using var x = tensor(new float[] { 1, 2, 3 }, new long[] { 1, 3 });
        var outputs = model.PredictTensors(new[] { x });
        Assert.That(outputs[0], Is.Not.SameAs(outputs[1]));
        outputs[0].Dispose();
        x.fill_(100);
        Assert.That(outputs[1].data<float>().ToArray(), Is.EqualTo(new[] { 1f, 2f, 3f }), "not a view of the input, not disposed with the other output");
        outputs[1].Dispose();
    }

    [Test]
    public void SaveH5_SgdWithoutMomentum_KeepsTheStepCount()
    {
        var path = Path.Combine(Path.GetTempPath(), $"ks-sgd-{Guid.NewGuid():N}.h5");
        try
        {
            using var model = TinyModels.Mlp();
            model.Compile(new SGD(learningRate: 0.1), "binary_crossentropy");
            var (x, y) = TinyModels.Blobs(8);
            model.Fit(x, y, batchSize: 4, epochs: 1, verbose: 0);
            model.Save(path);
            using var loaded = Model.Load(path);
            Assert.That(loaded.Optimizer!.Iterations, Is.EqualTo(2));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestCase(6, 2)]
    [TestCase(9, 4)]
    [TestCase(10, 10)]
    public void MaxPoolChecks_OnCorrectKernels_Pass(int pool, int stride)
    {
        // Random check inputs made the gradient check's central difference cross a window's maximum for these.
        foreach (var kernel in new[] { MaxPool1DKernels.ChannelsLastTraining, MaxPool1DKernels.ChannelsFirstTraining })
        {
            Assert.That(MaxPool1DKernels.Trusted(kernel, pool, stride), Is.True, $"{kernel} pool {pool} stride {stride}");
        }
    }

    [Test]
    public void LoadWeights_KerasArchiveOfALargerModel_WithSkipMismatch_SkipsInsteadOfRefusing()
    {
        var path = Path.Combine(Path.GetTempPath(), $"ks-skip-{Guid.NewGuid():N}.keras");
        try
        {
            var bigInput = new Input(new[] { 4 }, DType.Int64);
            using (var big = new Model(bigInput, new Dense(1).Call(new Flatten4().Call(new Embedding(100_000, 64).Call(bigInput)))))
            {
                big.Save(path);
            }

            var input = new Input(new[] { 4 }, DType.Int64);
            using var small = new Model(input, new Dense(1).Call(new Flatten4().Call(new Embedding(1_000, 8).Call(input))));
            var before = small.GetWeights()[0].Data.ToArray();
            Assert.DoesNotThrow(() => small.LoadWeights(path, skipMismatch: true));
            Assert.That(small.GetWeights()[0].Data, Is.EqualTo(before), "the mismatched embedding is skipped");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void Predict_OneSample_LeavesTheCallersTorchThreadCountAlone()
    {
        // With one core the one-sample policy (one thread) equals the caller's count, and nothing would be proven.
        Assume.That(Environment.ProcessorCount, Is.GreaterThan(1));
        var input = new Input(new[] { 3 });
        using var model = new Model(input, new Dense(1).Call(input));
        ThreadPolicy.FixedThreads = null;
        try
        {
            set_num_threads(Environment.ProcessorCount);
            model.Predict(new float[1, 3]);
            Assert.That(get_num_threads(), Is.EqualTo(Environment.ProcessorCount));
        }
        finally
        {
            ThreadPolicy.FixedThreads = 1;
        }
    }

    /// <summary>A custom layer that keeps a tensor made in Build (not a weight).</summary>
    private sealed class Scale : Layer
    {
        private Tensor? factor;

        public Scale()
            : base(null)
        {
        }

        protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input) => new[] { (input.Shape, input.DType) };

        protected override void Build(KerasTensor input) => factor = full(1, 2f);

        protected override Tensor Call(Tensor input, bool training, Tensor? mask) => input * factor!;
    }

    /// <summary>(batch, 4, d) to (batch, 4·d), for the test models (the library has no Flatten yet).</summary>
    private sealed class Flatten4 : Layer
    {
        public Flatten4()
            : base(null)
        {
        }

        protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input) =>
            new[] { (new Shape(null, input.Shape[1] * input.Shape[2]), DType.Float32) };

        protected override Tensor Call(Tensor input, bool training, Tensor? mask) => input.reshape(input.shape[0], -1);
    }
}
