using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using KerasStyle.Saving;

namespace KerasStyle.Training.Schedules;

/// <summary>
/// Keras' <c>keras.optimizers.schedules.LearningRateSchedule</c> (keras/src/optimizers/schedules/learning_rate_schedule.py):
/// the learning rate as a function of the optimizer's step. Pass one as any optimizer's <c>learningRate</c>
/// (<c>new Adam(new ExponentialDecay(0.1, 1000, 0.96))</c>); the optimizer evaluates it at its
/// <see cref="Optimizers.Optimizer.Iterations"/> before each update, and <see cref="Optimizers.Optimizer.LearningRate"/>
/// returns its value at the current step (and can no longer be set, as in Keras).
/// To write a schedule, subclass it (Keras' <c>__call__</c> is <see cref="Call"/>, <c>get_config</c> is
/// <see cref="GetConfig"/>) and register a factory with
/// <see cref="CustomObjects.Register(string, Func{LayerConfig, LearningRateSchedule})"/> so a compile config naming it loads.
/// </summary>
public abstract class LearningRateSchedule
{
    /// <summary>The library's schedules by Keras class name, each built from its config.</summary>
    private static readonly Dictionary<string, Func<LayerConfig, LearningRateSchedule>> BuiltIn = new(StringComparer.Ordinal)
    {
        [nameof(ExponentialDecay)] = ExponentialDecay.FromConfig,
        [nameof(PiecewiseConstantDecay)] = PiecewiseConstantDecay.FromConfig,
        [nameof(PolynomialDecay)] = PolynomialDecay.FromConfig,
        [nameof(InverseTimeDecay)] = InverseTimeDecay.FromConfig,
        [nameof(CosineDecay)] = CosineDecay.FromConfig,
        [nameof(CosineDecayRestarts)] = CosineDecayRestarts.FromConfig,
    };

    private static readonly ConcurrentDictionary<string, Func<LayerConfig, LearningRateSchedule>> Custom = new(StringComparer.Ordinal);

    /// <summary>The Keras class names of the library's schedules.</summary>
    public static IReadOnlyList<string> Known { get; } = BuiltIn.Keys.ToArray();

    /// <summary>
    /// The learning rate at step <paramref name="step"/> (Keras' <c>__call__</c>); the optimizer passes its
    /// iterations before the update, counted from 0.
    /// </summary>
    /// <param name="step">The optimizer step, 0 or more.</param>
    /// <returns>The learning rate.</returns>
    public abstract double Call(long step);

    /// <summary>
    /// The Keras config (<c>get_config</c>): the constructor's arguments by Keras name. The base class throws, as
    /// Keras' does: a schedule of your own must override it to be saved.
    /// </summary>
    /// <exception cref="NotImplementedException">The schedule does not override it.</exception>
    public virtual JsonObject GetConfig() =>
        throw new NotImplementedException($"Learning rate schedule '{GetType().Name}' must override `GetConfig()` in order to be serializable.");

    /// <summary>
    /// Keras' <c>keras.optimizers.schedules.serialize</c>: <c>{"module": "keras.optimizers.schedules", "class_name",
    /// "config", "registered_name": null}</c> for the library's schedules; a user's class by its class name, with
    /// <c>module</c> null and <c>registered_name</c> the class name.
    /// </summary>
    public JsonObject Serialize()
    {
        var builtIn = GetType().Assembly == typeof(LearningRateSchedule).Assembly;
        return new JsonObject
        {
            ["module"] = builtIn ? "keras.optimizers.schedules" : null,
            ["class_name"] = GetType().Name,
            ["config"] = GetConfig(),
            ["registered_name"] = builtIn ? null : GetType().Name,
        };
    }

