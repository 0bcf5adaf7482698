using System.Globalization;
using System.Text.RegularExpressions;

namespace KerasStyle.Training.Callbacks;

/// <summary>
/// Saves the model after each epoch, as Keras' <c>ModelCheckpoint</c>. The path may hold Keras placeholders such as
/// <c>model.{epoch:02d}-{val_loss:.2f}.keras</c>. By default the whole model is saved as a Keras 3 <c>.keras</c>
/// file (see <see cref="Models.Model.Save"/>); with <c>saveWeightsOnly</c> only the weights, as <c>.weights.h5</c>
/// (Keras 3 layout) or <c>.h5</c> (Keras 2 layout, see <see cref="Models.Model.SaveWeights"/>). Every file is written
/// atomically.
/// </summary>
public sealed partial class ModelCheckpoint : Callback
{
    private readonly Monitor monitor;
    private double best;

    /// <summary>Creates the callback.</summary>
    /// <param name="filepath">Where to save; may contain <c>{epoch}</c> and <c>{key:format}</c> placeholders. Must end
    /// in <c>.keras</c>, or with <paramref name="saveWeightsOnly"/> in <c>.weights.h5</c> or <c>.h5</c>.</param>
    /// <param name="monitor">The quantity compared when <paramref name="saveBestOnly"/> is set.</param>
    /// <param name="saveBestOnly">Save only when the monitored quantity improves.</param>
    /// <param name="saveWeightsOnly">Save only the weights instead of the whole model.</param>
    /// <param name="mode"><c>auto</c>, <c>min</c> or <c>max</c>.</param>
    /// <param name="verbose">1 to print each save.</param>
    public ModelCheckpoint(string filepath, string monitor = "val_loss", bool saveBestOnly = false, bool saveWeightsOnly = false,
        string mode = "auto", int verbose = 0)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(filepath);
        var extension = Path.GetExtension(filepath).ToLowerInvariant();
        if (saveWeightsOnly && extension is not (".h5" or ".hdf5"))
        {
            throw new ArgumentException($"ModelCheckpoint: with saveWeightsOnly the path must end in .weights.h5 (Keras 3 layout) or .h5 (Keras 2 layout), got '{filepath}'.", nameof(filepath));
        }

        if (!saveWeightsOnly && extension != ".keras")
        {
            throw new ArgumentException($"ModelCheckpoint: the path must end in .keras to save the whole model (or pass saveWeightsOnly: true for .weights.h5 / .h5), got '{filepath}'.", nameof(filepath));
        }

        Filepath = filepath;
        this.monitor = new Monitor(nameof(ModelCheckpoint), monitor, mode);
        SaveBestOnly = saveBestOnly;
        SaveWeightsOnly = saveWeightsOnly;
        Verbose = verbose;
    }

    /// <summary>The path pattern.</summary>
    public string Filepath { get; }

    /// <summary>Whether only improvements are saved.</summary>
    public bool SaveBestOnly { get; }

    /// <summary>Whether only the weights are saved (otherwise the whole model).</summary>
    public bool SaveWeightsOnly { get; }

    /// <summary>1 to print each save.</summary>
    public int Verbose { get; }

    /// <summary>The files written, in order.</summary>
    public List<string> Saved { get; } = new();

    /// <summary>Fills Keras placeholders: <c>{epoch}</c> is 1-based; formats <c>0Nd</c>, <c>.Nf</c>, <c>.Ne</c>.</summary>
    /// <param name="pattern">The path pattern.</param>
    /// <param name="epoch">The epoch index, from 0.</param>
    /// <param name="logs">The epoch logs.</param>
    public static string FormatPath(string pattern, int epoch, IReadOnlyDictionary<string, double> logs)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        ArgumentNullException.ThrowIfNull(logs);
        return Placeholder().Replace(pattern, m =>
        {
            var key = m.Groups[1].Value;
            var spec = m.Groups[2].Success ? m.Groups[2].Value : string.Empty;
            double value = key == "epoch" ? epoch + 1
                : logs.TryGetValue(key, out var v) ? v
                : throw new ArgumentException($"ModelCheckpoint: the path '{pattern}' uses '{{{key}}}', which is not in the logs ({string.Join(", ", logs.Keys)}).");
            return spec switch
            {
                "" => key == "epoch" ? ((int)value).ToString(CultureInfo.InvariantCulture) : value.ToString("R", CultureInfo.InvariantCulture),
                _ when spec.EndsWith('d') => ((long)value).ToString("D" + (spec.Length > 1 ? spec[..^1].TrimStart('0') : string.Empty), CultureInfo.InvariantCulture),
                _ when spec.StartsWith('.') && spec.EndsWith('f') => value.ToString("F" + spec[1..^1], CultureInfo.InvariantCulture),
                _ when spec.StartsWith('.') && spec.EndsWith('e') => value.ToString("0." + new string('0', int.Parse(spec[1..^1], CultureInfo.InvariantCulture)) + "e+00", CultureInfo.InvariantCulture),
                _ => throw new ArgumentException($"ModelCheckpoint: unsupported format '{spec}' for '{key}' in '{pattern}'; use 0Nd, .Nf or .Ne."),
            };
        });
    }

    /// <inheritdoc/>
    public override void OnTrainBegin(Dictionary<string, double> logs) => best = monitor.Worst;

    /// <inheritdoc/>
    public override void OnEpochEnd(int epoch, Dictionary<string, double> logs)
    {
        var path = FormatPath(Filepath, epoch, logs);
        if (SaveBestOnly)
        {
            if (!monitor.TryGet(logs, nameof(ModelCheckpoint), out var current) || !monitor.Improves(current, best, 0))
            {
                if (Verbose > 0)
                {
                    Console.WriteLine($"\nEpoch {epoch + 1:D5}: {monitor.Name} did not improve from {Monitor.Fixed(best, 5)}");
                }

                return;
            }

            if (Verbose > 0)
            {
                Console.WriteLine($"\nEpoch {epoch + 1:D5}: {monitor.Name} improved from {Monitor.Fixed(best, 5)} to {Monitor.Fixed(current, 5)}, saving model to {path}");
            }

            best = current;
        }
        else if (Verbose > 0)
        {
            Console.WriteLine($"\nEpoch {epoch + 1:D5}: saving model to {path}");
        }

        if (SaveWeightsOnly)
        {
            TrainingModel.SaveWeights(path);
        }
        else
        {
            TrainingModel.Save(path);
        }

        Saved.Add(path);
    }

    [GeneratedRegex(@"\{(\w+)(?::([^}]*))?\}")]
    private static partial Regex Placeholder();
}
