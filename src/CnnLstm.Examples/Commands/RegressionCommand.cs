using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using KerasStyle.Datasets;
using KerasStyle.Models;
using KerasStyle.Preprocessing;
using KerasStyle.Training.Optimizers;

namespace KerasStyle.Examples.Commands;

/// <summary>
/// <c>regression</c>: the seed's CNN-LSTM on the monthly airline-passengers series. Scales to [0, 1], uses the 3
/// previous months as one step of 3 features, trains on the first 67% of months, tests on the rest in time order,
/// and compares the test RMSE with the naive forecast (next month = this month).
/// </summary>
internal static class RegressionCommand
{
    private const string SeriesFile = "timeseries/airline-passengers.csv";
    private const int LookBack = 3;

    public static Command Create()
    {
        var data = ExampleOptions.Data();
        var epochs = ExampleOptions.Epochs(100);
        var batchSize = ExampleOptions.BatchSize(1);
        var seed = ExampleOptions.Seed(7);
        var dropout = ExampleOptions.Rate("--dropout", "Dropout rate on the input (the seed uses 0.25).", 0.25);
        var plot = new Option<string>("--plot") { Description = "PNG file for actual vs predicted and the loss curve.", DefaultValueFactory = _ => "regression.png" };
        var verbose = ExampleOptions.Verbose();
        var target = new Option<string>("--target") { Description = "difference (default): predict the scaled change from this month, which beats the naive forecast; level: predict next month's scaled passengers as the seed does, which does not.", DefaultValueFactory = _ => "difference" };
        target.AcceptOnlyFromAmong("level", "difference");
        var command = new Command("regression", "Train the seed's regression model on airline passengers and report train/test RMSE against the naive forecast.")
        {
            data, epochs, batchSize, seed, dropout, target, plot, verbose,
        };
        command.SetAction(result => DataNotFoundException.Report(() => Run(
            result.GetValue(data), result.GetValue(epochs), result.GetValue(batchSize), result.GetValue(seed),
            result.GetValue(dropout), result.GetValue(target) == "difference", result.GetValue(plot)!, result.GetValue(verbose))));
        return command;
    }

    private static int Run(string? dataOption, int epochs, int batchSize, int seed, double dropout, bool difference, string plotPath, int verbose)
    {
        var folder = DataDirectory.Resolve(dataOption, SeriesFile);
        var (months, passengers) = CsvSeries.Read(Path.Combine(folder, SeriesFile));
        var clock = Stopwatch.StartNew();

        var trainSize = (int)(passengers.Count * 0.67);
        var problem = difference ? DifferenceProblem(passengers, trainSize) : LevelProblem(passengers, trainSize);
        var (trainX, trainY, testX, testY, scaler) = problem;
        Console.WriteLine($"Airline passengers: {passengers.Count} months ({months[0]} to {months[^1]}); train on {trainSize} months ({trainY.Length} windows), test on {testY.Length} later months; target: {(difference ? "change from this month" : "next month")}.");

        Backend.ClearSession();
        Utils.SetRandomSeed(seed);
        using var model = CnnLstmModels.Regression(dropoutRate: dropout);
        model.Compile(new Adam(), "mse");
        var history = model.Fit(trainX, trainY, batchSize: batchSize, epochs: epochs, verbose: verbose, shuffle: true);
        var testLoss = model.Evaluate(testX, testY)["loss"];

        // Targets are months LookBack.. of the train part and trainSize + LookBack.. of the test part.
        var trainMonths = Enumerable.Range(trainSize - trainY.Length, trainY.Length).ToArray();
        var testMonths = Enumerable.Range(passengers.Count - testY.Length, testY.Length).ToArray();
        var trainPredicted = Passengers(passengers, scaler, (float[,])model.Predict(trainX), trainMonths, difference);
        var testPredicted = Passengers(passengers, scaler, (float[,])model.Predict(testX), testMonths, difference);
        var trainActual = trainMonths.Select(m => passengers[m]).ToArray();
        var testActual = testMonths.Select(m => passengers[m]).ToArray();
        // Naive forecast: next month = this month.
        var naive = testMonths.Select(m => passengers[m - 1]).ToArray();

        var trainRmse = Rmse(trainActual, trainPredicted);
        var testRmse = Rmse(testActual, testPredicted);
        var naiveRmse = Rmse(testActual, naive);
        var seconds = clock.Elapsed.TotalSeconds;

        RegressionPlot.Save(plotPath, passengers, LookBack, trainSize, trainPredicted, testPredicted, history["loss"]);
        Console.WriteLine($"Test loss (mse, scaled): {testLoss:F6}");
        Console.WriteLine($"Train RMSE: {trainRmse:F2} thousand passengers");
        Console.WriteLine($"Test RMSE: {testRmse:F2} thousand passengers (naive forecast: {naiveRmse:F2})");
        Console.WriteLine($"Plot: {Path.GetFullPath(plotPath)}");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"result task=regression train_rmse={trainRmse:F3} test_rmse={testRmse:F3} naive_test_rmse={naiveRmse:F3} seconds={seconds:F1}"));
        return 0;
    }

    /// <summary>The seed's set-up: the whole series scaled to [0, 1], windows within each part.</summary>
    private static (float[,,], float[], float[,,], float[], MinMaxScaler) LevelProblem(IReadOnlyList<double> passengers, int trainSize)
    {
        var scaler = new MinMaxScaler().Fit(passengers);
        var scaled = scaler.Transform(passengers);
        var (trainX, trainY) = TimeSeriesWindows.Create(scaled[..trainSize], LookBack);
        var (testX, testY) = TimeSeriesWindows.Create(scaled[trainSize..], LookBack);
        return (trainX, trainY, testX, testY, scaler);
    }

    /// <summary>
    /// Month-to-month changes, scaled to [0, 1] on the training months only; the same target months as
    /// <see cref="LevelProblem"/>, so the test RMSE compares like for like.
    /// </summary>
    private static (float[,,], float[], float[,,], float[], MinMaxScaler) DifferenceProblem(IReadOnlyList<double> passengers, int trainSize)
    {
        var changes = passengers.Skip(1).Select((v, i) => v - passengers[i]).ToArray();
        // changes[i] is month i + 1 minus month i: the train part's changes end at month trainSize - 1.
        var scaler = new MinMaxScaler().Fit(changes[..(trainSize - 1)]);
        var scaled = scaler.Transform(changes);
        var (trainX, trainY) = TimeSeriesWindows.Create(scaled[..(trainSize - 1)], LookBack);
        var (testX, testY) = TimeSeriesWindows.Create(scaled[(trainSize - 1)..], LookBack);
        return (trainX, trainY, testX, testY, scaler);
    }

    private static double[] Passengers(IReadOnlyList<double> passengers, MinMaxScaler scaler, float[,] predicted, int[] months, bool difference)
    {
        var values = scaler.InverseTransform(Enumerable.Range(0, predicted.GetLength(0)).Select(i => (double)predicted[i, 0]).ToArray());
        return difference ? values.Select((change, i) => passengers[months[i] - 1] + change).ToArray() : values;
    }

    internal static double Rmse(IReadOnlyList<double> actual, IReadOnlyList<double> predicted) =>
        Math.Sqrt(actual.Zip(predicted, (a, p) => (a - p) * (a - p)).Average());
}
