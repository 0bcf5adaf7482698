using System.Collections.Concurrent;
using System.Reflection;
using KerasStyle.Layers;

namespace KerasStyle.Saving;

/// <summary>
/// Maps Keras layer class names (the <c>class_name</c> of a config entry) to factories that build a layer from its
/// <see cref="LayerConfig"/>, as Keras' <c>custom_objects</c> and <c>register_keras_serializable</c> do. The
/// library's layers are found once, by reflection, from their <see cref="KerasLayerAttribute"/> and static
/// <c>FromConfig(LayerConfig)</c>; add a user's layer class the same way with <see cref="Register{T}"/>, or any
/// factory with <see cref="Register(string, Func{LayerConfig, Layer})"/>, e.g.
/// <c>LayerRegistry.Register("MyDense", config => new Dense(config.GetInt("units"), name: config.Name))</c>.
/// </summary>
public static class LayerRegistry
{
    /// <summary>The library's layer classes, by Keras class name: every class of the library carrying <see cref="KerasLayerAttribute"/>.</summary>
    private static readonly Lazy<Dictionary<string, LayerClass>> BuiltIn = new(() =>
        typeof(Layer).Assembly.GetTypes()
            .Where(t => t.IsDefined(typeof(KerasLayerAttribute), inherit: false))
            .Select(t => LayerClass.Of(t) ?? throw new InvalidOperationException($"LayerRegistry: the library's {t.Name} has [KerasLayer] but no static FromConfig(LayerConfig) returning it."))
            .ToDictionary(c => c.ClassName, StringComparer.Ordinal));

    private static readonly ConcurrentDictionary<string, LayerClass> Custom = new(StringComparer.Ordinal);

    /// <summary>Every class name that can be loaded: the built-in ones, then the registered ones, alphabetically.</summary>
    public static IReadOnlyList<string> ClassNames =>
        BuiltIn.Value.Keys.Order(StringComparer.Ordinal).Concat(Custom.Keys.Order(StringComparer.Ordinal)).ToArray();

    /// <summary>
    /// Registers a factory for a layer class. The factory must read every config argument it supports through the
    /// <see cref="LayerConfig"/> getters (unread ones are reported as unknown) and give the layer
    /// <see cref="LayerConfig.Name"/>. The layer's <see cref="Layer.ClassName"/> should be
    /// <paramref name="className"/> so that saved files name it again.
    /// </summary>
    /// <param name="className">The Keras class name, e.g. <c>MyLayer</c>.</param>
    /// <param name="factory">Builds the layer from its config.</param>
    /// <exception cref="ArgumentException"><paramref name="className"/> is empty, a built-in class, or already registered.</exception>
    public static void Register(string className, Func<LayerConfig, Layer> factory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(className);
        ArgumentNullException.ThrowIfNull(factory);
        Add(new LayerClass(className, factory, OwnsDType: false, TakesIntegerIds: false, SharesNameWithOperation: false, TfKeras2Arguments.None));
    }

    /// <summary>
    /// Registers a user's layer class as the library's own are: by its <see cref="KerasLayerAttribute"/> (the Keras
    /// class name, which <see cref="Layer.ClassName"/> then returns) and its static <c>FromConfig(LayerConfig)</c>
    /// (public or not), which reads every config argument the class supports and passes <see cref="LayerConfig.Name"/>
    /// to the layer. <c>Model.Load</c> and <c>Model.FromJson</c> then read files that use the class.
    /// </summary>
    /// <typeparam name="T">The layer class.</typeparam>
    /// <exception cref="ArgumentException"><typeparamref name="T"/> has no <see cref="KerasLayerAttribute"/>, or no
    /// static <c>FromConfig(LayerConfig)</c> returning a <typeparamref name="T"/>; or its class name is a built-in
    /// class or already registered.</exception>
    public static void Register<T>()
        where T : Layer
    {
        var type = typeof(T);
        if (!type.IsDefined(typeof(KerasLayerAttribute), inherit: false))
        {
            throw new ArgumentException($"LayerRegistry: {type.Name} has no [KerasLayer(\"ClassName\")] attribute naming its Keras class; add one, or register a factory with Register(className, config => ...).", nameof(T));
        }

        Add(LayerClass.Of(type) ?? throw new ArgumentException($"LayerRegistry: {type.Name} has no static FromConfig(LayerConfig) method returning a {type.Name}; add one that reads the layer's config arguments (as Keras' from_config).", nameof(T)));
    }

    /// <summary>Removes a class registered with <see cref="Register(string, Func{LayerConfig, Layer})"/> or <see cref="Register{T}"/>.</summary>
    /// <param name="className">The class name.</param>
    /// <returns>Whether it was registered.</returns>
    public static bool Unregister(string className)
    {
        ArgumentNullException.ThrowIfNull(className);
        return Custom.TryRemove(className, out _);
    }

