using System.Text;
using KerasStyle.Layers;
using KerasStyle.Training.Optimizers;
using PureHDF;
using PureHDF.VOL.Native;

namespace KerasStyle.Saving;

/// <summary>One layer's weights in a Keras 2 HDF5 file, in the order of its <c>weight_names</c>.</summary>
/// <param name="Name">The layer name.</param>
/// <param name="Weights">The stored values.</param>
internal sealed record StoredLayer(string Name, IReadOnlyList<H5Array> Weights);

/// <summary>
/// The Keras 2 HDF5 weights layout (<c>model.save_weights('w.h5')</c> in Keras 2.x and tf.keras 2): the root
/// attribute <c>layer_names</c> (byte strings, model order), one group per layer with the attribute
/// <c>weight_names</c> (e.g. <c>lstm_1/kernel:0</c>) and float32 datasets at those paths inside the group. Full-model
/// files (<c>model.save('m.h5')</c>) hold the same under <c>/model_weights</c>, plus the root attribute
/// <c>model_config</c>.
/// </summary>
internal static class Keras2WeightsH5
{
    /// <summary>The Keras version written to <c>keras_version</c>; any 2.x value makes Keras 2 read the layouts as they are.</summary>
    private const string KerasVersion = "2.1.6";

    /// <summary>Writes the weights of <paramref name="layers"/> (model order) atomically.</summary>
    public static void Save(string path, IReadOnlyList<Layer> layers)
    {
        CheckLayerNames(layers, path);
        AtomicFile.Write(path, stream => Write(stream, layers));
    }

    /// <summary>Whether an open file has the Keras 2 layout.</summary>
    public static bool Matches(NativeFile file, string path) => HdfReader.Guard(path, "the root group", () =>
        file.AttributeExists("layer_names") || file.AttributeExists("layer_names0") || file.LinkExists("model_weights"));

    /// <summary>Reads every layer's stored weights, from the root or from <c>/model_weights</c>.</summary>
    public static List<StoredLayer> Read(NativeFile file, string path)
    {
        var root = HdfReader.Guard<IH5Group>(path, "the root group", () =>
            file.AttributeExists("layer_names") || file.AttributeExists("layer_names0") || !file.LinkExists("model_weights") ? file : file.Group("model_weights"));
        var where = ReferenceEquals(root, file) ? "the root group" : "/model_weights";
        var layerNames = HdfReader.ReadStrings(root, "layer_names", path, where)
            ?? throw new KerasFileException(path, $"{where} has no 'layer_names' attribute, so this is not a Keras 2 weights file.");
        var result = new List<StoredLayer>();
        foreach (var name in layerNames)
        {
            var group = HdfReader.Guard(path, $"group '{name}'", () => root.LinkExists(name) ? root.Group(name) : null)
                ?? throw new KerasFileException(path, $"'layer_names' lists '{name}', but there is no group of that name.") { Layer = name };
            var weightNames = HdfReader.ReadStrings(group, "weight_names", path, $"group '{name}'") ?? Array.Empty<string>();
            var values = weightNames.Select(weight =>
            {
                var dataset = HdfReader.Guard(path, $"'{name}/{weight}'", () => group.LinkExists(weight) ? group.Dataset(weight) : null)
                    ?? throw new KerasFileException(path, $"layer '{name}' lists weight '{weight}', but there is no dataset '{name}/{weight}'.") { Layer = name, Weight = weight };
                return HdfReader.ReadDataset(dataset, $"{name}/{weight}", path);
            }).ToList();
            result.Add(new StoredLayer(name, values));
        }

        return result;
    }

