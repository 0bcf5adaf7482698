using System.Collections.Concurrent;
using KerasStyle.Layers;

namespace KerasStyle.Saving;

/// <summary>
/// Maps Keras layer class names (the <c>class_name</c> of a config entry) to factories that build a layer from its
/// <see cref="LayerConfig"/>, as Keras' <c>custom_objects</c> and <c>register_keras_serializable</c> do. The
/// library's layers are built in; add others with <see cref="Register"/>, e.g.
/// <c>LayerRegistry.Register("MyDense", config => new Dense(config.GetInt("units"), name: config.Name))</c>.
/// </summary>
public static class LayerRegistry
{
    private static readonly Dictionary<string, Func<LayerConfig, Layer>> BuiltIn = new(StringComparer.Ordinal)
    {
        ["InputLayer"] = InputLayer.FromConfig,
        ["Embedding"] = Embedding.FromConfig,
        ["Dropout"] = Dropout.FromConfig,
        ["Conv1D"] = Conv1D.FromConfig,
        ["MaxPooling1D"] = MaxPooling1D.FromConfig,
        ["LSTM"] = LSTM.FromConfig,
        ["Dense"] = Dense.FromConfig,
        ["Activation"] = Activation.FromConfig,
        ["Concatenate"] = Concatenate.FromConfig,
        ["Add"] = Add.FromConfig,
        ["Subtract"] = Subtract.FromConfig,
        ["Multiply"] = Multiply.FromConfig,
        ["Average"] = Average.FromConfig,
        ["Maximum"] = Maximum.FromConfig,
        ["Minimum"] = Minimum.FromConfig,
        ["Dot"] = Dot.FromConfig,
        ["Masking"] = Masking.FromConfig,
        ["Flatten"] = Flatten.FromConfig,
        ["Reshape"] = Reshape.FromConfig,
        ["Permute"] = Permute.FromConfig,
        ["RepeatVector"] = RepeatVector.FromConfig,
        ["ZeroPadding1D"] = ZeroPadding1D.FromConfig,
        ["Cropping1D"] = Cropping1D.FromConfig,
        ["UpSampling1D"] = UpSampling1D.FromConfig,
        ["GlobalMaxPooling1D"] = GlobalMaxPooling1D.FromConfig,
        ["GlobalAveragePooling1D"] = GlobalAveragePooling1D.FromConfig,
        ["AveragePooling1D"] = AveragePooling1D.FromConfig,
        ["GaussianNoise"] = GaussianNoise.FromConfig,
        ["SpatialDropout1D"] = SpatialDropout1D.FromConfig,
        ["LayerNormalization"] = LayerNormalization.FromConfig,
        ["BatchNormalization"] = BatchNormalization.FromConfig,
        ["Conv2D"] = Conv2D.FromConfig,
        ["MaxPooling2D"] = MaxPooling2D.FromConfig,
        ["AveragePooling2D"] = AveragePooling2D.FromConfig,
        ["GlobalMaxPooling2D"] = GlobalMaxPooling2D.FromConfig,
        ["GlobalAveragePooling2D"] = GlobalAveragePooling2D.FromConfig,
        ["SeparableConv1D"] = SeparableConv1D.FromConfig,
        ["SimpleRNN"] = SimpleRNN.FromConfig,
        ["GRU"] = GRU.FromConfig,
        ["RNN"] = RNN.FromConfig,
        ["LSTMCell"] = LSTMCell.FromConfig,
        ["GRUCell"] = GRUCell.FromConfig,
        ["SimpleRNNCell"] = SimpleRNNCell.FromConfig,
        ["StackedRNNCells"] = StackedRNNCells.FromConfig,
        ["TimeDistributed"] = TimeDistributed.FromConfig,
        ["Bidirectional"] = Bidirectional.FromConfig,
    };

    private static readonly ConcurrentDictionary<string, Func<LayerConfig, Layer>> Custom = new(StringComparer.Ordinal);

    /// <summary>Every class name that can be loaded: the built-in ones, then the registered ones, alphabetically.</summary>
    public static IReadOnlyList<string> ClassNames =>
        BuiltIn.Keys.Order(StringComparer.Ordinal).Concat(Custom.Keys.Order(StringComparer.Ordinal)).ToArray();

    /// <summary>
    /// Registers a factory for a layer class. The factory must read every config argument it supports through the
    /// <see cref="LayerConfig"/> getters (unread ones are reported as unknown) and give the layer
    /// <see cref="LayerConfig.Name"/>. The layer's <see cref="Layer.ClassName"/> should be
    /// <paramref name="className"/> so that saved files name it again.
    /// </summary>
    /// <param name="className">The Keras class name, e.g. <c>MyLayer</c>.</param>
    /// <param name="factory">Builds the layer from its config.</param>
    public static void Register(string className, Func<LayerConfig, Layer> factory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(className);
        ArgumentNullException.ThrowIfNull(factory);
        if (BuiltIn.ContainsKey(className))
        {
            throw new ArgumentException($"LayerRegistry: '{className}' is a built-in layer class and cannot be replaced.", nameof(className));
        }

        if (!Custom.TryAdd(className, factory))
        {
            throw new ArgumentException($"LayerRegistry: '{className}' is already registered; call Unregister first to replace it.", nameof(className));
        }
    }

    /// <summary>Removes a class registered with <see cref="Register"/>.</summary>
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
        return BuiltIn.ContainsKey(className) || Custom.ContainsKey(className);
    }

    /// <summary>Whether the class is one of the library's own layers.</summary>
    internal static bool IsBuiltIn(string className) => BuiltIn.ContainsKey(className);

    /// <summary>
    /// Builds a layer from its config: checks the common arguments, runs the factory, then refuses arguments the
    /// factory did not read.
    /// </summary>
    internal static Layer Create(LayerConfig config)
    {
        var className = config.ClassName;
        var factory = BuiltIn.GetValueOrDefault(className) ?? Custom.GetValueOrDefault(className)
            ?? throw new FormatException($"Unknown layer class '{className}' (layer '{config.Name}'); the known classes are {string.Join(", ", ClassNames)}. Register other classes with LayerRegistry.Register(\"{className}\", config => ...).");
        var trainable = config.ReadBaseArguments(ownsDtype: className == "InputLayer");
        Layer? built;
        try
        {
            built = factory(config);
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
            return layer;
        }
        catch
        {
            layer.Dispose();
            throw;
        }
    }
}
