using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using KerasStyle.Datasets;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Preprocessing;
using ScottPlot;

namespace KerasStyle.Examples.Commands;

/// <summary>
/// <c>temperatures</c>: the time-series CNN-LSTM as Keras users write it (issue 14): each sample is the last 28 days
/// of Melbourne's daily minimum temperature cut into 4 subsequences of 7 days; <c>TimeDistributed(Conv1D)</c>,
/// <c>TimeDistributed(MaxPooling1D)</c> and <c>TimeDistributed(Flatten)</c> read each week, an LSTM reads the 4
/// weeks, a Dense predicts the next day (by default its change from today, which beats the naive forecast; the
/// next day's level with <c>--target level</c>). Time-ordered split: 1981-1988 train, 1989-1990 test; test RMSE in °C next
/// to the naive forecast (yesterday) and the seasonal-naive forecast (the same day a year earlier), with a plot.
/// </summary>
internal static class TemperaturesCommand
{
    private const string SeriesFile = "timeseries/daily-min-temperatures.csv";
    private const int Subsequences = 4;
    private const int Days = 7;
    private const int Season = 365;

    public static Command Create()
    {
        var data = ExampleOptions.Data();
        var epochs = ExampleOptions.Epochs(50);
        var batchSize = ExampleOptions.BatchSize(32);
        var seed = ExampleOptions.Seed(7);
        var plot = new Option<string>("--plot") { Description = "PNG file for actual vs predicted temperatures of the test years.", DefaultValueFactory = _ => "temperatures.png" };
        var target = new Option<string>("--target") { Description = "difference (default): predict the change from yesterday (scaled); level: predict the next day's scaled temperature.", DefaultValueFactory = _ => "difference" };
        target.AcceptOnlyFromAmong("level", "difference");
        var verbose = ExampleOptions.Verbose();
        var command = new Command("temperatures", "Train the TimeDistributed CNN-LSTM on daily minimum temperatures and report test RMSE against the naive and seasonal-naive forecasts.")
        {
            data, epochs, batchSize, seed, target, plot, verbose,
        };
        command.SetAction(result => DataNotFoundException.Report(() => Run(
            result.GetValue(data), result.GetValue(epochs), result.GetValue(batchSize), result.GetValue(seed), result.GetValue(target) == "difference", result.GetValue(plot)!, result.GetValue(verbose))));
        return command;
    }

    /// <summary>The model: (4 weeks, 7 days, 1 value) in, the next day's scaled temperature out.</summary>
    internal static Model Build()
    {
        var weeks = new Input(shape: (Subsequences, Days, 1), name: "weeks");
        var x = new TimeDistributed(new Conv1D(64, 3, activation: "relu"), name: "conv").Call(weeks);
        x = new TimeDistributed(new MaxPooling1D(2), name: "pool").Call(x);
        x = new TimeDistributed(new Flatten(), name: "flatten").Call(x);
        x = new LSTM(50, name: "lstm").Call(x);
        return new Model(weeks, new Dense(1, name: "next_day").Call(x), "temperature_cnn_lstm");
    }

    private static int Run(string? dataOption, int epochs, int batchSize, int seed, bool difference, string plotPath, int verbose)
    {
        var folder = DataDirectory.Resolve(dataOption, SeriesFile);
        var (dates, temperatures) = CsvSeries.Read(Path.Combine(folder, SeriesFile));
        var clock = Stopwatch.StartNew();
        var testStart = dates.ToList().FindIndex(d => d.StartsWith("1989", StringComparison.Ordinal));
        // Scaled on the training years only; windows may reach back into the training years, targets may not.
        var scaler = new MinMaxScaler().Fit(temperatures.Take(testStart).ToArray());
        var scaled = scaler.Transform(temperatures);
        var window = Subsequences * Days;
        // The target: the next day's scaled temperature, or its change from today in the same units.
        var targets = difference ? scaled.Select((v, t) => t == 0 ? 0 : v - scaled[t - 1]).ToArray() : scaled;
        var (trainX, trainY) = Windows(scaled, targets, window, testStart - window, window);
        var (testX, testY) = Windows(scaled, targets, testStart, temperatures.Count - testStart, window);
        Console.WriteLine($"Daily minimum temperatures: {temperatures.Count} days ({dates[0]} to {dates[^1]}); {trainY.GetLength(0)} training windows before {dates[testStart]}, {testY.GetLength(0)} test days; each sample {Subsequences} weeks of {Days} days.");

        Backend.ClearSession();
        Utils.SetRandomSeed(seed);
        using var model = Build();
        model.Summary();
        model.Compile("adam", "mse");
        model.Fit(trainX, trainY, batchSize: batchSize, epochs: epochs, verbose: verbose, shuffle: true);
        var output = model.Predict<float[,]>(testX).Cast<float>().Select((v, i) => difference ? scaled[testStart + i - 1] + v : v).ToArray();
        var predicted = scaler.InverseTransform(output);
        var actual = temperatures.Skip(testStart).ToArray();
        var naive = temperatures.Skip(testStart - 1).Take(actual.Length).ToArray();
        var seasonal = temperatures.Skip(testStart - Season).Take(actual.Length).ToArray();
        var (rmse, naiveRmse, seasonalRmse) = (RegressionCommand.Rmse(actual, predicted), RegressionCommand.Rmse(actual, naive), RegressionCommand.Rmse(actual, seasonal));
        var seconds = clock.Elapsed.TotalSeconds;

        var plot = new Plot();
        var days = Enumerable.Range(0, actual.Length).Select(i => (double)i).ToArray();
        var truth = plot.Add.Scatter(days, actual);
        truth.LegendText = "actual";
        truth.MarkerSize = 0;
        var forecast = plot.Add.Scatter(days, predicted);
        forecast.LegendText = $"CNN-LSTM (RMSE {rmse:F2})";
        forecast.MarkerSize = 0;
        plot.Title($"Daily minimum temperature, Melbourne, from {dates[testStart]} (test years)");
        plot.XLabel("day");
        plot.YLabel("°C");
        plot.ShowLegend(Alignment.UpperRight);
        plot.SavePng(plotPath, 1000, 500);

        Console.WriteLine($"Test RMSE: {rmse:F3} °C (naive, yesterday: {naiveRmse:F3}; seasonal naive, a year earlier: {seasonalRmse:F3})");
        Console.WriteLine($"Plot: {Path.GetFullPath(plotPath)}");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"result task=temperatures test_rmse={rmse:F3} naive_test_rmse={naiveRmse:F3} seasonal_naive_test_rmse={seasonalRmse:F3} seconds={seconds:F1}"));
        return 0;
    }

    /// <summary>Targets start..start+count-1, each with the <paramref name="window"/> values of <paramref name="series"/> before it as (weeks, days, 1).</summary>
    private static (float[,,,] X, float[,] Y) Windows(IReadOnlyList<double> series, IReadOnlyList<double> targets, int start, int count, int window)
    {
        var x = new float[count, Subsequences, Days, 1];
        var y = new float[count, 1];
        for (var i = 0; i < count; i++)
        {
            var target = start + i;
            for (var d = 0; d < window; d++)
            {
                x[i, d / Days, d % Days, 0] = (float)series[target - window + d];
            }

            y[i, 0] = (float)targets[target];
        }

        return (x, y);
    }
}