    /// <summary>
    /// Keras' <c>keras.optimizers.schedules.deserialize</c>: a schedule from its serialized form, Keras 3's
    /// (<c>module</c>, <c>class_name</c>, <c>config</c>, <c>registered_name</c>) or tf.keras 2's
    /// (<c>class_name</c> and <c>config</c>, with <c>name: null</c>), or a registered class of your own. Every key of
    /// the config is read or refused.
    /// </summary>
    /// <param name="serialized">The serialized schedule.</param>
    /// <exception cref="ArgumentNullException"><paramref name="serialized"/> is null.</exception>
    /// <exception cref="FormatException">Not a serialized schedule, an unknown argument, or an argument Keras refuses.</exception>
    /// <exception cref="NotSupportedException">An unknown schedule class.</exception>
    public static LearningRateSchedule Deserialize(JsonNode serialized)
    {
        ArgumentNullException.ThrowIfNull(serialized);
        var obj = serialized as JsonObject
            ?? throw new FormatException($"learning_rate: a learning-rate schedule must be an object with class_name and config, got {serialized.ToJsonString()}.");
        var className = obj["class_name"] is JsonValue c && c.TryGetValue<string>(out var text) ? text
            : throw new FormatException($"learning_rate: the schedule has no class_name: {obj.ToJsonString()}.");
        if (obj["module"] is JsonValue m && m.TryGetValue<string>(out var module) && module != "keras.optimizers.schedules"
            && !module.StartsWith("keras.src.optimizers.schedules", StringComparison.Ordinal) && BuiltIn.ContainsKey(className))
        {
            throw new FormatException($"learning_rate: the schedule {className} from module '{module}' is not Keras' (keras.optimizers.schedules).");
        }

        var factory = (obj["registered_name"] is JsonValue r && r.TryGetValue<string>(out var registered) ? Custom.GetValueOrDefault(registered) : null)
            ?? Custom.GetValueOrDefault(className)
            ?? BuiltIn.GetValueOrDefault(className)
            ?? throw new NotSupportedException($"learning_rate: the learning-rate schedule '{className}' is not supported; this library has {string.Join(", ", Known)} (register your own with CustomObjects.Register).");
        var values = obj["config"] as JsonObject
            ?? throw new FormatException($"learning_rate: the schedule {className} has no config object: {obj.ToJsonString()}.");
        var name = values["name"] is JsonValue n && n.TryGetValue<string>(out var given) ? given : className;
        var config = new LayerConfig(className, name, (JsonObject)values.DeepClone());
        LearningRateSchedule? built;
        try
        {
            built = factory(config);
        }
        catch (ArgumentException e)
        {
            throw config.Error(e.Message);
        }

        var unknown = config.UnreadKeys;
        return built is null ? throw config.Error("the registered factory of the learning-rate schedule returned null.")
            : unknown.Count == 0 ? built
            : throw config.Error($"unknown argument{(unknown.Count > 1 ? "s" : string.Empty)} {string.Join(", ", unknown.Select(k => $"'{k}'"))} for the learning-rate schedule {className}.");
    }

    /// <summary>
    /// An optimizer config's <c>learning_rate</c> for the factory of an optimizer of your own
    /// (<see cref="CustomObjects.Register(string, Func{LayerConfig, Optimizers.Optimizer})"/>): a number, or a
    /// serialized schedule built with <see cref="Deserialize"/>; <paramref name="defaultValue"/> when absent.
    /// </summary>
    /// <param name="config">The optimizer's config.</param>
    /// <param name="defaultValue">The optimizer's default rate.</param>
    /// <exception cref="FormatException">Neither a number nor a serialized schedule.</exception>
    public static LearningRateOrSchedule ReadLearningRate(LayerConfig config, double defaultValue)
    {
        ArgumentNullException.ThrowIfNull(config);
        return config.GetRaw("learning_rate") switch
        {
            null => defaultValue,
            JsonObject serialized => Deserialize(serialized),
            JsonValue v when v.TryGetValue<double>(out var rate) => rate,
            var other => throw config.Error($"'learning_rate' must be a number or a serialized learning-rate schedule, got {other.ToJsonString()}."),
        };
    }

    /// <summary>Whether <paramref name="className"/> is one of the library's schedules.</summary>
    internal static bool IsBuiltInClass(string className) => BuiltIn.ContainsKey(className);

    /// <summary>Adds a user's schedule factory (<see cref="CustomObjects.Register(string, Func{LayerConfig, LearningRateSchedule})"/>).</summary>
    internal static bool TryRegister(string className, Func<LayerConfig, LearningRateSchedule> factory) => Custom.TryAdd(className, factory);

    /// <summary>Removes a user's schedule factory.</summary>
    internal static bool Unregister(string className) => Custom.TryRemove(className, out _);

    /// <summary>A required number of a config.</summary>
    private protected static double Required(LayerConfig config, string key) =>
        config.Has(key) ? config.GetDouble(key, double.NaN) : throw config.Error($"the argument '{key}' is required.");

    /// <summary>A number as Keras writes it back: an integer when whole (Python's <c>3</c>), else a float.</summary>
    private protected static JsonNode Number(double value) =>
        value == Math.Floor(value) && Math.Abs(value) < 1e15 ? JsonValue.Create((long)value) : JsonValue.Create(value);

    /// <summary>Keras' check of a decay length: <c>Argument `decay_steps` must be &gt; 0.</c></summary>
    private protected static double CheckSteps(double steps, string argument, string kerasName) =>
        steps > 0 ? steps
        : throw new ArgumentOutOfRangeException(argument, steps, $"Argument `{kerasName}` must be > 0. Received: {kerasName}={Python(steps)}");

    /// <summary>A number as Python prints it in Keras' messages.</summary>
    private protected static string Python(double value) => double.IsFinite(value) && value == Math.Floor(value) && Math.Abs(value) < 1e15
        ? ((long)value).ToString(System.Globalization.CultureInfo.InvariantCulture)
        : Callbacks.PythonFloat.Repr(value);
}
