using KerasStyle.Models;
using static TorchSharp.torch;

namespace KerasStyle.Examples.Bench;

/// <summary>One model measured both ways: through the library and hand-written in TorchSharp.</summary>
internal sealed record Workload(
    string Name,
    int BatchSize,
    Func<Model> Library,
    Func<HandWrittenModel> HandWritten,
    Func<int, (Tensor X, Tensor Y)> Data,
    Func<Tensor, Array> SingleSample);

internal static class Workloads
{
    public static Workload Sentiment { get; } = new(
        "sentiment",
        30,
        () =>
        {
            var model = CnnLstmModels.Sentiment();
            model.Compile("adam", "binary_crossentropy", new[] { "accuracy" });
            return model;
        },
        () => new HandWrittenSentiment(),
        samples => (randint(0, 20000, new long[] { samples, 100 }, ScalarType.Int64), randint(0, 2, new long[] { samples, 1 }).to_type(ScalarType.Float32)),
        x => (long[,])x.data<long>().ToNDArray());

    public static Workload Regression { get; } = new(
        "regression",
        32,
        () =>
        {
            var model = CnnLstmModels.Regression();
            model.Compile("adam", "mse");
            return model;
        },
        () => new HandWrittenRegression(),
        samples => (rand(samples, 1, 3), rand(samples, 1)),
        x => (float[,,])x.data<float>().ToNDArray());

    /// <summary>The temperatures example's TimeDistributed CNN-LSTM (issue 14).</summary>
    public static Workload Temperatures { get; } = new(
        "temperatures",
        32,
        () =>
        {
            var model = Commands.TemperaturesCommand.Build();
            model.Compile("adam", "mse");
            return model;
        },
        () => new HandWrittenTemperatures(),
        samples => (rand(samples, 4, 7, 1), rand(samples, 1)),
        x => (float[,,,])x.data<float>().ToNDArray());

    /// <summary>The sentiment model with Bidirectional(LSTM(70)) (issue 14).</summary>
    public static Workload Bidirectional { get; } = new(
        "bidirectional",
        30,
        () =>
        {
            var model = Commands.SentimentCommand.Bidirectional();
            model.Compile("adam", "binary_crossentropy", new[] { "accuracy" });
            return model;
        },
        () => new HandWrittenBidirectional(),
        samples => (randint(0, 20000, new long[] { samples, 100 }, ScalarType.Int64), randint(0, 2, new long[] { samples, 1 }).to_type(ScalarType.Float32)),
        x => (long[,])x.data<long>().ToNDArray());

    /// <summary>The sentiment model with LSTM(70, returnSequences), self-attention and GlobalAveragePooling1D (issue 24).</summary>
    public static Workload Attention { get; } = new(
        "attention",
        30,
        () =>
        {
            var model = Commands.SentimentCommand.SelfAttention();
            model.Compile("adam", "binary_crossentropy", new[] { "accuracy" });
            return model;
        },
        () => new HandWrittenAttention(),
        samples => (randint(0, 20000, new long[] { samples, 100 }, ScalarType.Int64), randint(0, 2, new long[] { samples, 1 }).to_type(ScalarType.Float32)),
        x => (long[,])x.data<long>().ToNDArray());
}
