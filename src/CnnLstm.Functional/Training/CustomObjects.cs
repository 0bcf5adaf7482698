using System.Collections.Concurrent;
using KerasStyle.Saving;
using KerasStyle.Training.Losses;
using KerasStyle.Training.Optimizers;
using KerasStyle.Training.Schedules;

namespace KerasStyle.Training;

/// <summary>
/// Factories for users' losses, metrics and optimizers, so that a compile config naming them compiles the loaded model,
/// as Keras' <c>custom_objects</c> / <c>register_keras_serializable</c> and this library's <see cref="LayerRegistry"/>
/// for layers. A user's class is saved by its class name (<c>registered_name</c>) with its <c>GetConfig()</c>; loading
/// a file that names an unregistered one fails with the error of any unknown class (or load with <c>compile: false</c>).
/// </summary>
public static class CustomObjects
{
    private static readonly ConcurrentDictionary<string, Func<LayerConfig, Loss>> Losses = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, Func<LayerConfig, Metric>> Metrics = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, Func<LayerConfig, Optimizer>> Optimizers = new(StringComparer.Ordinal);

    /// <summary>
    /// Registers a loss class: <paramref name="factory"/> builds it from the config its <c>GetConfig()</c> wrote,
    /// reading every key it supports (<c>name</c> and <c>reduction</c> included) through the
    /// <see cref="LayerConfig"/> getters; unread keys are refused as unknown.
    /// </summary>
    /// <param name="className">The C# class name, which the saved config holds.</param>
    /// <param name="factory">Builds the loss from its config.</param>
    /// <exception cref="ArgumentException">An empty name, a name already registered, or one of the library's losses.</exception>
    public static void Register(string className, Func<LayerConfig, Loss> factory) => Add(Losses, className, factory, "loss", LossNames.IsBuiltInClass);

    /// <summary>Registers a metric class; as the loss overload (<c>name</c> and <c>dtype</c> are the base keys).</summary>
    /// <param name="className">The C# class name, which the saved config holds.</param>
    /// <param name="factory">Builds the metric from its config.</param>
    /// <exception cref="ArgumentException">An empty name, a name already registered, or one of the library's metrics.</exception>
    public static void Register(string className, Func<LayerConfig, Metric> factory) => Add(Metrics, className, factory, "metric", KerasStyle.Training.Metric.IsBuiltInClass);

    /// <summary>
    /// Registers an optimizer class; as the loss overload. Keras' base optimizer keys that this library refuses
    /// (<c>clipnorm</c>, <c>weight_decay</c>...) are checked before the factory runs; <c>learning_rate</c> is the factory's to read.
    /// </summary>
    /// <param name="className">The C# class name, which the saved config holds.</param>
    /// <param name="factory">Builds the optimizer from its config.</param>
    /// <exception cref="ArgumentException">An empty name, a name already registered, or one of the library's optimizers.</exception>
    public static void Register(string className, Func<LayerConfig, Optimizer> factory) => Add(Optimizers, className, factory, "optimizer", OptimizerNames.IsBuiltInClass);

    /// <summary>
    /// Registers a learning-rate schedule class, so that an optimizer config whose <c>learning_rate</c> names it loads;
    /// as the loss overload (<c>name</c> is read by the factory, as any other key).
    /// </summary>
    /// <param name="className">The C# class name, which the saved config holds.</param>
    /// <param name="factory">Builds the schedule from its config.</param>
    /// <exception cref="ArgumentException">An empty name, a name already registered, or one of the library's schedules.</exception>
    public static void Register(string className, Func<LayerConfig, LearningRateSchedule> factory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(className);
        ArgumentNullException.ThrowIfNull(factory);
        if (LearningRateSchedule.IsBuiltInClass(className))
        {
            throw new ArgumentException($"CustomObjects: '{className}' is one of the library's learning-rate schedule classes and cannot be replaced.", nameof(className));
        }

        if (!LearningRateSchedule.TryRegister(className, factory))
        {
            throw new ArgumentException($"CustomObjects: the learning-rate schedule class '{className}' is already registered; call Unregister first to replace it.", nameof(className));
        }
    }

    /// <summary>Removes a registered loss, metric or optimizer class.</summary>
    /// <param name="className">The class name.</param>
    /// <returns>Whether it was registered.</returns>
    public static bool Unregister(string className)
    {
        ArgumentNullException.ThrowIfNull(className);
        return Losses.TryRemove(className, out _) | Metrics.TryRemove(className, out _) | Optimizers.TryRemove(className, out _) | LearningRateSchedule.Unregister(className);
    }

    /// <summary>The registered loss factory for <paramref name="className"/>, or null.</summary>
    internal static Func<LayerConfig, Loss>? Loss(string className) => Losses.GetValueOrDefault(className);

    /// <summary>The registered metric factory for <paramref name="className"/>, or null.</summary>
    internal static Func<LayerConfig, Metric>? Metric(string className) => Metrics.GetValueOrDefault(className);

    /// <summary>The registered optimizer factory for <paramref name="className"/>, or null.</summary>
    internal static Func<LayerConfig, Optimizer>? Optimizer(string className) => Optimizers.GetValueOrDefault(className);

    /// <summary>
    /// Runs a registered factory and refuses the keys it did not read, as <see cref="LayerRegistry"/> does for layers;
    /// Keras' base <c>dtype</c> of losses and metrics is read here (float32 only).
    /// </summary>
    /// <exception cref="FormatException">The factory refused an argument, returned null, or left keys unread.</exception>
    /// <exception cref="NotSupportedException">A dtype other than float32.</exception>
    internal static T Create<T>(Func<LayerConfig, T> factory, LayerConfig config, string what)
        where T : class
    {
        if (LayerConfig.DTypeName(config.GetRaw("dtype")) is { } dtype && dtype != "float32")
        {
            throw new NotSupportedException($"compile_config: the {what} {config.ClassName} with dtype {dtype} is not supported; this library computes losses and metrics in float32.");
        }

        T? built;
        try
        {
            built = factory(config);
        }
        catch (ArgumentException e)
        {
            throw config.Error(e.Message);
        }

        var unknown = config.UnreadKeys;
        return built is null ? throw config.Error($"the registered factory of the {what} {config.ClassName} returned null.")
            : unknown.Count == 0 ? built
            : throw config.Error($"unknown argument{(unknown.Count > 1 ? "s" : string.Empty)} {string.Join(", ", unknown.Select(k => $"'{k}'"))} for the {what} {config.ClassName}.");
    }

    private static void Add<T>(ConcurrentDictionary<string, Func<LayerConfig, T>> table, string className, Func<LayerConfig, T> factory, string what, Func<string, bool> builtIn)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(className);
        ArgumentNullException.ThrowIfNull(factory);
        if (builtIn(className))
        {
            throw new ArgumentException($"CustomObjects: '{className}' is one of the library's {what} classes and cannot be replaced.", nameof(className));
        }

        if (!table.TryAdd(className, factory))
        {
            throw new ArgumentException($"CustomObjects: the {what} class '{className}' is already registered; call Unregister first to replace it.", nameof(className));
        }
    }
}
