// The worker's cases for DataSource sharding, TrainOnBatch / TestOnBatch, rank-0 files and warnings, and
// BatchNormalization under a DataParallel distribution (test/CnnLstm.Functional.Tests/Distributed/):
//
//   source <dist|single> <shuffle 0|1> <prefix>: Fit 3 epochs and Evaluate on an indexed DataSource of the 17 samples
//     in batches of 4 (dist: 2 ranks, a global step of 2 batches); single: arrays, batch 8, one process. Writes
//     <prefix>.rank<r>.json / <prefix>.single.json.
//   stream <dist|single> <prefix>: dist: rank 0's sequence source has 6 batches of 4 samples and rank 1's 4; Fit with
//     stepsPerEpoch 3 for 3 epochs must stop on both ranks when rank 1's runs out (after 4 steps); a Fit without
//     stepsPerEpoch is refused first. Then Evaluate on sequences of 3 (rank 0) and 1 (rank 1) batches. single: the
//     same steps in one process (arrays of the ranks' batches side by side) and Evaluate on the 4 batches.
//   onbatch <dist|single> <prefix>: 3 TrainOnBatch calls (rank 0: 5 samples, rank 1: 3 samples; single: the 8), the
//     first after rank 1 a refused batch on rank 1, the second with sample weights, the third with class weights, then
//     TestOnBatch with sample weights.
//   files <prefix>: every rank calls Save, SaveWeights and Export to <prefix>.rank<r>.*; rank 1 then reports whether
//     rank 0's files exist; then a Save to a folder (fails on rank 0); then a warning raised on every rank.
//   bn <dist|single> <prefix>: Input(3) -> BatchNormalization(momentum 0.5) -> Dense(2), 16 samples whose two halves of
//     every global batch of 8 have different means; 1 epoch; writes the moving statistics and, for dist, what the rule
//     (sample-weighted mean of the ranks' statistics) predicts from the data.
//   stateful: under a distribution, a model whose LSTM is stateful (inside a nested model): Fit, Evaluate (arrays and
//     a DataSource), TrainOnBatch and TestOnBatch must each be refused naming the layer; prints every refusal and
//     whether the weights, the optimizer's step count and the LSTM's states are unchanged.
using System.Globalization;
using System.Text.Json;
using KerasStyle.Distributed;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Training.Data;
using KerasStyle.Training.Optimizers;

internal static class ShardCases
{
    public static bool Handles(string mode) => mode is "source" or "stream" or "onbatch" or "files" or "bn" or "stateful";

    public static int Run(string[] args)
    {
        var mode = args[0];
        var distributed = args.Length > 1 && args[1] == "dist";
        var rank = 0;
        DataParallel? parallel = null;
        if (distributed || mode is "files" or "stateful")
        {
            parallel = new DataParallel();
            rank = parallel.Rank;
        }

        return mode switch
        {
            "source" => Source(parallel, args[2] == "1", args[3]),
            "stream" => Stream(parallel, args[2]),
            "onbatch" => OnBatch(parallel, args[2]),
            "files" => Files(parallel!, args[1]),
            "stateful" => Stateful(parallel!),
            _ => BatchNorm(parallel, args[2]),
        };
    }

    private static Model Build(float offset)
    {
        var input = new Input(new[] { 3 });
        var hidden = new Dense(5, activation: "tanh").Call(input);
        var model = new Model(input, new Dense(2, activation: "softmax").Call(hidden));
        SetWeights(model, offset);
        model.Compile(new SGD(learningRate: 0.1, momentum: 0.5), "sparse_categorical_crossentropy", new[] { "accuracy" });
        return model;
    }

    private static void SetWeights(Model model, float offset) =>
        model.SetWeights(model.GetWeights().Select((w, k) => new WeightArray(w.Shape.ToArray(),
            w.Data.Select((_, i) => (float)(Math.Sin((i * 0.7) + (k * 1.3) + offset) * 0.5)).ToArray())).ToList());