    /// <summary>
    /// Plans the load: by position over the layers that have weights (the counts must match), or by layer name
    /// (layers missing on either side are left alone), as Keras 2's <c>load_weights(by_name=...)</c>.
    /// </summary>
    public static void Plan(WeightsLoadPlan plan, IReadOnlyList<Layer> layers, IReadOnlyList<StoredLayer> stored, bool byName)
    {
        var fileLayers = stored.Where(s => s.Weights.Count > 0).ToList();
        if (byName)
        {
            var modelLayers = layers.ToDictionary(l => l.Name, StringComparer.Ordinal);
            foreach (var fileLayer in fileLayers)
            {
                if (modelLayers.TryGetValue(fileLayer.Name, out var layer))
                {
                    plan.Add(layer, fileLayer.Name, ConvertRnnWeights(layer, fileLayer.Weights, plan.Path));
                }
            }

            return;
        }

        var withWeights = layers.Where(l => l.Weights.Count > 0).ToList();
        if (withWeights.Count != fileLayers.Count)
        {
            throw new KerasFileException(plan.Path,
                $"the file stores weights for {fileLayers.Count} layers ({string.Join(", ", fileLayers.Select(l => l.Name))}), but the model has {withWeights.Count} layers with weights ({string.Join(", ", withWeights.Select(l => l.Name))}); loading by position needs the same layers (or pass byName: true).");
        }

        for (var i = 0; i < withWeights.Count; i++)
        {
            plan.Add(withWeights[i], fileLayers[i].Name, ConvertRnnWeights(withWeights[i], fileLayers[i].Weights, plan.Path));
        }
    }

    /// <summary>
    /// Keras 2's <c>preprocess_weights_for_loading</c> for recurrent layers (<c>_convert_rnn_weights</c>): CuDNNLSTM
    /// and CuDNNGRU weights stored for a layer of class LSTM or GRU (also inside a Bidirectional) are converted to
    /// that layer's layout; the conversions live in <see cref="CuDNNLSTM"/> and <see cref="CuDNNGRU"/>.
    /// </summary>
    internal static IReadOnlyList<H5Array> ConvertRnnWeights(Layer layer, IReadOnlyList<H5Array> stored, string path) => layer switch
    {
        LSTM or CuDNNLSTM => CuDNNLSTM.ConvertKeras2Weights(stored),
        GRU or CuDNNGRU => CuDNNGRU.ConvertKeras2Weights(layer, stored, path),
        Bidirectional { ForwardLayer.Weights.Count: var n } bidirectional when n > 0 && stored.Count == 2 * n =>
            ConvertRnnWeights(bidirectional.ForwardLayer, stored.Take(n).ToList(), path).Concat(ConvertRnnWeights(bidirectional.BackwardLayer, stored.Skip(n).ToList(), path)).ToList(),
        _ => stored,
    };

    /// <summary>
    /// The <c>optimizer_weights</c> of a full-model file, keyed as the Keras 3 weights layout keys optimizer
    /// variables (<c>optimizer/vars/0</c>: iterations, <c>1</c>: learning rate, then each weight's slots), so that
    /// one reader checks every form. A file Keras 3 wrote lists them in that order; a tf.keras 2 file is matched by
    /// name (<see cref="TfKeras2OptimizerWeights"/>). Null when the file has none, or (with a warning) when its
    /// variables do not fit the optimizer and model.
    /// </summary>
    public static Dictionary<string, H5Array>? ReadOptimizerWeights(NativeFile file, string path, Optimizer optimizer, IReadOnlyList<LayerWeight> trainable,
        IReadOnlyDictionary<LayerWeight, string> fileNames)
    {
        if (!HdfReader.Guard(path, "the root group", () => file.LinkExists("optimizer_weights")))
        {
            return null;
        }

        var group = HdfReader.Guard(path, "group 'optimizer_weights'", () => file.Group("optimizer_weights"));
        var version = HdfReader.ReadString(file, "keras_version", path) ?? string.Empty;
        if (!version.StartsWith("3.", StringComparison.Ordinal))
        {
            return TfKeras2OptimizerWeights.Read(group, path, optimizer, trainable, fileNames);
        }

        var names = HdfReader.ReadStrings(group, "weight_names", path, "group 'optimizer_weights'") ?? Array.Empty<string>();
        var result = new Dictionary<string, H5Array>(StringComparer.Ordinal);
        for (var i = 0; i < names.Length; i++)
        {
            var name = names[i];
            var dataset = HdfReader.Guard(path, $"'optimizer_weights/{name}'", () => group.LinkExists(name) ? group.Dataset(name) : null)
                ?? throw new KerasFileException(path, $"'optimizer_weights' lists '{name}', but there is no dataset of that name.");
            result[$"optimizer/vars/{i.ToString(System.Globalization.CultureInfo.InvariantCulture)}"] = HdfReader.ReadDataset(dataset, $"optimizer_weights/{name}", path);
        }

        return result;
    }

