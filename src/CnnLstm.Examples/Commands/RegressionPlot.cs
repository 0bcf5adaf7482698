using ScottPlot;

namespace KerasStyle.Examples.Commands;

/// <summary>The regression example's PNG: actual vs predicted passengers, and the training loss per epoch.</summary>
internal static class RegressionPlot
{
    public static void Save(string path, IReadOnlyList<double> actual, int lookBack, int trainSize,
        IReadOnlyList<double> trainPredicted, IReadOnlyList<double> testPredicted, IReadOnlyList<double> loss)
    {
        var series = new Plot();
        var all = series.Add.Scatter(Enumerable.Range(0, actual.Count).Select(i => (double)i).ToArray(), actual.ToArray());
        all.LegendText = "actual";
        all.MarkerSize = 0;
        var train = series.Add.Scatter(Enumerable.Range(lookBack, trainPredicted.Count).Select(i => (double)i).ToArray(), trainPredicted.ToArray());
        train.LegendText = "predicted (train)";
        train.MarkerSize = 0;
        var test = series.Add.Scatter(Enumerable.Range(trainSize + lookBack, testPredicted.Count).Select(i => (double)i).ToArray(), testPredicted.ToArray());
        test.LegendText = "predicted (test)";
        test.MarkerSize = 0;
        series.Add.VerticalLine(trainSize - 0.5);
        series.Title("Airline passengers (thousands), monthly from 1949-01");
        series.XLabel("month");
        series.ShowLegend(Alignment.UpperLeft);

        var curve = new Plot();
        var line = curve.Add.Scatter(Enumerable.Range(1, loss.Count).Select(i => (double)i).ToArray(), loss.ToArray());
        line.MarkerSize = 0;
        curve.Title("Training loss (mse on scaled data)");
        curve.XLabel("epoch");

        var figure = new Multiplot(series);
        figure.Subplots.Add(curve);
        figure.Layout = new ScottPlot.MultiplotLayouts.Rows();
        figure.SavePng(path, 900, 800);
    }
}