    private static (float[,] X, float[] Y) Data(int count, int seed, int from = 0)
    {
        var x = new float[count, 3];
        var y = new float[count];
        for (var i = 0; i < count; i++)
        {
            for (var j = 0; j < 3; j++)
            {
                x[i, j] = (float)Math.Cos(((i + from) * 1.7) + (j * 0.9) + seed);
            }

            y[i] = x[i, 0] + (0.5f * x[i, 1]) > 0 ? 1 : 0;
        }

        return (x, y);
    }

    private static (float[,] X, float[] Y) Rows((float[,] X, float[] Y) data, int start, int count)
    {
        var x = new float[count, data.X.GetLength(1)];
        var y = new float[count];
        for (var i = 0; i < count; i++)
        {
            for (var j = 0; j < x.GetLength(1); j++)
            {
                x[i, j] = data.X[start + i, j];
            }

            y[i] = data.Y[start + i];
        }

        return (x, y);
    }

    private sealed class ArraySource((float[,] X, float[] Y) data, int batchSize) : DataSource
    {
        public override int? Count => (data.Y.Length + batchSize - 1) / batchSize;

        public override DataBatch GetBatch(int index)
        {
            var start = index * batchSize;
            var (x, y) = Rows(data, start, Math.Min(batchSize, data.Y.Length - start));
            return new DataBatch(x, y);
        }
    }

    private static IEnumerable<DataBatch> Sequence((float[,] X, float[] Y) data, int batches, int batchSize)
    {
        for (var b = 0; b < batches; b++)
        {
            var (x, y) = Rows(data, b * batchSize, batchSize);
            yield return new DataBatch(x, y);
        }
    }

    private static void Write(string path, Model model, KerasStyle.Training.History? history, IReadOnlyDictionary<string, double> evaluate, Dictionary<string, object>? more = null)
    {
        var result = new Dictionary<string, object>
        {
            ["rank"] = Distribution.Rank,
            ["weights"] = model.GetWeights().SelectMany(w => w.Data).Select(v => (double)v).ToArray(),
            ["history"] = history?.Values.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray()) ?? new Dictionary<string, double[]>(),
            ["params"] = history?.Params.ToDictionary(kv => kv.Key, kv => Convert.ToString(kv.Value, CultureInfo.InvariantCulture) ?? string.Empty) ?? new Dictionary<string, string>(),
            ["evaluate"] = evaluate.ToDictionary(kv => kv.Key, kv => kv.Value),
            ["iterations"] = model.Optimizer!.Iterations,
        };
        foreach (var (key, value) in more ?? new Dictionary<string, object>())
        {
            result[key] = value;
        }

