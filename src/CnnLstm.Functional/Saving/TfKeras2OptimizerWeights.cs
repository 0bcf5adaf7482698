using System.Globalization;
using KerasStyle.Layers;
using KerasStyle.Training.Optimizers;
using PureHDF;
using PureHDF.VOL.Native;

namespace KerasStyle.Saving;

/// <summary>
/// The <c>optimizer_weights</c> group of a tf.keras 2 full-model <c>.h5</c>: the attribute <c>weight_names</c> and
/// one dataset per optimizer variable at that path. tf.keras 2 restores them by position
/// (<c>optimizer.set_weights</c>), and two layouts exist (keras-team/keras at v2.10.0 and v2.11.0, keras-team/tf-keras):
/// <list type="bullet">
/// <item>tf.keras 2.10 and earlier (<c>OptimizerV2</c>, and <c>tf.keras.optimizers.legacy</c> later; each
/// optimizer's <c>_create_slots</c> in tf_keras/src/optimizers/legacy/): <c>Adam/iter:0</c>, then every weight's first
/// slot, then every weight's second slot (Ftrl: <c>accumulator</c> and <c>linear</c> of each weight in turn), each named
/// <c>Adam/dense/kernel/m:0</c>. Slots: Adam <c>m</c>, <c>v</c>, <c>vhat</c>; RMSprop <c>rms</c>, <c>momentum</c>,
/// <c>mg</c>; SGD <c>momentum</c>; Adamax <c>m</c>, <c>v</c>; Adagrad <c>accumulator</c>; Adadelta <c>accum_grad</c>,
/// <c>accum_var</c>; Ftrl <c>accumulator</c>, <c>linear</c> (Nadam's, with <c>momentum_cache</c>, is refused when compiling).</item>
/// <item>tf.keras 2.11+ (<c>optimizer_experimental</c>, tf_keras/src/optimizers/*.py <c>build</c>): <c>iteration:0</c>,
/// then the slots in the optimizer's build order (each weight's slots in turn), each named <c>Adam/m/dense/kernel:0</c>.
/// Slots: Adam and AdamW <c>m</c>, <c>v</c>, <c>vhat</c>; RMSprop <c>velocity</c>, <c>momentum</c>,
/// <c>average_gradient</c>; SGD <c>m</c> (kept even without momentum); Adamax <c>m</c>, <c>u</c>; Adagrad
/// <c>accumulator</c>; Adadelta <c>accumulated_grad</c>, <c>accumulated_delta_var</c>; Nadam <c>m</c>, <c>v</c>; Ftrl
/// <c>accumulator</c>, <c>linear</c>; Lion (2.13+) <c>m</c>. Nadam's <c>u_product</c> is a plain <c>tf.Variable</c>,
/// not an optimizer variable, so it is not saved.</item>
/// </list>
/// Neither stores the learning rate (it is in <c>training_config</c>). Reading matches each variable to its weight
/// and slot by name, so both layouts (and any order) read; writing uses the tf.keras 2.11 layout.
/// </summary>
internal static class TfKeras2OptimizerWeights
{
    /// <summary>
    /// The optimizer variables of a tf.keras 2 file in the Keras 3 order that <see cref="Keras3WeightsH5.ReadOptimizer"/>
    /// checks (<c>optimizer/vars/0</c>: iterations, <c>1</c>: the compiled learning rate, then each weight's slots);
    /// null, with a warning naming what did not match, when the variables do not fit this optimizer and model.
    /// </summary>
    /// <param name="group">The <c>optimizer_weights</c> group.</param>
    /// <param name="path">The file, for messages.</param>
    /// <param name="optimizer">The optimizer compiled from the file's <c>training_config</c>.</param>
    /// <param name="trainable">The model's trainable weights, in optimizer order.</param>
    /// <param name="fileNames">Each weight's name in the file's <c>model_weights</c> (e.g. <c>dense/kernel</c>, no <c>:0</c>).</param>
    public static Dictionary<string, H5Array>? Read(IH5Group group, string path, Optimizer optimizer, IReadOnlyList<LayerWeight> trainable,
        IReadOnlyDictionary<LayerWeight, string> fileNames)
    {
        var names = HdfReader.ReadStrings(group, "weight_names", path, "group 'optimizer_weights'") ?? Array.Empty<string>();
        var slotNames = optimizer.KerasSlotNames;
        H5Array? iterations = null;
        var slots = new H5Array?[trainable.Count, slotNames.Count];
        foreach (var name in names)
        {
            var dataset = HdfReader.Guard(path, $"'optimizer_weights/{name}'", () => group.LinkExists(name) ? group.Dataset(name) : null)
                ?? throw new KerasFileException(path, $"'optimizer_weights' lists '{name}', but there is no dataset of that name.");
            var variable = name.EndsWith(":0", StringComparison.Ordinal) ? name[..^2] : name;
            var last = variable[(variable.LastIndexOf('/') + 1)..];
            if (last is "iter" or "iteration")
            {
                iterations = HdfReader.ReadDataset(dataset, $"optimizer_weights/{name}", path);
                continue;
            }

            var match = Match(variable, optimizer, trainable, fileNames);
            if (match is not { } found)
            {
                Warnings.Warn($"'{path}': optimizer variable '{name}' names no trainable weight of this model with a slot of {optimizer.GetType().Name}; the optimizer state is not loaded.");
                return null;
            }

            // A slot this optimizer does not keep (tf.keras 2.11's SGD keeps 'm' even without momentum) is left out.
            if (found.Slot >= 0)
            {
                slots[found.Weight, found.Slot] = HdfReader.ReadDataset(dataset, $"optimizer_weights/{name}", path);
            }
        }

        if (iterations is null)
        {
            Warnings.Warn($"'{path}': 'optimizer_weights' has no step count ('iter:0' or 'iteration:0'); the optimizer state is not loaded.");
            return null;
        }

        var learningRate = new H5Array("training_config optimizer_config learning_rate", Array.Empty<int>(), new[] { (float)optimizer.LearningRate });
        // In Keras 3's layout: iterations, learning_rate (none with a schedule), then the slots.
        var first = optimizer.Schedule is null ? 2 : 1;
        var result = new Dictionary<string, H5Array>(StringComparer.Ordinal) { ["optimizer/vars/0"] = iterations };
        if (first == 2)
        {
            result["optimizer/vars/1"] = learningRate;
        }

        var filled = Enumerable.Range(0, trainable.Count).Sum(w => Enumerable.Range(0, slotNames.Count).Count(s => slots[w, s] is not null));
        if (filled == 0)
        {
            // Before its first step an optimizer has only the step count (tf.keras 2.11 builds its slots lazily).
            return result;
        }

        if (optimizer is Nadam nadam)
        {
            // tf.keras 2.11+ keeps u_product out of its variables (and its own reload restarts it at 1); it is the product
            // of u_t over the steps taken, so it is recomputed from the step count, continuing as the uninterrupted run.
            var steps = iterations.Integers is { Length: > 0 } counts ? counts[0] : iterations.Floats is { Length: > 0 } floats ? (long)floats[0] : 0L;
            if (steps > 0)
            {
                Warnings.Warn(string.Create(CultureInfo.InvariantCulture, $"'{path}': tf.keras 2 does not save Nadam's u_product; it is recomputed from the {steps} steps taken (tf.keras 2 itself restarts it at 1 when it reloads the file)."));
            }

            result[string.Create(CultureInfo.InvariantCulture, $"optimizer/vars/{first + (trainable.Count * slotNames.Count)}")] =
                new H5Array("optimizer_weights (Nadam u_product, recomputed)", Array.Empty<int>(), new[] { nadam.UProductAfter(Math.Max(steps, 0)) });
        }

        for (var w = 0; w < trainable.Count; w++)
        {
            for (var s = 0; s < slotNames.Count; s++)
            {
                if (slots[w, s] is not { } value)
                {
                    Warnings.Warn($"'{path}': 'optimizer_weights' has no {slotNames[s]} slot for weight '{trainable[w].FullName}'; the optimizer state is not loaded.");
                    return null;
                }

                // Keras 3's order: Adam's velocity_hat and RMSprop's momentum / average_gradient follow every weight's
                // first slots (OptimizerState.KerasIndex), not each weight's.
                result[string.Create(CultureInfo.InvariantCulture, $"optimizer/vars/{first + optimizer.KerasVariableIndex(w, s, trainable.Count)}")] = value;
            }
        }

        return result;
    }

