using System.Globalization;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Training.Optimizers;
using PureHDF;
using PureHDF.VOL.Native;

namespace KerasStyle.Saving;

/// <summary>
/// The Keras 3 weights layout (<c>model.weights.h5</c> inside a <c>.keras</c> file, and <c>.weights.h5</c> files):
/// <c>layers/&lt;path&gt;/vars/0..n</c> per layer in model order, where the path is the snake_case class name made
/// unique by a counter (<c>dense</c>, <c>dense_1</c>, ...; Keras does not use layer names here), LSTM weights under
/// <c>layers/lstm/cell/vars/0..2</c>, and the optimizer's variables under <c>optimizer/vars/0..n</c>: iterations,
/// learning rate, then each trainable weight's slots in turn (Adam: momentum, velocity).
/// </summary>
internal static class Keras3WeightsH5
{
    private const string Layers = "layers";
    private const string Tf213Layers = "_layer_checkpoint_dependencies";
    private const string OptimizerVars = "optimizer/vars";
    private const string IdfKey = "idf_weights";

    /// <summary>Writes a <c>.weights.h5</c> file atomically; values are gathered while the temporary file is open.</summary>
    public static void Save(string path, IReadOnlyList<Layer> layers, Func<OptimizerState?> optimizer) =>
        AtomicFile.Write(path, stream => Write(stream, layers, optimizer()));

    /// <summary>Writes the layout to a stream.</summary>
    public static void Write(Stream stream, IReadOnlyList<Layer> layers, OptimizerState? optimizer)
    {
        var layerGroups = new H5Group();
        foreach (var (layer, path) in Paths(layers))
        {
            var group = new H5Group();
            foreach (var (varsPath, weights) in VarGroups(layer))
            {
                var vars = Keras2WeightsH5.Nested(group, varsPath);
                for (var i = 0; i < weights.Count; i++)
                {
                    vars[i.ToString(CultureInfo.InvariantCulture)] = Keras2WeightsH5.Dataset(weights[i].Get());
                }
            }

            foreach (var (varsPath, lookup, holder) in IdfSlots(layer))
            {
                if (lookup.OwnIdfWeights(holder) is { } idf)
                {
                    Keras2WeightsH5.Nested(group, varsPath)[IdfKey] = new H5Dataset(idf, fileDims: new[] { (ulong)idf.Length });
                }
            }

            layerGroups[path] = group;
        }

        var file = new H5File { [Layers] = layerGroups, ["vars"] = new H5Group() };
        if (optimizer is not null)
        {
            file["optimizer"] = new H5Group { ["vars"] = OptimizerGroup(optimizer) };
        }

        file.Write(stream);
    }

    /// <summary>Whether an open file has the Keras 3 layout.</summary>
    public static bool Matches(NativeFile file, string path) => HdfReader.Guard(path, "the root group", () =>
        file.LinkExists(Layers) || file.LinkExists(Tf213Layers) || file.LinkExists("vars"));

    /// <summary>
    /// Every dataset of the file, by path. Groups named with Windows separators (<c>layers\conv1d</c>: tf.keras 2.x
    /// and early Keras 3 on Windows joined the layout's paths with <c>os.path.join</c>, which h5py stores as one group
    /// name) are read as the <c>/</c> paths they stand for, with one warning (Keras 3.16 finds no weights there and
    /// refuses the file); a name that would then step out of its group (an empty, <c>.</c> or <c>..</c> part) or
    /// collide with another path is refused.
    /// </summary>
    public static Dictionary<string, H5Array> Read(NativeFile file, string path)
    {
        var datasets = HdfReader.ReadAll(file, string.Empty, path);
        if (!datasets.Keys.Any(k => k.Contains('\\', StringComparison.Ordinal)))
        {
            return datasets;
        }

        var result = new Dictionary<string, H5Array>(StringComparer.Ordinal);
        foreach (var (key, value) in datasets.OrderBy(d => d.Key, StringComparer.Ordinal))
        {
            var normalised = key.Replace('\\', '/');
            if (normalised.Split('/').Any(part => part is "" or "." or ".."))
            {
                throw new KerasFileException(path, $"dataset '{key}' has a path with Windows separators that reads as '{normalised}', which has an empty, '.' or '..' part; refused.");
            }

            if (!result.TryAdd(normalised, normalised == key ? value : new H5Array(normalised, value.Shape, value.IsFloat, () => value.IsFloat ? value.Floats! : value.Integers!)))
            {
                throw new KerasFileException(path, $"datasets '{result[normalised].Path}' and '{key}' are one path, '{normalised}', once Windows separators are read as '/'; the file is ambiguous and refused.");
            }
        }

        var example = datasets.Keys.Where(k => k.Contains('\\', StringComparison.Ordinal)).Order(StringComparer.Ordinal).First();
        Warnings.Warn($"'{path}': the weights were saved on Windows with '\\' in their paths (e.g. '{example}'); read as '/' paths, as the Keras that wrote them read them there (Keras 3.16 does not find these weights).");
        return result;
    }