        File.WriteAllText(path, JsonSerializer.Serialize(result));
    }

    private static string Output(string prefix, DataParallel? parallel) => $"{prefix}.{(parallel is null ? "single" : $"rank{parallel.Rank}")}.json";

    private static int Source(DataParallel? parallel, bool shuffle, string prefix)
    {
        var model = Build(parallel?.Rank ?? 0);
        var data = Data(17, 0);
        var validation = Data(5, 9);
        if (parallel is null)
        {
            var h = model.Fit(data.X, data.Y, batchSize: 8, epochs: 3, verbose: 0, validationData: (validation.X, validation.Y), shuffle: shuffle);
            Write(Output(prefix, null), model, h, model.Evaluate(data.X, data.Y, batchSize: 8));
            return 0;
        }

        Distribution.SetDistribution(parallel);
        var history = model.Fit(new ArraySource(data, 4), epochs: 3, verbose: 2, validationData: new ArraySource(validation, 2), shuffle: shuffle);
        Write(Output(prefix, parallel), model, history, model.Evaluate(new ArraySource(data, 4)));
        return 0;
    }

    private static int Stream(DataParallel? parallel, string prefix)
    {
        var model = Build(0);
        // Rank r's batch b holds samples [8b + 4r, 8b + 4r + 4): one process takes both ranks' batches of a step together.
        var data = Data(48, 0);
        (float[,] X, float[] Y) RankPart(int r, int batches)
        {
            var x = new float[batches * 4, 3];
            var y = new float[batches * 4];
            for (var b = 0; b < batches; b++)
            {
                var (bx, by) = Rows(data, (8 * b) + (4 * r), 4);
                for (var i = 0; i < 4; i++)
                {
                    for (var j = 0; j < 3; j++)
                    {
                        x[(4 * b) + i, j] = bx[i, j];
                    }

                    y[(4 * b) + i] = by[i];
                }
            }

            return (x, y);
        }

        var evaluation = Data(16, 3);
        if (parallel is null)
        {
            // 4 steps of 8: the ranks' first 4 batches side by side.
            var (tx, ty) = Rows(data, 0, 32);
            var h = model.Fit(tx, ty, batchSize: 8, epochs: 1, verbose: 0, shuffle: false);
            Write(Output(prefix, null), model, h, model.Evaluate(evaluation.X, evaluation.Y, batchSize: 4));
            return 0;
        }

        Distribution.SetDistribution(parallel);
        var before = model.GetWeights().SelectMany(w => w.Data).ToArray();
        var mine = RankPart(parallel.Rank, parallel.Rank == 0 ? 6 : 4);
        var refused = string.Empty;
        try
        {
            model.Fit(DataSource.FromEnumerable(Sequence(mine, parallel.Rank == 0 ? 6 : 4, 4)), epochs: 3, verbose: 0, shuffle: false);
        }
        catch (ArgumentException e)
        {
            refused = $"{e.GetType().Name} ({e.ParamName}): {e.Message}";
        }

        var unchanged = before.SequenceEqual(model.GetWeights().SelectMany(w => w.Data)) && model.Optimizer!.Iterations == 0;
        var history = model.Fit(DataSource.FromEnumerable(Sequence(mine, parallel.Rank == 0 ? 6 : 4, 4)), epochs: 3, verbose: 2, shuffle: false, stepsPerEpoch: 3);
        // Evaluation: rank 0 reads samples 0-11 (3 batches), rank 1 samples 12-15 (1 batch).
        var part = parallel.Rank == 0 ? Rows(evaluation, 0, 12) : Rows(evaluation, 12, 4);
        var evaluate = model.Evaluate(DataSource.FromEnumerable(Sequence(part, parallel.Rank == 0 ? 3 : 1, 4)));
        Write(Output(prefix, parallel), model, history, evaluate, new Dictionary<string, object> { ["refused"] = refused, ["unchanged"] = unchanged });
        return 0;
    }

    private static int OnBatch(DataParallel? parallel, string prefix)
    {
        var model = Build(parallel?.Rank ?? 0);
        var logs = new List<double>();
        var data = Data(24, 2);
        var refused = string.Empty;
        var unchanged = true;
        if (parallel is not null)
        {
            Distribution.SetDistribution(parallel);
            var before = model.GetWeights().SelectMany(w => w.Data).ToArray();
            var (bx, by) = Rows(data, 0, 4);
            try
            {
                // Rank 1 passes 3 targets for 4 samples: refused on every rank, before anything is exchanged or changed.
                model.TrainOnBatch(bx, parallel.Rank == 1 ? by.Take(3).ToArray() : by);
            }
            catch (ArgumentException e)
            {
                refused = e.Message;
            }

            unchanged = before.SequenceEqual(model.GetWeights().SelectMany(w => w.Data)) && model.Optimizer!.Iterations == 0;
        }

        for (var step = 0; step < 3; step++)
        {
            // Global batch of step s: samples [8s, 8s + 8); rank 0 takes the first 5, rank 1 the last 3.
            var first = parallel?.Rank == 1 ? (8 * step) + 5 : 8 * step;
            var (x, y) = Rows(data, first, parallel is null ? 8 : parallel.Rank == 0 ? 5 : 3);
            // Step 1 weighs each sample (global sample i: 0.5 + (i % 3) / 2), step 2 each class, as Keras' train_on_batch.
            var result = model.TrainOnBatch(x, y, step == 1 ? SampleWeights(first, y.Length) : null, step == 2 ? new Dictionary<int, double> { [0] = 2.0, [1] = 0.5 } : null);
            logs.Add(result["loss"]);
            logs.Add(result["accuracy"]);
        }

        var test = parallel is null ? Rows(data, 0, 8) : parallel.Rank == 0 ? Rows(data, 0, 5) : Rows(data, 5, 3);
        var tested = model.TestOnBatch(test.X, test.Y, SampleWeights(parallel?.Rank == 1 ? 5 : 0, test.Y.Length));
        Write(Output(prefix, parallel), model, null, tested, new Dictionary<string, object> { ["logs"] = logs, ["refused"] = refused, ["unchanged"] = unchanged });
        return 0;
    }

    private static float[] SampleWeights(int first, int count) => Enumerable.Range(first, count).Select(i => 0.5f + ((i % 3) * 0.5f)).ToArray();

    private static int Stateful(DataParallel parallel)
    {
        var input = new Input((4, 3), batchSize: 2);
        var lstm = new LSTM(3, stateful: true, name: "carried");
        var inner = new Model(input, lstm.Call(input), name: "inner");
        var outer = new Input((4, 3), batchSize: 2);
        var model = new Model(outer, new Dense(1).Call(inner.Call(outer)));
        model.Compile(new SGD(learningRate: 0.1), "mse");
        var x = new float[2, 4, 3];
        x[0, 0, 0] = 1f;
        x[1, 2, 1] = -0.5f;
        var y = new float[2, 1];
        model.Predict(x, batchSize: 2);
        var states = lstm.States!.SelectMany(s => s.Cast<float>()).ToArray();
        var weights = model.GetWeights().SelectMany(w => w.Data).ToArray();
        Distribution.SetDistribution(parallel);
        var source = DataSource.FromEnumerable(new[] { new DataBatch(x, y) });
        var calls = new (string Name, Action Run)[]
        {
            ("Fit", () => model.Fit(x, y, batchSize: 2, epochs: 1, verbose: 0)),
            ("FitSource", () => model.Fit(source, epochs: 1, verbose: 0)),
            ("Evaluate", () => model.Evaluate(x, y, batchSize: 2)),
            ("EvaluateSource", () => model.Evaluate(source)),
            ("TrainOnBatch", () => model.TrainOnBatch(x, y)),
            ("TestOnBatch", () => model.TestOnBatch(x, y)),
        };
        foreach (var (name, run) in calls)
        {
            try
            {
                run();
                Console.WriteLine($"rank {parallel.Rank} {name} ran");
            }
            catch (Exception e)
            {
                Console.WriteLine($"rank {parallel.Rank} {name} {e.GetType().Name}: {e.Message}");
            }
        }

        var unchanged = weights.SequenceEqual(model.GetWeights().SelectMany(w => w.Data)) && model.Optimizer!.Iterations == 0
            && states.SequenceEqual(lstm.States!.SelectMany(s => s.Cast<float>()));
        Console.WriteLine($"rank {parallel.Rank} unchanged {unchanged}");
        return 0;
    }

    private static int Files(DataParallel parallel, string prefix)
    {
        var model = Build(0);
        Distribution.SetDistribution(parallel);
        var warnings = 0;
        KerasStyle.Warnings.Raised += (_, message) =>
        {
            warnings++;
            Console.WriteLine($"rank {parallel.Rank} warning: {message}");
        };
        var own = $"{prefix}.rank{parallel.Rank}";
        model.Save(own + ".keras");
        model.SaveWeights(own + ".weights.h5");
        model.Export(own + ".onnx");
        var rankZero = $"{prefix}.rank0";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"rank {parallel.Rank} after the writes: rank 0's files {File.Exists(rankZero + ".keras")} {File.Exists(rankZero + ".weights.h5")} {File.Exists(rankZero + ".onnx")}, own files {File.Exists(own + ".keras")} {File.Exists(own + ".weights.h5")} {File.Exists(own + ".onnx")}"));
        try
        {
            Directory.CreateDirectory(prefix + ".folder.keras");
            model.Save(prefix + ".folder.keras");
            Console.WriteLine($"rank {parallel.Rank} failed save: nothing thrown");
        }
        catch (Exception e)
        {
            Console.WriteLine($"rank {parallel.Rank} failed save: {e.GetType().Name}: {e.Message}");
        }

        // A model without trainable weights: TrainOnBatch warns (once per call) on every rank; only rank 0 reports it.
        foreach (var layer in model.Layers)
        {
            layer.Trainable = false;
        }

        model.Compile(new SGD(learningRate: 0.1), "sparse_categorical_crossentropy");
        var (x, y) = Data(4, 0);
        model.TrainOnBatch(x, y);
        Console.WriteLine($"rank {parallel.Rank} warnings {warnings}");
        return 0;
    }

    private static int BatchNorm(DataParallel? parallel, string prefix)
    {
        const double momentum = 0.5;
        var input = new Input(new[] { 3 });
        var normalized = new BatchNormalization(momentum: momentum).Call(input);
        var model = new Model(input, new Dense(2, activation: "softmax").Call(normalized));
        SetWeights(model, 0);
        model.Compile(new SGD(learningRate: 0.1), "sparse_categorical_crossentropy");
        // 16 samples; in each global batch of 8 the last 4 (rank 1's) are shifted by 2, so the ranks' batch means differ.
        var (x, y) = Data(16, 4);
        for (var i = 0; i < 16; i++)
        {
            for (var j = 0; j < 3; j++)
            {
                x[i, j] += i % 8 >= 4 ? 2f + j : 0f;
            }
        }

        if (parallel is not null)
        {
            Distribution.SetDistribution(parallel);
        }

        var initial = model.GetWeights();
        model.Fit(x, y, batchSize: parallel is null ? 8 : 4, epochs: 1, verbose: 0, shuffle: false);
        var weights = model.GetWeights();
        // BatchNormalization's weights: gamma, beta, moving_mean, moving_variance.
        var movingMean = weights[2].Data.Select(v => (double)v).ToArray();
        var movingVariance = weights[3].Data.Select(v => (double)v).ToArray();
        // The rule: each rank's moving statistics move toward its own batch's (biased) mean and variance; after each
        // step the ranks' moving statistics are replaced by their sample-weighted mean.
        var mean = initial[2].Data.Select(v => (double)v).ToArray();
        var variance = initial[3].Data.Select(v => (double)v).ToArray();
        for (var start = 0; start < 16; start += 8)
        {
            for (var j = 0; j < 3; j++)
            {
                double meanOfMeans = 0, meanOfVariances = 0;
                foreach (var part in new[] { start, start + 4 })
                {
                    var values = Enumerable.Range(part, 4).Select(i => (double)x[i, j]).ToArray();
                    var m = values.Average();
                    meanOfMeans += m / 2;
                    meanOfVariances += values.Select(v => (v - m) * (v - m)).Average() / 2;
                }

                mean[j] = (mean[j] * momentum) + (meanOfMeans * (1 - momentum));
                variance[j] = (variance[j] * momentum) + (meanOfVariances * (1 - momentum));
            }
        }

        Write(Output(prefix, parallel), model, null, new Dictionary<string, double>(), new Dictionary<string, object>
        {
            ["moving_mean"] = movingMean,
            ["moving_variance"] = movingVariance,
            ["rule_mean"] = mean,
            ["rule_variance"] = variance,
        });
        return 0;
    }
}
