using System.Text.Json;
using System.Text.Json.Nodes;
using KerasStyle.Layers;
using KerasStyle.Saving;
using KerasStyle.Training;
using KerasStyle.Training.Losses;
using KerasStyle.Training.Optimizers;

namespace KerasStyle.Models;

/// <summary>
/// Saving and loading in Keras' formats: whole models as Keras 3 <c>.keras</c> files (<see cref="Save"/>,
/// <see cref="Load"/>), weights as Keras 3 <c>.weights.h5</c> or Keras 2 <c>.h5</c> files (<c>SaveWeights</c>,
/// <c>LoadWeights</c>), and architectures as Keras JSON (<see cref="ToJson"/>, <see cref="FromJson"/>). See
/// docs/saving.md.
/// </summary>
public partial class Model
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>
    /// Saves the whole model to a Keras 3 <c>.keras</c> file, as Keras' <c>model.save("m.keras")</c>: the config, the
    /// compile config, the weights and the optimizer state (so <c>Fit</c> after <see cref="Load"/> continues where it
    /// stopped). The file is written to a temporary file beside it and renamed over <paramref name="path"/> only when
    /// complete, so a failed save leaves any previous file intact.
    /// </summary>
    /// <param name="path">The file: <c>.keras</c>, or <c>.h5</c> / <c>.hdf5</c> for the legacy HDF5 full-model file
    /// (config, training config, weights under <c>/model_weights</c>, optimizer state under
    /// <c>/optimizer_weights</c>).</param>
    /// <param name="h5Format">For <c>.h5</c>: which Keras writes the file, Keras 3.16 (default) or tf.keras 2.11 (see
    /// <see cref="H5Format"/>).</param>
    /// <exception cref="ArgumentException">Another extension, or <see cref="H5Format.TfKeras2"/> with <c>.keras</c>.</exception>
    /// <exception cref="NotSupportedException">With <see cref="H5Format.TfKeras2"/>: a layer argument tf.keras 2 has
    /// no equivalent for (named with its value); an optimizer tf.keras 2 does not have (a user's own class) or an
    /// optimizer argument it has not or computes otherwise (<c>loss_scale_factor</c>, <c>gradient_accumulation_steps</c>,
    /// <c>use_ema</c>; named with its value).</exception>
    /// <remarks>Under a <see cref="Distributed.DataParallel"/> distribution, call it on every rank: rank 0 alone writes the
    /// file, then every rank waits for the others (one <c>MPI_Allreduce</c> of rank 0's outcome, a barrier); when rank 0's
    /// write failed, rank 0 throws its exception and the other ranks an <see cref="IOException"/>. Called inside a
    /// distributed <c>Fit</c> or <c>Evaluate</c> (by a callback, which may run on rank 0 only), rank 0 writes and the other
    /// ranks return without writing or waiting (docs/scaling.md).</remarks>
    public void Save(string path, H5Format h5Format = H5Format.Keras3) =>
        Distributed.RankZeroFiles.Write(this, nameof(Save), path, () => SaveHere(path, h5Format));

    private void SaveHere(string path, H5Format h5Format)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ThrowIfDisposed();
        using var exclusive = EnterTraining(nameof(Save));
        // The file holds one state of the weights, even while a model sharing them trains on another thread.
        using var weights = ReadWeights();
        var extension = Path.GetExtension(path).ToLowerInvariant();
        if (extension is not (".keras" or ".h5" or ".hdf5"))
        {
            throw new ArgumentException($"Save: '{path}' must end in .keras (the Keras 3 model format) or .h5 (the legacy HDF5 model format); use SaveWeights for .weights.h5 or .h5 weights files.", nameof(path));
        }

        if (!Enum.IsDefined(h5Format) || (extension == ".keras" && h5Format != H5Format.Keras3))
        {
            throw new ArgumentException($"Save: '{path}': h5Format {h5Format} applies to .h5 files only; a .keras file is always Keras 3's format.", nameof(h5Format));
        }

        _ = Topology;
        if (extension == ".keras")
        {
            // A text layer's learned vocabulary goes to assets/, as Keras' save_assets (Saving/VocabularyAssets).
            var assets = VocabularyAssets.Collect(this);
            KerasArchive.Write(path, () => ToJson(), stream => Keras3WeightsH5.Write(stream, Layers, ExportOptimizerState()), assets);
            return;
        }

        VocabularyAssets.RefuseLegacyH5(this, path);
        var root = JsonNode.Parse(ToJson(), documentOptions: ModelConfig.JsonOptions)!.AsObject();
        if (h5Format == H5Format.TfKeras2)
        {
            var modelConfig = TfKeras2Config.Model(root);
            // Refused (named) before anything is written: an optimizer tf.keras 2 has not.
            _ = Optimizer is null ? null : TfKeras2OptimizerWeights.OptimizerClass(Optimizer);
            var trainingConfig = CompileConfigJson() is { } compile
                ? TfKeras2Config.Training(compile, Optimizer is RMSprop { Keras2Update: true } or Adagrad { Keras2Update: true }, Optimizer!.NameGiven ? Optimizer.Name : null).ToJsonString() : null;
            Keras2WeightsH5.SaveFullModel(path, Layers, modelConfig.ToJsonString(), trainingConfig, TfKeras2Config.KerasVersion,
                () => Optimizer is null ? null : TfKeras2OptimizerWeights.Write(ExportOptimizerState(), Optimizer, TrainableWeights));
            return;
        }

        var legacyConfig = new JsonObject { ["class_name"] = root["class_name"]!.DeepClone(), ["config"] = root["config"]!.DeepClone() };
        Keras2WeightsH5.SaveFullModel(path, Layers, legacyConfig.ToJsonString(), LegacyTrainingConfig()?.ToJsonString(), "3.16.0",
            () => Keras2WeightsH5.Keras3OptimizerWeights(ExportOptimizerState(), TrainableWeights, Optimizer?.Name ?? "optimizer"));
    }

    /// <summary>The compile config in the legacy <c>training_config</c> form Keras 3.16 writes into .h5 files.</summary>
    private JsonObject? LegacyTrainingConfig()
    {
        if (CompileConfigJson() is not { } compile)
        {
            return null;
        }

        var optimizer = compile["optimizer"]!;
        return new JsonObject
        {
            ["loss"] = compile["loss"]?.DeepClone(),
            ["loss_weights"] = null,
            ["metrics"] = compile["metrics"]?.DeepClone(),
            ["weighted_metrics"] = compile["weighted_metrics"]?.DeepClone(),
            ["run_eagerly"] = false,
            ["steps_per_execution"] = 1,
            ["jit_compile"] = false,
            ["optimizer_config"] = new JsonObject { ["class_name"] = optimizer["class_name"]!.DeepClone(), ["config"] = optimizer["config"]!.DeepClone() },
        };
    }

    /// <summary>
    /// Loads a model saved as a Keras 3 <c>.keras</c> file (by <see cref="Save"/> or by Keras 3), or a Keras 2
    /// full-model <c>.h5</c> file (<c>model.save('m.h5')</c>), as Keras' <c>load_model</c>. The model comes back
    /// compiled, with its optimizer state, when the file records a compile config. A truncated, corrupted or
    /// non-Keras file, an invalid config or weights that do not fit throw a <see cref="KerasFileException"/> naming
    /// the file (and the layer, weight and shapes where it applies).
    /// </summary>
    /// <param name="path">A <c>.keras</c>, <c>.h5</c> or <c>.hdf5</c> file.</param>
    /// <param name="compile">False to ignore the compile config, as Keras' <c>compile=False</c>.</param>
    /// <param name="vocabularies">Text layers' vocabularies the file lacks, by layer name (default none): a legacy
    /// <c>.h5</c> of an adapted TextVectorization, StringLookup or IntegerLookup declares its vocabulary's size but
    /// cannot hold it, and is refused without it. Give the terms the layer had when saved (Keras'
    /// <c>get_vocabulary()</c>; string[], or long[] / int[] for IntegerLookup), as a Keras user calls
    /// <c>set_vocabulary</c> after <c>load_model</c>; they must make the declared number of ids.</param>
    /// <returns>The model (a <see cref="Sequential"/> for Sequential configs).</returns>
    /// <exception cref="ArgumentException">A vocabulary for a layer that is not a text layer of the model, whose file
    /// holds its vocabulary, of the wrong element type, or of another size than the file declares.</exception>
    public static Model Load(string path, bool compile = true, IReadOnlyDictionary<string, Array>? vocabularies = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        VocabularyAssets.CheckGiven(vocabularies);
        RefuseDirectory(path, "Load");
        var extension = Path.GetExtension(path).ToLowerInvariant();
        if (extension is not (".keras" or ".h5" or ".hdf5"))
        {
            throw new ArgumentException($"Load: '{path}' must be a .keras file, or a Keras 2 full-model .h5 file.", nameof(path));
        }

        // The content decides, not the name: users rename files (model.save("m.keras") in tf.keras 2 wrote HDF5).
        var content = File.Exists(path) ? KerasArchive.Sniff(path) : KerasArchive.Content.Unknown;
        if (extension == ".keras" && content == KerasArchive.Content.Hdf5)
        {
            Warnings.Warn($"'{path}' is named .keras but is an HDF5 file (a Keras 2 / legacy .h5 full-model file), not a .keras zip archive; loading it as HDF5 (Keras 3 refuses it).");
            return LoadKeras2(path, compile, vocabularies);
        }

        if (extension != ".keras" && content == KerasArchive.Content.Zip)
        {
            Warnings.Warn($"'{path}' is named {extension} but is a zip archive (a Keras 3 .keras file), not an HDF5 file; loading it as .keras.");
            return LoadKeras(path, compile, vocabularies);
        }

        return extension == ".keras" ? LoadKeras(path, compile, vocabularies) : LoadKeras2(path, compile, vocabularies);
    }

    /// <summary>
    /// The model's Keras 3 config as JSON, as Keras' <c>model.to_json()</c>: <c>{"module": "keras", "class_name":
    /// "Functional", "config": {"name": ..., "layers": [...], "input_layers": ..., "output_layers": ...}}</c>, with
    /// <c>compile_config</c> when the model is compiled. Weights are not included.
    /// </summary>
    /// <param name="indented">Whether to indent the JSON.</param>
    public string ToJson(bool indented = false)
    {
        ThrowIfDisposed();
        var config = ModelConfig.Serialize(this, Topology.Nodes, CompileConfigJson());
        return indented ? config.ToJsonString(Indented) : config.ToJsonString();
    }

    /// <summary>
    /// Builds a model from a Keras JSON config, as Keras' <c>model_from_json</c>: the Keras 3 form (as
    /// <see cref="ToJson"/> writes) or the Keras 2 / tf.keras 2 form (<c>class_name</c> <c>Model</c>,
    /// <c>batch_input_shape</c>, <c>inbound_nodes: [[["dropout_1", 0, 0, {}]]]</c>). Weights are freshly
    /// initialised; a <c>compile_config</c> compiles the model. Unknown layer classes (see
    /// <see cref="LayerRegistry"/>) and unknown arguments throw a <see cref="FormatException"/> naming them; Keras
    /// features this library lacks throw a <see cref="NotSupportedException"/>.
    /// </summary>
    /// <param name="json">The JSON text.</param>
    public static Model FromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        var root = ParseJson(json, "FromJson");
        var keras2 = ModelConfig.WrittenByKeras2(root, null);
        var model = Build(root, compile: true, keras2, "FromJson: ");
        model.SetSource(root is JsonObject top && top["keras_version"] is JsonValue v && v.TryGetValue<string>(out var version) ? version : null, keras2);
        return model;
    }

    /// <summary>
    /// The <c>keras_version</c> recorded in the file or JSON this model was loaded from (<see cref="Load"/>,
    /// <see cref="FromJson"/>): metadata.json's of a <c>.keras</c> archive, the <c>keras_version</c> attribute of an
    /// HDF5 full-model file, the top-level key of that name in Keras 2's <c>to_json()</c>. Null for models built in
    /// code, and for files and JSON that record no version (Keras 3's <c>to_json()</c> does not).
    /// </summary>
    public string? KerasVersion { get; private set; }

    /// <summary>
    /// Whether the model computes as Keras 2 / tf.keras 2 computed it, because its config was written by that Keras
    /// (by <see cref="KerasVersion"/> when recorded, else by the config's form: Keras 3 writes a top-level
    /// <c>module</c>, Keras 2 never). False for models built in code, which compute as Keras 3.16. Where the two
    /// Keras differ and what this changes: docs/saving.md, "Keras version rule".
    /// </summary>
    public bool ComputesAsKeras2 { get; private set; }

    private void SetSource(string? kerasVersion, bool keras2)
    {
        KerasVersion = kerasVersion;
        ComputesAsKeras2 = keras2;
    }

    /// <summary>Writes the weights, by the file name: <c>.weights.h5</c> in the Keras 3 layout, <c>.h5</c> in the Keras 2 one.</summary>
    private void SaveWeightsTo(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        _ = Topology;
        if (path.EndsWith(".weights.h5", StringComparison.OrdinalIgnoreCase))
        {
            Keras3WeightsH5.Save(path, Layers, ExportOptimizerState);
            return;
        }

        switch (Path.GetExtension(path).ToLowerInvariant())
        {
            case ".h5" or ".hdf5":
                Keras2WeightsH5.Save(path, Layers);
                return;
            case ".keras":
                throw new ArgumentException($"SaveWeights: '{path}' is a .keras file, which holds a whole model; use Save.", nameof(path));
            default:
                throw new ArgumentException($"SaveWeights: '{path}' must end in .weights.h5 (Keras 3 layout) or .h5 (Keras 2 layout).", nameof(path));
        }
    }

    /// <summary>Reads weights from any of the supported files, choosing the layout by the file's content.</summary>
    private void LoadWeightsFrom(string path, bool byName, bool skipMismatch)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        RefuseDirectory(path, "LoadWeights");
        _ = Topology;
        var extension = Path.GetExtension(path).ToLowerInvariant();
        if (extension == ".keras")
        {
            RefuseByName(byName, path);
            using var archive = KerasArchive.OpenRead(path);
            // With skipMismatch the file may hold larger layers than this model: bound it by memory instead.
            using var archived = HdfReader.Open(archive.ReadWeights(skipMismatch ? GC.GetGCMemoryInfo().TotalAvailableMemoryBytes : WeightsBudget()), path);
            LoadKeras3State(Keras3WeightsH5.Read(archived, path), path, skipMismatch);
            return;
        }

        if (extension is not (".h5" or ".hdf5"))
        {
            throw new ArgumentException($"LoadWeights: '{path}' must be a .weights.h5, .h5 or .keras file.", nameof(path));
        }

        using var file = HdfReader.Open(path);
        if (Keras2WeightsH5.Matches(file, path))
        {
            var plan = new WeightsLoadPlan(path, skipMismatch);
            Keras2WeightsH5.Plan(plan, Layers, Keras2WeightsH5.Read(file, path), byName);
            plan.Apply();
            return;
        }

        if (!Keras3WeightsH5.Matches(file, path))
        {
            throw new KerasFileException(path, "an HDF5 file, but not a Keras weights file: it has neither the Keras 2 'layer_names' attribute nor the Keras 3 'layers' group.");
        }

        RefuseByName(byName, path);
        LoadKeras3State(Keras3WeightsH5.Read(file, path), path, skipMismatch);
    }

    private static void RefuseByName(bool byName, string path)
    {
        if (byName)
        {
            throw new ArgumentException($"LoadWeights: '{path}' has the Keras 3 layout, which addresses layers by position; byName works with Keras 2 .h5 files only (as in Keras).", nameof(byName));
        }
    }

    /// <summary>Checks the weights and optimizer state of a Keras 3 file against the model, then assigns both.</summary>
    private void LoadKeras3State(IReadOnlyDictionary<string, H5Array> datasets, string path, bool skipMismatch)
    {
        var plan = new WeightsLoadPlan(path, skipMismatch);
        Keras3WeightsH5.Plan(plan, Layers, datasets);
        var trainable = TrainableWeights;
        var state = Optimizer is null ? null : Keras3WeightsH5.ReadOptimizer(datasets, Optimizer, trainable, path);
        plan.Apply();
        if (state is not null)
        {
            Optimizer!.ImportState(trainable, state);
        }
    }

    private static Model LoadKeras(string path, bool compile, IReadOnlyDictionary<string, Array>? vocabularies)
    {
        using var archive = KerasArchive.OpenRead(path);
        var config = archive.ReadConfig();
        var kerasVersion = archive.ReadKerasVersion();
        // tf.keras 2.13 to 2.15 wrote .keras archives too: their layers compute as tf.keras 2 (docs/saving.md, "Keras version rule").
        var keras2 = kerasVersion is not null && ModelConfig.WrittenByKeras2(config, kerasVersion);
        var model = Rebuild(path, () => Build(config, compile, keras2, $"'{path}': "));
        model.SetSource(kerasVersion, keras2);
        try
        {
            // The weights entry is bounded by what the model just built from the config can hold.
            using var file = HdfReader.Open(archive.ReadWeights(model.WeightsBudget()), path);
            model.LoadKeras3State(Keras3WeightsH5.Read(file, path), path, skipMismatch: false);
            VocabularyAssets.Load(model, archive, path);
            VocabularyAssets.ApplyGiven(model, vocabularies);
            VocabularyAssets.CheckLoaded(model, path);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The most bytes a weights file of this model can need: every weight with two optimizer slots (Adam's m and v,
    /// the most any optimizer here keeps), as float64 at worst, plus HDF5's own structures.
    /// </summary>
    private long WeightsBudget() => (Layers.Sum(l => l.CountParams()) * 3 * sizeof(double)) + (Layers.Sum(l => l.Weights.Count) * 3 * 16384L) + (4L << 20);

    private static Model LoadKeras2(string path, bool compile, IReadOnlyDictionary<string, Array>? vocabularies)
    {
        using var file = HdfReader.Open(path);
        var (modelConfig, trainingConfig) = Keras2WeightsH5.ReadConfigs(file, path);
        if (modelConfig is null)
        {
            throw new KerasFileException(path, "the file has no 'model_config' attribute, so it holds weights only: build the model and call LoadWeights.");
        }

        var kerasVersion = HdfReader.ReadString(file, "keras_version", path);
        var keras2 = false;
        var model = Rebuild(path, () =>
        {
            var root = ParseJson(modelConfig, "model_config");
            keras2 = ModelConfig.WrittenByKeras2(root, kerasVersion);
            var (built, _) = ModelConfig.Deserialize(root, keras2);
            try
            {
                if (compile && trainingConfig is not null)
                {
                    built.CompileFromFile(ParseJson(trainingConfig, "training_config") as JsonObject
                        ?? throw new FormatException("training_config must be a JSON object."), keras2: true, $"'{path}': ", keras2);
                }

                return built;
            }
            catch
            {
                built.Dispose();
                throw;
            }
        });
        model.SetSource(kerasVersion, keras2);
        try
        {
            // A text layer's adapted vocabulary is not in a legacy .h5 (Saving/VocabularyAssets): the caller's, if given.
            VocabularyAssets.ApplyGiven(model, vocabularies);
            VocabularyAssets.CheckLoaded(model, path);
            var plan = new WeightsLoadPlan(path, skipMismatch: false);
            var stored = Keras2WeightsH5.Read(file, path);
            Keras2WeightsH5.Plan(plan, model.Layers, stored, byName: false);
            var trainable = model.TrainableWeights;
            var state = model.Optimizer is null ? null
                : Keras2WeightsH5.ReadOptimizerWeights(file, path, model.Optimizer, trainable, Keras2WeightsH5.FileNames(model.Layers, stored)) is { } vars
                ? Keras3WeightsH5.ReadOptimizer(vars, model.Optimizer, trainable, path)
                : null;
            plan.Apply();
            if (state is not null)
            {
                model.Optimizer!.ImportState(trainable, state);
            }

            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>A directory where a file is expected gave UnauthorizedAccessException from the file system.</summary>
    private static void RefuseDirectory(string path, string method)
    {
        if (Directory.Exists(path))
        {
            throw new ArgumentException($"{method}: '{path}' is a directory; expected a model or weights file (.keras, .weights.h5 or .h5).", nameof(path));
        }
    }

    /// <summary>Builds (and compiles, when asked and configured) a model from a parsed config.</summary>
    private static Model Build(JsonNode? root, bool compile, bool keras2, string where)
    {
        var (model, compileConfig) = ModelConfig.Deserialize(root, keras2);
        try
        {
            if (compile && compileConfig is not null)
            {
                model.CompileFromFile(compileConfig, keras2: false, where, keras2);
            }

            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Runs a model build from a file's config, naming the file in any config error.</summary>
    private static Model Rebuild(string path, Func<Model> build)
    {
        try
        {
            return build();
        }
        catch (Exception e) when (e is FormatException or NotSupportedException or ArgumentException or InvalidOperationException)
        {
            throw new KerasFileException(path, $"the model config cannot be loaded: {e.Message}", e);
        }
    }

    private static JsonNode? ParseJson(string json, string what)
    {
        try
        {
            return JsonNode.Parse(json, documentOptions: ModelConfig.JsonOptions);
        }
        catch (JsonException e)
        {
            throw new FormatException($"{what}: not valid JSON ({e.Message}).", e);
        }
    }

    private void Compile((Optimizer Optimizer, Loss Loss, Metric[] Metrics, Metric[] WeightedMetrics) config) =>
        CompileOwned(config.Optimizer, config.Loss, config.Metrics, config.WeightedMetrics);

    /// <summary>
    /// Compiles from a file's or JSON's training config as Keras would (its defaults for absent keys). How the model
    /// was trained never stops it from loading: a metric that cannot be restored is left out, and a config whose
    /// optimizer or loss cannot be restored (or that does not fit the model) leaves the model uncompiled; either way
    /// with exactly one warning naming what was skipped and why.
    /// </summary>
    private void CompileFromFile(JsonObject config, bool keras2, string where, bool writtenByKeras2)
    {
        var skipped = new List<string>();
        try
        {
            Compile(keras2 ? CompileConfig.DeserializeKeras2(config, skipped, writtenByKeras2) : CompileConfig.Deserialize(config, skipped, writtenByKeras2));
        }
        catch (Exception e) when (CompileConfig.IsUnrestorable(e))
        {
            Warnings.Warn($"{where}the model is loaded uncompiled: its {(keras2 ? "training_config" : "compile_config")} cannot be restored ({e.Message}); call Compile before training it.");
            return;
        }

        if (skipped.Count > 0)
        {
            Warnings.Warn($"{where}the model is compiled without {string.Join("; ", skipped)}; pass it to Compile to log it.");
        }
    }

    private JsonObject? CompileConfigJson() =>
        Optimizer is null || Trainer.Losses is not { } losses ? null
        : CompileConfig.Serialize(Optimizer, losses[0], Trainer.MetricSpecs.Metrics, Trainer.MetricSpecs.Weighted);

    private OptimizerState? ExportOptimizerState() => Optimizer?.ExportState(TrainableWeights);

    /// <summary>All weight values in Keras order (layer by layer, as <see cref="Layers"/>), as Keras' <c>get_weights()</c>.</summary>
    public IReadOnlyList<WeightArray> GetWeights()
    {
        ThrowIfDisposed();
        // One state of all layers: no training step or weight write runs meanwhile.
        using var weights = ReadWeights();
        return Layers.SelectMany(l => l.GetWeights()).ToArray();
    }

    /// <summary>Sets all weights in Keras order and layout; everything is checked before anything is written.</summary>
    /// <param name="values">One value per weight of every layer, in <see cref="GetWeights"/> order.</param>
    public void SetWeights(IReadOnlyList<WeightArray> values)
    {
        ThrowIfDisposed();
        using var exclusive = EnterTraining(nameof(SetWeights));
        ArgumentNullException.ThrowIfNull(values);
        var expected = Layers.Sum(l => l.Weights.Count);
        if (values.Count != expected)
        {
            throw new ArgumentException($"Model '{Name}' has {expected} weights, but {values.Count} values were given.", nameof(values));
        }

        var offset = 0;
        foreach (var layer in Layers)
        {
            layer.CheckWeights(values, offset, layer.Weights.Count);
            offset += layer.Weights.Count;
        }

        // Predictions see all of the old values or all of the new ones.
        using var weights = WriteWeights();
        offset = 0;
        foreach (var layer in Layers)
        {
            layer.AssignWeights(values, offset);
            offset += layer.Weights.Count;
        }
    }

    /// <summary>
    /// Saves all weights, atomically (a failed save leaves any previous file intact), as Keras' <c>save_weights</c>:
    /// <c>.weights.h5</c> in the Keras 3 layout (with the optimizer state when compiled), <c>.h5</c> in the Keras 2
    /// layout.
    /// </summary>
    /// <param name="path">The file to write.</param>
    /// <remarks>Under a <see cref="Distributed.DataParallel"/> distribution, call it on every rank: rank 0 alone writes the
    /// file, then every rank waits for the others (one <c>MPI_Allreduce</c> of rank 0's outcome, a barrier); when rank 0's
    /// write failed, rank 0 throws its exception and the other ranks an <see cref="IOException"/>. Called inside a
    /// distributed <c>Fit</c> or <c>Evaluate</c> (by a callback, which may run on rank 0 only), rank 0 writes and the other
    /// ranks return without writing or waiting (docs/scaling.md).</remarks>
    public void SaveWeights(string path) =>
        Distributed.RankZeroFiles.Write(this, nameof(SaveWeights), path, () => SaveWeightsHere(path));

    private void SaveWeightsHere(string path)
    {
        ThrowIfDisposed();
        using var exclusive = EnterTraining(nameof(SaveWeights));
        using var weights = ReadWeights();
        SaveWeightsTo(path);
    }

    /// <summary>
    /// Loads weights from a Keras 2 <c>.h5</c> (also a full-model file's <c>/model_weights</c>), a Keras 3
    /// <c>.weights.h5</c> or a <c>.keras</c> file, as Keras' <c>load_weights</c>. Everything is checked before
    /// anything is written; a mismatch throws a <see cref="Saving.KerasFileException"/> naming the file, the layer,
    /// the weight and both shapes.
    /// </summary>
    /// <param name="path">The file to read.</param>
    /// <param name="byName">Match layers by name instead of by position (Keras 2 files only).</param>
    /// <param name="skipMismatch">Skip, with a warning, layers whose weights differ in count or shape.</param>
    public void LoadWeights(string path, bool byName = false, bool skipMismatch = false)
    {
        ThrowIfDisposed();
        using var exclusive = EnterTraining(nameof(LoadWeights));
        // Predictions see the weights (and the optimizer state) before the load or after it, never a mix.
        using var weights = WriteWeights();
        LoadWeightsFrom(path, byName, skipMismatch);
    }
}