    /// <summary>The <c>model_config</c> and <c>training_config</c> root attributes of a Keras 2 full-model file.</summary>
    public static (string? ModelConfig, string? TrainingConfig) ReadConfigs(NativeFile file, string path) =>
        (HdfReader.ReadString(file, "model_config", path), HdfReader.ReadString(file, "training_config", path));

    /// <summary>
    /// Refuses layer names Keras 2 cannot save either: a name is an HDF5 path ('block1/dense' is group 'dense' inside
    /// group 'block1'), so one layer's name may not be a path prefix of another's, nor have empty segments.
    /// </summary>
    public static void CheckLayerNames(IReadOnlyList<Layer> layers, string path)
    {
        foreach (var layer in layers.Where(l => l.Name.Split('/').Any(part => part.Length == 0 || part == "." || part == "..")))
        {
            throw new ArgumentException($"SaveWeights: '{path}': layer name '{layer.Name}' is not a valid HDF5 path (an empty, '.' or '..' segment); rename the layer.", nameof(layers));
        }

        foreach (var layer in layers)
        {
            var clash = layers.FirstOrDefault(other => other.Name.StartsWith(layer.Name + "/", StringComparison.Ordinal));
            if (clash is not null)
            {
                throw new ArgumentException($"SaveWeights: '{path}': layers '{layer.Name}' and '{clash.Name}' would share the HDF5 group '{layer.Name}' (a '/' in a layer name makes nested groups); Keras 2 refuses to save them too. Rename one of them.", nameof(layers));
            }
        }
    }

    private static void Write(Stream stream, IReadOnlyList<Layer> layers)
    {
        var file = new H5File();
        var strings = new List<string> { "tensorflow", KerasVersion };
        strings.AddRange(AddWeights(file, layers, KerasVersion));
        // Keras 2 stores these as numpy byte strings ('S' arrays); fixed-length strings are what PureHDF writes for them.
        var length = Math.Max(1, strings.Max(s => Encoding.UTF8.GetByteCount(s)));
        file.Write(stream, new H5WriteOptions(DefaultStringLength: length));
    }

    /// <summary>
    /// Writes a full-model file as <c>model.save("m.h5")</c> does in Keras 3.16 or tf.keras 2.11: root attributes
    /// <c>model_config</c> (<c>{"class_name", "config"}</c>), <c>training_config</c> when compiled,
    /// <c>keras_version</c> and <c>backend</c>; the weights layout under <c>/model_weights</c>; the optimizer's
    /// variables under <c>/optimizer_weights</c> when there are any; all strings variable-length as h5py writes them.
    /// </summary>
    public static void SaveFullModel(string path, IReadOnlyList<Layer> layers, string modelConfig, string? trainingConfig, string kerasVersion,
        Func<H5Group?> optimizerWeights)
    {
        CheckLayerNames(layers, path);
        AtomicFile.Write(path, stream =>
        {
            var file = new H5File();
            var weights = new H5Group();
            AddWeights(weights, layers, kerasVersion);
            file["model_weights"] = weights;
            file.Attributes["model_config"] = modelConfig;
            if (trainingConfig is not null)
            {
                file.Attributes["training_config"] = trainingConfig;
            }

            file.Attributes["keras_version"] = kerasVersion;
            file.Attributes["backend"] = "tensorflow";
            if (optimizerWeights() is { } group)
            {
                file["optimizer_weights"] = group;
            }

            file.Write(stream);
        });
    }

    /// <summary>
    /// The optimizer's variables as Keras 3.16 writes them into a full-model <c>.h5</c>, or null when it has none to
    /// restore: like Keras, nothing before the first step; after it, at least the step count and learning rate
    /// (SGD without momentum has no slots).
    /// </summary>
    public static H5Group? Keras3OptimizerWeights(OptimizerState? state, IReadOnlyList<LayerWeight> trainable, string optimizerName) =>
        state is not null && (state.Slots is not null || state.Iterations > 0) ? OptimizerWeights(state, trainable, optimizerName) : null;

