using System.CommandLine;

namespace KerasStyle.Examples;

/// <summary>Options shared by the example commands.</summary>
internal static class ExampleOptions
{
    public static Option<string?> Data() => new("--data") { Description = $"Data folder (default: ${DataDirectory.EnvironmentVariable}, then ../shared/data beside the repository)." };

    public static Option<int> Seed(int value) => new("--seed") { Description = "Random seed for weights, shuffling and dropout.", DefaultValueFactory = _ => value };

    public static Option<int> Epochs(int value) => Positive("--epochs", "Training epochs.", value);

    public static Option<int> BatchSize(int value) => Positive("--batch-size", "Samples per gradient update.", value);

    /// <summary><c>--limit N</c>: N reviews of each IMDB split (after the seeded shuffle), for a quick run.</summary>
    public static Option<int?> Limit()
    {
        var limit = new Option<int?>("--limit") { Description = "Use only N reviews of each split (after a seeded shuffle), for a quick run." };
        limit.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int?>() is < 1)
            {
                r.AddError("--limit must be at least 1.");
            }
        });
        return limit;
    }

    /// <summary>Keras' verbose: 0, 1 or 2, checked when the command line is parsed.</summary>
    public static Option<int> Verbose()
    {
        var option = new Option<int>("--verbose") { Description = "0 silent, 1 progress bar, 2 one line per epoch.", DefaultValueFactory = _ => 1 };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() is < 0 or > 2)
            {
                result.AddError("--verbose must be 0, 1 or 2.");
            }
        });
        return option;
    }

    /// <summary>A rate in [0, 1), checked when the command line is parsed.</summary>
    public static Option<double> Rate(string name, string description, double value)
    {
        var option = new Option<double>(name) { Description = description, DefaultValueFactory = _ => value };
        option.Validators.Add(result =>
        {
            var rate = result.GetValueOrDefault<double>();
            if (!(rate >= 0 && rate < 1))
            {
                result.AddError($"{name} must be at least 0 and below 1, but {rate.ToString(System.Globalization.CultureInfo.InvariantCulture)} was given.");
            }
        });
        return option;
    }

    public static Option<int> Positive(string name, string description, int value)
    {
        var option = new Option<int>(name) { Description = description, DefaultValueFactory = _ => value };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() < 1)
            {
                result.AddError($"{name} must be at least 1.");
            }
        });
        return option;
    }
}