    /// <summary>Whether configs of <paramref name="className"/> can be loaded.</summary>
    /// <param name="className">The class name.</param>
    public static bool IsRegistered(string className)
    {
        ArgumentNullException.ThrowIfNull(className);
        return Find(className) is not null;
    }

    /// <summary>The registered class of that name (built-in first), or null.</summary>
    internal static LayerClass? Find(string className) => BuiltIn.Value.GetValueOrDefault(className) ?? Custom.GetValueOrDefault(className);

    private static void Add(LayerClass layerClass)
    {
        var className = layerClass.ClassName;
        if (BuiltIn.Value.ContainsKey(className))
        {
            throw new ArgumentException($"LayerRegistry: '{className}' is a built-in layer class and cannot be replaced.", nameof(className));
        }

        if (!Custom.TryAdd(className, layerClass))
        {
            throw new ArgumentException($"LayerRegistry: '{className}' is already registered; call Unregister first to replace it.", nameof(className));
        }
    }

    /// <summary>
    /// Builds a layer from its config: checks the common arguments, runs the factory, then refuses arguments the
    /// factory did not read.
    /// </summary>
    internal static Layer Create(LayerConfig config)
    {
        var className = config.ClassName;
        var layerClass = Find(className)
            ?? throw new FormatException(
                $"Unknown layer class '{className}' (layer '{config.Name}'): not one of this library's {BuiltIn.Value.Count} layer classes (LayerRegistry.ClassNames) nor registered. "
                + $"If it is a custom layer written in Python by the file's author, write its C# twin (a Layer subclass with [KerasLayer(\"{className}\")] and a static FromConfig(LayerConfig), as docs/saving.md's \"Custom layers\" shows) "
                + $"and register it before loading with LayerRegistry.Register<TLayer>(), or register a factory with LayerRegistry.Register(\"{className}\", config => ...).");
        var trainable = config.ReadBaseArguments(layerClass.OwnsDType);
        var activityRegularizer = config.GetRegularizer("activity_regularizer");
        Layer? built;
        try
        {
            built = layerClass.Factory(config);
        }
        catch (ArgumentException e) when (e is not LayerInputException)
        {
            // A size the layer's constructor refuses (negative, zero, spanning more than a tensor can) came from the
            // config: say which layer, as the config errors do.
            throw new FormatException($"{config.Describe()}: {e.Message}", e);
        }

        var layer = built ?? throw new InvalidOperationException($"LayerRegistry: the factory for '{className}' returned null for layer '{config.Name}'.");
        try
        {
            if (layer.Name != config.Name)
            {
                throw new InvalidOperationException($"LayerRegistry: the factory for '{className}' named the layer '{layer.Name}', but the config names it '{config.Name}'; pass config.Name to the layer.");
            }

            var unknown = config.UnreadKeys;
            if (unknown.Count > 0)
            {
                throw new FormatException(
                    $"{config.Describe()}: unknown config argument{(unknown.Count > 1 ? "s" : string.Empty)} {string.Join(", ", unknown.Select(k => $"'{k}'"))}; this library's {className} reads {string.Join(", ", config.ReadKeys.Order(StringComparer.Ordinal))}.");
            }

            layer.Trainable = trainable;
            if (activityRegularizer is not null)
            {
                // A layer whose constructor sets its own (ActivityRegularization) keeps it when the config has none.
                layer.ActivityRegularizer = activityRegularizer;
            }

            return layer;
        }
        catch
        {
            layer.Dispose();
            throw;
        }
    }
}

/// <summary>A registered layer class: its Keras name, its factory, and what its <see cref="KerasLayerAttribute"/> says.</summary>
internal sealed record LayerClass(string ClassName, Func<LayerConfig, Layer> Factory, bool OwnsDType, bool TakesIntegerIds, bool SharesNameWithOperation, TfKeras2Arguments TfKeras2)
{
    /// <summary>The class <paramref name="type"/> declares by its attribute and static <c>FromConfig</c>; null without a suitable <c>FromConfig</c>.</summary>
    public static LayerClass? Of(Type type)
    {
        var attribute = type.GetCustomAttribute<KerasLayerAttribute>()!;
        var fromConfig = type.GetMethod("FromConfig", BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly, new[] { typeof(LayerConfig) });
        if (fromConfig is null || !type.IsAssignableFrom(fromConfig.ReturnType))
        {
            return null;
        }

        return new LayerClass(attribute.ClassName, fromConfig.CreateDelegate<Func<LayerConfig, Layer>>(), attribute.OwnsDType, attribute.TakesIntegerIds, attribute.SharesNameWithOperation, TfKeras2Arguments.Of(type));
    }
}
