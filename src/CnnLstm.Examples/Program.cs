using System.CommandLine;
using KerasStyle.Examples.Commands;

var root = new RootCommand("KerasStyle examples: the seed tutorial's CNN-LSTM models in C#.");
root.Subcommands.Add(SummaryCommand.Create());
root.Subcommands.Add(RegressionCommand.Create());
root.Subcommands.Add(SentimentCommand.Create());
root.Subcommands.Add(PredictCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
root.Subcommands.Add(DoctorCommand.Create());

return root.Parse(args).Invoke();