    /// <summary>
    /// Plans the load by position: each model layer reads the group its class-name path gives. Weights stored for
    /// layers the model lacks are a mismatch too.
    /// </summary>
    public static void Plan(WeightsLoadPlan plan, IReadOnlyList<Layer> layers, IReadOnlyDictionary<string, H5Array> datasets)
    {
        // Files from tf.keras 2.13-2.15 name the list '_layer_checkpoint_dependencies', as Keras 3 accepts too.
        var root = datasets.Keys.Any(k => k.StartsWith(Layers + "/", StringComparison.Ordinal)) || !datasets.Keys.Any(k => k.StartsWith(Tf213Layers + "/", StringComparison.Ordinal))
            ? Layers : Tf213Layers;
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (layer, path) in Paths(layers))
        {
            var stored = new List<H5Array>();
            foreach (var (varsPath, _) in VarGroups(layer))
            {
                var directory = $"{root}/{path}/{varsPath}/";
                if (!datasets.ContainsKey(directory + "0") && layer.LegacyVarsPath(varsPath) is { } legacy && datasets.ContainsKey($"{root}/{path}/{legacy}/0"))
                {
                    directory = $"{root}/{path}/{legacy}/";
                }

                for (var i = 0; datasets.TryGetValue(directory + i.ToString(CultureInfo.InvariantCulture), out var value); i++)
                {
                    stored.Add(value);
                    used.Add(value.Path);
                }
            }

            if (layer.Weights.Count > 0 || stored.Count > 0)
            {
                plan.Add(layer, $"{root}/{path}", stored);
            }

            // Keras' load_own_variables of a tf_idf lookup: vars/idf_weights. A TextVectorization's inner lookup is
            // walked after it, so its entry (_lookup_layer/vars) is the one Keras keeps when both are present.
            H5Array? idf = null;
            IndexLookup? target = null;
            var refused = false;
            foreach (var (varsPath, lookup, holder) in IdfSlots(layer))
            {
                if (lookup.OutputMode == "tf_idf" && datasets.TryGetValue($"{root}/{path}/{varsPath}/{IdfKey}", out var value))
                {
                    used.Add(value.Path);
                    if (!refused && lookup.CheckStoredIdf(value, holder) is { } why)
                    {
                        plan.Mismatch(new KerasFileException(plan.Path, why) { Layer = holder.Name, Weight = IdfKey });
                        refused = true;
                    }

                    (idf, target) = (value, lookup);
                }
            }

            if (!refused && idf is not null && target is not null)
            {
                // Decoded now, so that a corrupt dataset fails the load before anything is assigned.
                var values = idf.Floats!;
                var lookup = target;
                plan.AddAction(() => lookup.LoadStoredIdf(values));
            }
        }