    /// <summary>
    /// Each trainable weight's name in a Keras 2 weights layout (e.g. <c>dense/kernel</c>, without <c>:0</c>), paired
    /// as <see cref="Plan"/> pairs them by position (which has checked that the layer counts agree).
    /// </summary>
    public static Dictionary<LayerWeight, string> FileNames(IReadOnlyList<Layer> layers, IReadOnlyList<StoredLayer> stored)
    {
        var result = new Dictionary<LayerWeight, string>();
        foreach (var (layer, fileLayer) in layers.Where(l => l.Weights.Count > 0).Zip(stored.Where(s => s.Weights.Count > 0)))
        {
            foreach (var (weight, value) in layer.Weights.Zip(fileLayer.Weights))
            {
                var name = value.Path[(fileLayer.Name.Length + 1)..];
                result[weight] = name.EndsWith(":0", StringComparison.Ordinal) ? name[..^2] : name;
            }
        }

        return result;
    }

    /// <summary>One group per layer with its weight_names and datasets, and the root's layer_names; returns the strings written.</summary>
    private static IEnumerable<string> AddWeights(H5Group root, IReadOnlyList<Layer> layers, string kerasVersion)
    {
        var strings = new List<string>();
        foreach (var layer in layers)
        {
            var names = layer.Weights.Select(w => w.FullName).ToArray();
            strings.AddRange(names);
            var group = Nested(root, layer.Name);
            group.Attributes["weight_names"] = names;
            var values = layer.GetWeights();
            for (var i = 0; i < names.Length; i++)
            {
                // 'lstm_1/kernel:0' is a path: group 'lstm_1', dataset 'kernel:0'.
                var parts = names[i].Split('/');
                Nested(group, string.Join('/', parts[..^1]))[parts[^1]] = Dataset(values[i]);
            }
        }

        var layerNames = layers.Select(l => l.Name).ToArray();
        strings.AddRange(layerNames);
        root.Attributes["layer_names"] = layerNames;
        root.Attributes["backend"] = "tensorflow";
        root.Attributes["keras_version"] = kerasVersion;
        return strings;
    }

    /// <summary>The optimizer's variables in Keras 3's order, named as Keras 3 names them.</summary>
    private static H5Group OptimizerWeights(OptimizerState state, IReadOnlyList<LayerWeight> trainable, string optimizerName)
    {
        var group = new H5Group();
        var names = new List<string> { $"{optimizerName}/iteration" };
        var inner = new H5Group { ["iteration"] = state.Iterations };
        if (!state.Scheduled)
        {
            // With a learning-rate schedule Keras keeps no learning_rate variable.
            names.Add($"{optimizerName}/learning_rate");
            inner["learning_rate"] = (float)state.LearningRate;
        }

        for (var w = 0; w < trainable.Count && state.Slots is not null; w++)
        {
            for (var s = 0; s < state.Slots[w].Length; s++)
            {
                var name = $"{trainable[w].ScopedLayerName.Replace('/', '_')}_{trainable[w].Name}_{s}";
                names.Add($"{optimizerName}/{name}");
                inner[name] = Dataset(state.Slots[w][s]);
            }
        }

        group[optimizerName] = inner;
        group.Attributes["weight_names"] = names.ToArray();
        return group;
    }

    /// <summary>The group at a '/'-separated path below <paramref name="parent"/>, created as needed (as h5py does).</summary>
    internal static H5Group Nested(H5Group parent, string path)
    {
        foreach (var part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!parent.TryGetValue(part, out var child))
            {
                child = new H5Group();
                parent[part] = child;
            }

            parent = (H5Group)child;
        }

        return parent;
    }

    /// <summary>A float32 dataset with the weight's Keras shape.</summary>
    internal static H5Dataset Dataset(WeightArray value) => value.Integer
        ? new(value.Data.Select(v => (int)v).ToArray(), fileDims: value.Shape.Select(d => (ulong)d).ToArray())
        : new(value.Data, fileDims: value.Shape.Select(d => (ulong)d).ToArray());
}