    /// <summary>
    /// The <c>optimizer_weights</c> group as tf.keras 2.11 writes it: <c>iteration:0</c> (int64), then the slots in
    /// build order (Adam's <c>m</c>, <c>v</c> per weight, then every <c>vhat</c>; RMSprop's <c>velocity</c> of every
    /// weight, then every <c>momentum</c>, then every <c>average_gradient</c>; SGD's <c>m</c> with momentum; the other
    /// optimizers' slots weight by weight). Before the first step only the step count, as tf.keras 2.11. tf.keras 2.11
    /// restores by position and leaves variables beyond the list (SGD's unused <c>m</c>) at zero.
    /// </summary>
    public static H5Group Write(OptimizerState? state, Optimizer optimizer, IReadOnlyList<LayerWeight> trainable)
    {
        var group = new H5Group { ["iteration:0"] = state?.Iterations ?? 0L };
        var names = new List<string> { "iteration:0" };
        var prefix = OptimizerClass(optimizer);
        var slotNames = optimizer.KerasSlotNames;
        // tf.keras 2.11's build order, which is Keras 3's: Adam's m and v weight by weight, then every vhat; RMSprop's
        // velocity, momentum and average_gradient each for every weight in turn (tf_keras/src/optimizers/*.py build).
        var order = state?.Slots is null ? Enumerable.Empty<(int W, int S)>()
            : Enumerable.Range(0, trainable.Count).SelectMany(w => Enumerable.Range(0, slotNames.Count).Select(s => (W: w, S: s)))
                .OrderBy(p => optimizer.KerasVariableIndex(p.W, p.S, trainable.Count));
        foreach (var (w, s) in order)
        {
            var name = $"{prefix}/{Aliases(optimizer, slotNames[s])[0]}/{trainable[w].FullName}";
            names.Add(name);
            var slash = name.LastIndexOf('/');
            Keras2WeightsH5.Nested(group, name[..slash])[name[(slash + 1)..]] = Keras2WeightsH5.Dataset(state!.Slots![w][s]);
        }

        group.Attributes["weight_names"] = names.ToArray();
        return group;
    }