        var extra = datasets.Keys.Where(k => k.StartsWith(root + "/", StringComparison.Ordinal) && !used.Contains(k)).Order(StringComparer.Ordinal).ToList();
        if (extra.Count > 0)
        {
            plan.Mismatch(new KerasFileException(plan.Path,
                $"the file stores weights the model has no place for: {string.Join(", ", extra.Take(6))}{(extra.Count > 6 ? $" and {extra.Count - 6} more" : string.Empty)}; the model's layers map to {string.Join(", ", Paths(layers).SelectMany(p => VarGroups(p.Layer).Where(g => g.Weights.Count > 0).Select(g => $"{root}/{p.Path}/{g.VarsPath}")))}."));
        }
    }

    /// <summary>
    /// The saved optimizer state for <paramref name="optimizer"/> over <paramref name="weights"/>, checked against
    /// them; null when the file has none. A file whose variable count does not fit (another optimizer or model) is
    /// skipped with a warning, as Keras does.
    /// </summary>
    public static OptimizerState? ReadOptimizer(IReadOnlyDictionary<string, H5Array> datasets, Optimizer optimizer, IReadOnlyList<LayerWeight> weights, string path)
    {
        var vars = new List<H5Array>();
        for (var i = 0; datasets.TryGetValue($"{OptimizerVars}/{i}", out var value); i++)
        {
            vars.Add(value);
        }

        if (vars.Count == 0)
        {
            return null;
        }

        var slotNames = optimizer.KerasSlotNames;
        // With a learning-rate schedule Keras keeps no learning_rate variable: the slots follow iterations.
        var extras = optimizer.KerasExtraVariableCount;
        var first = optimizer.Schedule is null ? 2 : 1;
        var expected = first + (slotNames.Count * weights.Count) + extras;
        if (vars.Count < first || (vars.Count != first && (slotNames.Count == 0 || vars.Count != expected)))
        {
            var head = first == 2 ? "iterations, learning_rate" : "iterations (its learning rate is a schedule)";
            Warnings.Warn($"'{path}': the file stores {vars.Count} optimizer variables, but {optimizer.GetType().Name} over this model's {weights.Count} trainable weights has {expected} ({(slotNames.Count == 0 ? head : $"{head}, then {string.Join(", ", slotNames)} per weight{(extras > 0 ? $", then {extras} scalar(s)" : string.Empty)}")}); the optimizer state is not loaded.");
            return null;
        }

        // Checked here, before the caller assigns anything: a NaN rate was found only after every weight had been
        // replaced, and a negative count loaded silently and turned every weight into NaN at the next Fit.
        var iterations = Scalar(vars[0], "iterations", path);
        if (!(iterations >= 0 && iterations <= long.MaxValue && iterations == Math.Floor(iterations)))
        {
            throw new KerasFileException(path, string.Create(CultureInfo.InvariantCulture,
                $"optimizer variable '{vars[0].Path}' (iterations) is {iterations}; expected a whole number of steps, 0 or more."));
        }

        var learningRate = first == 1 ? optimizer.LearningRate : Scalar(vars[1], "learning_rate", path);
        if (first == 2 && !(learningRate > 0 && !double.IsInfinity(learningRate)))
        {
            throw new KerasFileException(path, string.Create(CultureInfo.InvariantCulture,
                $"optimizer variable '{vars[1].Path}' (learning_rate) is {learningRate}; expected a positive, finite number."));
        }

        if (vars.Count == first)
        {
            return new OptimizerState((long)iterations, KeepExact(optimizer.LearningRate, learningRate), null);
        }

        var slots = new List<WeightArray[]>();
        for (var w = 0; w < weights.Count; w++)
        {
            var values = new WeightArray[slotNames.Count];
            for (var s = 0; s < slotNames.Count; s++)
            {
                var stored = vars[first + optimizer.KerasVariableIndex(w, s, weights.Count)];
                if (!stored.IsFloat || !stored.Shape.SequenceEqual(weights[w].Shape))
                {
                    throw new KerasFileException(path,
                        $"optimizer variable '{stored.Path}' ({slotNames[s]} of weight '{weights[w].FullName}') has shape {stored.ShapeText}{(!stored.IsFloat ? " (integers)" : string.Empty)}, but the weight has shape {WeightArray.ShapeText(weights[w].Shape)}.")
                    {
                        Layer = weights[w].Layer.Name,
                        Weight = weights[w].Name,
                        ExpectedShape = weights[w].Shape.ToArray(),
                        FileShape = stored.Shape,
                    };
                }

                // A second moment (Adam's and RMSprop's velocity) is a mean of squares: negative, its square root is NaN.
                var squares = slotNames[s] == "velocity";
                if (Array.FindIndex(stored.Floats!, v => !float.IsFinite(v) || (squares && v < 0)) is var bad and >= 0)
                {
                    throw new KerasFileException(path, string.Create(CultureInfo.InvariantCulture,
                        $"optimizer variable '{stored.Path}' ({slotNames[s]} of weight '{weights[w].FullName}') holds {stored.Floats![bad]} at flat index {bad}; the optimizer's slots must be finite{(squares ? ", and a velocity 0 or more" : string.Empty)}."))
                    {
                        Layer = weights[w].Layer.Name,
                        Weight = weights[w].Name,
                    };
                }

                values[s] = stored.ToWeight();
            }

            slots.Add(values);
        }

        var scalars = new float[extras];
        for (var e = 0; e < extras; e++)
        {
            var stored = vars[first + (slotNames.Count * weights.Count) + e];
            scalars[e] = (float)Scalar(stored, "optimizer scalar", path);
            if (!float.IsFinite(scalars[e]))
            {
                throw new KerasFileException(path, string.Create(CultureInfo.InvariantCulture, $"optimizer variable '{stored.Path}' is {scalars[e]}; expected a finite number."));
            }
        }

        return new OptimizerState((long)iterations, KeepExact(optimizer.LearningRate, learningRate), slots, Extras: scalars);
    }

    /// <summary>
    /// The groups of variables a layer keeps below its <c>layers/&lt;path&gt;</c> group, as Keras'
    /// <c>_walk_saveable</c> visits them: <c>vars</c> (always, even empty), LSTM's <c>cell/vars</c>, and for a model
    /// used as a layer its own layers below <c>layers/&lt;inner path&gt;/</c>, to any depth.
    /// </summary>
    internal static IEnumerable<(string VarsPath, IReadOnlyList<LayerWeight> Weights)> VarGroups(Layer layer)
    {
        if (layer is Models.ModelLayer nested)
        {
            yield return ("vars", Array.Empty<LayerWeight>());
            foreach (var (inner, path) in Paths(nested.Model.Layers))
            {
                foreach (var (varsPath, weights) in VarGroups(inner))
                {
                    yield return ($"layers/{path}/{varsPath}", weights);
                }
            }

            yield break;
        }

        var groups = layer.KerasVarGroups.ToList();
        foreach (var group in groups)
        {
            yield return group;
        }

        if (groups.All(g => g.Path != "vars"))
        {
            yield return ("vars", Array.Empty<LayerWeight>());
        }

        // saving_lib walks a TextVectorization's _lookup_layer attribute too (an empty group outside tf_idf).
        if (layer is TextVectorization)
        {
            yield return ("_lookup_layer/vars", Array.Empty<LayerWeight>());
        }
    }

    /// <summary>
    /// Where Keras' <c>save_own_variables</c> puts a text layer's idf weights below its group: <c>vars</c> for a
    /// StringLookup or IntegerLookup; for a TextVectorization both <c>vars</c> (its own save_own_variables delegates
    /// to its lookup) and <c>_lookup_layer/vars</c> (saving_lib then walks the inner lookup); for a model used as a
    /// layer, its layers' slots below <c>layers/&lt;inner path&gt;/</c>.
    /// </summary>
    internal static IEnumerable<(string VarsPath, IndexLookup Lookup, Layer Holder)> IdfSlots(Layer layer)
    {
        if (layer is Models.ModelLayer nested)
        {
            foreach (var (inner, path) in Paths(nested.Model.Layers))
            {
                foreach (var (varsPath, lookup, holder) in IdfSlots(inner))
                {
                    yield return ($"layers/{path}/{varsPath}", lookup, holder);
                }
            }

            yield break;
        }

        var (found, isInner) = VocabularyAssets.Lookup(layer);
        if (found is null)
        {
            yield break;
        }

        yield return ("vars", found, layer);
        if (isInner)
        {
            yield return ("_lookup_layer/vars", found, layer);
        }
    }

    /// <summary>Each layer with its Keras 3 path: snake_case class name, then <c>_1</c>, <c>_2</c>, ... for repeats.</summary>
    public static IEnumerable<(Layer Layer, string Path)> Paths(IReadOnlyList<Layer> layers)
    {
        var used = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var layer in layers)
        {
            var name = NameScope.ToKeras3SnakeCase(new string(layer.ClassName.Where(c => char.IsLetterOrDigit(c) || c == '_').ToArray()));
            if (used.TryGetValue(name, out var count))
            {
                used[name] = count + 1;
                yield return (layer, $"{name}_{count + 1}");
            }
            else
            {
                used[name] = 0;
                yield return (layer, name);
            }
        }
    }

    private static H5Group OptimizerGroup(OptimizerState state)
    {
        var group = new H5Group { ["0"] = state.Iterations };
        var index = 1;
        if (!state.Scheduled)
        {
            group["1"] = (float)state.LearningRate;
            index = 2;
        }

        foreach (var value in state.InKerasOrder())
        {
            group[(index++).ToString(System.Globalization.CultureInfo.InvariantCulture)] = Keras2WeightsH5.Dataset(value);
        }

        return group;
    }

    private static double Scalar(H5Array value, string what, string path) =>
        value.Shape.Length == 0 || value.Shape.All(d => d == 1)
            ? value.Integers is { } ints ? ints[0] : value.Floats![0]
            : throw new KerasFileException(path, $"optimizer variable '{value.Path}' ({what}) should be a scalar, but has shape {value.ShapeText}.");

    /// <summary>Keras stores the learning rate as float32; keep the exact current value when it rounds to the stored one.</summary>
    private static double KeepExact(double current, double stored) => (float)current == (float)stored ? current : stored;
}
