using System.CommandLine;
using KerasStyle;
using KerasStyle.Models;

var root = new RootCommand("KerasStyle examples: the seed tutorial's CNN-LSTM models in C#.");

var summary = new Command("summary", "Print the Keras summaries of both seed models (regression and sentiment).");
summary.SetAction(_ =>
{
    Backend.ClearSession();
    using var regression = CnnLstmModels.Regression();
    Console.WriteLine("Regression model (input 1x3):");
    regression.PrintSummary();
    Console.WriteLine();

    Backend.ClearSession();
    using var sentiment = CnnLstmModels.Sentiment();
    Console.WriteLine("Sentiment model (IMDB token ids, Sequential):");
    sentiment.PrintSummary();
    return 0;
});
root.Subcommands.Add(summary);

return root.Parse(args).Invoke();
