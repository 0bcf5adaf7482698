using System.CommandLine;

namespace KerasStyle.Examples;

/// <summary>Options shared by the example commands.</summary>
internal static class ExampleOptions
{
    public static Option<string?> Data() => new("--data") { Description = $"Data folder (default: ${DataDirectory.EnvironmentVariable}, then ../shared/data beside the repository)." };

    public static Option<int> Seed(int value) => new("--seed") { Description = "Random seed for weights, shuffling and dropout.", DefaultValueFactory = _ => value };

    public static Option<int> Epochs(int value) => Positive("--epochs", "Training epochs.", value);

    public static Option<int> BatchSize(int value) => Positive("--batch-size", "Samples per gradient update.", value);

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
