using System.CommandLine;
using KerasStyle.Models;

namespace KerasStyle.Examples.Commands;

/// <summary><c>summary</c>: prints the Keras summaries of both seed models.</summary>
internal static class SummaryCommand
{
    public static Command Create()
    {
        var command = new Command("summary", "Print the Keras summaries of both seed models (regression and sentiment).");
        command.SetAction(_ =>
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
        return command;
    }
}
