using System.CommandLine;
using KerasStyle.Examples.Commands;

var root = new RootCommand("KerasStyle examples: the seed tutorial's CNN-LSTM models in C#.");
root.Subcommands.Add(SummaryCommand.Create());
root.Subcommands.Add(RegressionCommand.Create());
root.Subcommands.Add(SentimentCommand.Create());
root.Subcommands.Add(TwoInputCommand.Create());
root.Subcommands.Add(TemperaturesCommand.Create());
root.Subcommands.Add(PredictCommand.Create());
root.Subcommands.Add(ExportCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
root.Subcommands.Add(BenchDistributedCommand.Create());
root.Subcommands.Add(PredictProfileCommand.Create());
root.Subcommands.Add(DoctorCommand.Create());

var parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    // One line per problem and exit code 2, without the whole help (--help shows it).
    var commands = root.Subcommands.Select(c => c.Name).ToArray();
    foreach (var token in parsed.UnmatchedTokens)
    {
        var close = commands.Where(c => Distance(c, token) <= 2 || c.StartsWith(token, StringComparison.Ordinal)).ToArray();
        Console.Error.WriteLine(close.Length > 0
            ? $"'{token}' is not a command or argument here. Did you mean {string.Join(" or ", close.Select(c => $"'{c}'"))}?"
            : $"'{token}' is not a command or argument here.");
    }

    // A misspelled command also leaves "Required command was not provided": the suggestion says it better.
    foreach (var error in parsed.Errors.Where(e => !parsed.UnmatchedTokens.Any(t => e.Message.Contains($"'{t}'", StringComparison.Ordinal))
                 && !(parsed.UnmatchedTokens.Count > 0 && parsed.CommandResult.Command == root)))
    {
        Console.Error.WriteLine(error.Message);
    }

    Console.Error.WriteLine($"Run with --help for the commands and options.");
    return 2;
}

return parsed.Invoke();

// Levenshtein distance, for command suggestions.
static int Distance(string a, string b)
{
    var previous = Enumerable.Range(0, b.Length + 1).ToArray();
    for (var i = 1; i <= a.Length; i++)
    {
        var current = new int[b.Length + 1];
        current[0] = i;
        for (var j = 1; j <= b.Length; j++)
        {
            current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
        }

        previous = current;
    }

    return previous[b.Length];
}