    /// <summary>
    /// The class name tf.keras 2 registers the optimizer under (tf_keras/src/optimizers/__init__.py; Lion since 2.13).
    /// AdamW derives from Adam here but is its own class there, so it is matched first.
    /// </summary>
    /// <exception cref="NotSupportedException">An optimizer tf.keras 2 does not have (a user's own class), named.</exception>
    public static string OptimizerClass(Optimizer optimizer) => optimizer switch
    {
        AdamW => "AdamW",
        Adam => "Adam",
        RMSprop => "RMSprop",
        SGD => "SGD",
        Nadam => "Nadam",
        Adamax => "Adamax",
        Adagrad => "Adagrad",
        Adadelta => "Adadelta",
        Ftrl => "Ftrl",
        Lion => "Lion",
        _ => throw new NotSupportedException($"the optimizer {optimizer.GetType().Name} has no tf.keras 2 equivalent, so the model cannot be saved in the tf.keras 2 form; save it as .keras or in the Keras 3 .h5 form."),
    };

    /// <summary>
    /// The weight and slot a variable name refers to, in either layout (<c>…/dense/kernel/m</c> or <c>…/m/dense/kernel</c>);
    /// slot -1 for a slot of tf.keras 2 that this optimizer does not keep; null when no weight matches.
    /// </summary>
    private static (int Weight, int Slot)? Match(string variable, Optimizer optimizer, IReadOnlyList<LayerWeight> trainable, IReadOnlyDictionary<LayerWeight, string> fileNames)
    {
        (int Weight, int Slot, int Length)? best = null;
        var slotNames = optimizer.KerasSlotNames;
        for (var w = 0; w < trainable.Count; w++)
        {
            if (!fileNames.TryGetValue(trainable[w], out var weight))
            {
                continue;
            }

            foreach (var (alias, slot) in SlotAliases(optimizer, slotNames))
            {
                var v2 = variable == $"{weight}/{alias}" || variable.EndsWith($"/{weight}/{alias}", StringComparison.Ordinal);
                var v211 = variable == $"{alias}/{weight}" || variable.EndsWith($"/{alias}/{weight}", StringComparison.Ordinal);
                if ((v2 || v211) && (best is null || weight.Length > best.Value.Length))
                {
                    best = (w, slot, weight.Length);
                }
            }
        }

        return best is { } b ? (b.Weight, b.Slot) : null;
    }

    /// <summary>Every tf.keras 2 slot name of this optimizer's class, with the index of the slot it fills here (-1: none).</summary>
    private static IEnumerable<(string Alias, int Slot)> SlotAliases(Optimizer optimizer, IReadOnlyList<string> slotNames)
    {
        var kept = Enumerable.Range(0, slotNames.Count).SelectMany(s => Aliases(optimizer, slotNames[s]).Select(a => (a, s))).ToList();
        var unused = optimizer is SGD ? Aliases(optimizer, "momentum").Where(a => kept.All(k => k.a != a)).Select(a => (a, -1)) : Enumerable.Empty<(string, int)>();
        return kept.Concat(unused);
    }

    /// <summary>tf.keras 2's names for one of this library's (Keras 3's) slots: the 2.11+ name first, then the legacy one.</summary>
    private static string[] Aliases(Optimizer optimizer, string slot) => (optimizer, slot) switch
    {
        (Adam, "momentum") => new[] { "m" },
        (Adam, "velocity") => new[] { "v" },
        (Adam, "velocity_hat") => new[] { "vhat" },
        (RMSprop, "velocity") => new[] { "velocity", "rms" },
        (RMSprop, "average_gradient") => new[] { "average_gradient", "mg" },
        (SGD, "momentum") => new[] { "m", "momentum" },
        (Nadam, "momentum") => new[] { "m" },
        (Nadam, "velocity") => new[] { "v" },
        (Adamax, "momentum") => new[] { "m" },
        (Adamax, "norm") => new[] { "u", "v" },
        (Adadelta, "accumulated_grad") => new[] { "accumulated_grad", "accum_grad" },
        (Adadelta, "accumulated_delta_var") => new[] { "accumulated_delta_var", "accum_var" },
        (Lion, "momentum") => new[] { "m" },
        _ => new[] { slot },
    };
}
