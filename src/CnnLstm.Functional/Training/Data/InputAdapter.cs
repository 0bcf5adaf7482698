using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Models;
using KerasStyle.Training.Losses;
using static TorchSharp.torch;

namespace KerasStyle.Training.Data;

/// <summary>
/// Turns a model's data into checked tensors, as Keras' data adapters (keras/src/trainers/data_adapters/): C# arrays,
/// TorchSharp tensors and a <see cref="DataSource"/>'s batches all pass here, and every check is made here once,
/// before anything runs: input and output counts, shapes, sample counts, dtypes, finite values, token ids for
/// Embedding inputs, class ids for sparse losses, sample and class weights. <see cref="BatchIterator"/> then cuts the
/// checked data into the batches the <see cref="Trainer"/> runs.
/// </summary>
internal sealed class InputAdapter(Model model)
{
    private IReadOnlyList<KerasTensor> Inputs => model.Inputs;

    private IReadOnlyList<KerasTensor> Outputs => model.Outputs;

    /// <summary>Converts and checks inputs and targets (Fit, Evaluate, TrainOnBatch); throws before anything runs.</summary>
    /// <param name="x">The inputs, one per model input.</param>
    /// <param name="y">The targets, one per output.</param>
    /// <param name="xName">The inputs' argument name, for messages.</param>
    /// <param name="yName">The targets' argument name, for messages.</param>
    /// <param name="losses">The compiled losses, one per output: a sparse loss takes class ids as targets.</param>
    /// <param name="sampleWeight">One weight per sample, or null.</param>
    /// <param name="classWeight">A weight per class id, or null.</param>
    /// <param name="method">The public method called (Fit, TrainOnBatch), for messages.</param>
    public DataSet Prepare(ModelData x, ModelData y, string xName, string yName, IReadOnlyList<Loss> losses, Array? sampleWeight = null, IReadOnlyDictionary<int, double>? classWeight = null,
        string method = nameof(Model.Fit))
    {
        ArgumentNullException.ThrowIfNull(x, xName);
        ArgumentNullException.ThrowIfNull(y, yName);
        var owned = new List<Tensor>();
        try
        {
            var inputs = Convert(x, inputs: true, xName, owned, losses);
            CheckInputTensors(inputs, xName);
            var targets = Convert(y, inputs: false, yName, owned, losses);
            for (var o = 0; o < targets.Count; o++)
            {
                if (targets[o].shape[0] != inputs[0].shape[0])
                {
                    throw new ArgumentException($"{yName}: {xName} has {inputs[0].shape[0]} samples but {yName} for output '{Outputs[o].Layer.Name}' has {targets[o].shape[0]}; they must match.", yName);
                }
            }

            var weights = SampleWeights(sampleWeight, classWeight, targets, inputs[0].shape[0], losses, method);
            if (weights is not null)
            {
                owned.Add(weights);
            }

            return new DataSet(inputs, targets, owned, weights);
        }
        catch
        {
            owned.ForEach(t => t.Dispose());
            throw;
        }
    }

    /// <summary>Converts and checks inputs alone (Predict on tensors or a source's batches), as <see cref="Prepare"/> does.</summary>
    public DataSet PrepareInputs(ModelData x, string xName)
    {
        var owned = new List<Tensor>();
        try
        {
            var inputs = Convert(x, inputs: true, xName, owned, Array.Empty<Loss>());
            CheckInputTensors(inputs, xName);
            return new DataSet(inputs, Array.Empty<Tensor>(), owned);
        }
        catch
        {
            owned.ForEach(t => t.Dispose());
            throw;
        }
    }

    /// <summary>
    /// Converts and checks the input arrays of <c>Predict</c>, with the checks of <see cref="Prepare"/> made on the C#
    /// arrays where that is cheaper (finite floats, token-id ranges: reducing a tensor costs a single-sample Predict
    /// ~10 µs). The tensors returned are the caller's to dispose.
    /// </summary>
    public List<Tensor> PredictInputs(IReadOnlyList<Array> x, int batchSize, string argument)
    {
        if (x.Count != Inputs.Count)
        {
            throw new ArgumentException($"Model '{model.Name}' has {Inputs.Count} inputs ({string.Join(", ", Inputs.Select(i => $"{i.Layer.Name} {i.Shape}"))}), but {x.Count} arrays were given.", argument);
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        var tensors = new List<Tensor>();
        try
        {
            for (var i = 0; i < x.Count; i++)
            {
                tensors.Add(TensorData.FromArray(x[i], Inputs[i], argument));
                // A NaN, or a double beyond float's range, would come out as NaN or infinity.
                if (Inputs[i].DType == DType.Float32 && !(x[i] is float[] or float[,] or float[,,] ? TensorData.AllFinite(x[i]) : AllFinite(tensors[i])))
                {
                    throw NotFinite(argument, Inputs[i]);
                }

                if (tensors[i].shape[0] != tensors[0].shape[0])
                {
                    throw SampleCountMismatch(argument, i, tensors[0].shape[0], tensors[i].shape[0]);
                }

                if (TensorData.IdRange(x[i]) is { } range)
                {
                    CheckTokenIds(range.Min, range.Max, Inputs[i], argument);
                }
            }

            return tensors;
        }
        catch
        {
            tensors.ForEach(t => t.Dispose());
            throw;
        }
    }

    /// <summary>Converts and checks one batch a <see cref="DataSource"/> supplied (on a worker thread), as <see cref="Prepare"/> checks arrays.</summary>
    /// <param name="batch">The batch, as <c>GetBatch</c> returned it.</param>
    /// <param name="argument">The source's argument name; the batch's parts are named <c>argument.X</c> and <c>argument.Y</c>.</param>
    /// <param name="losses">The compiled losses, or null for a batch that feeds <c>Predict</c> (its targets are ignored).</param>
    /// <param name="classWeight">The class weights Fit was given, or null.</param>
    public DataSet PrepareBatch(DataBatch? batch, string argument, IReadOnlyList<Loss>? losses, IReadOnlyDictionary<int, double>? classWeight = null)
    {
        var given = batch ?? throw new ArgumentException($"{argument}: GetBatch returned null instead of a DataBatch.", argument);
        _ = given.X ?? throw new ArgumentException($"{argument}: the batch has no inputs (DataBatch.X is null).", argument);
        if (losses is null)
        {
            return PrepareInputs(given.X, $"{argument}.X");
        }

        var y = given.Y ?? throw new ArgumentException($"{argument}: the batch has no targets (DataBatch.Y), which training and evaluation need.", argument);
        var data = Prepare(given.X, y, $"{argument}.X", $"{argument}.Y", losses, given.SampleWeight, classWeight);
        if (data.Count == 0)
        {
            data.Dispose();
            throw new ArgumentException($"{argument}: the batch is empty.", argument);
        }

        return data;
    }

    /// <summary>Refuses data without samples, which Fit, Evaluate and TrainOnBatch cannot average over.</summary>
    public static void RequireSamples(DataSet data, string argument)
    {
        if (data.Count == 0)
        {
            throw new ArgumentException($"{argument}: no samples were given (shape ({string.Join(", ", data.Inputs[0].shape)})); expected at least one.", argument);
        }
    }

    /// <summary>Fit's rule for giving both kinds of weights (as Keras).</summary>
    public static void CheckOneKindOfWeights(Array? sampleWeight, IReadOnlyDictionary<int, double>? classWeight, string method = nameof(Model.Fit))
    {
        if (sampleWeight is not null && classWeight is not null)
        {
            throw new ArgumentException($"{method}: give sampleWeight or classWeight, not both (as Keras).", nameof(classWeight));
        }
    }

    /// <summary>The per-sample weights from <c>sampleWeight</c> or <c>classWeight</c> (Keras' <c>class_weight_to_sample_weights</c>), checked; null when neither is given.</summary>
    public Tensor? SampleWeights(Array? sampleWeight, IReadOnlyDictionary<int, double>? classWeight, IReadOnlyList<Tensor> targets, long samples, IReadOnlyList<Loss> losses,
        string method = nameof(Model.Fit))
    {
        CheckOneKindOfWeights(sampleWeight, classWeight, method);
        if (sampleWeight is not null)
        {
            if (sampleWeight.Rank == 0 || sampleWeight.GetLength(0) != samples)
            {
                throw new ArgumentException($"sampleWeight has {(sampleWeight.Rank == 0 ? 0 : sampleWeight.GetLength(0))} weights along its first axis, but there are {samples} samples; give one weight per sample (or, as Keras, per sample and step: (samples, steps)).", nameof(sampleWeight));
            }

            var i = 0;
            foreach (var value in sampleWeight)
            {
                var weight = System.Convert.ToSingle(value, System.Globalization.CultureInfo.InvariantCulture);
                if (!float.IsFinite(weight) || weight < 0)
                {
                    throw new ArgumentOutOfRangeException(nameof(sampleWeight), weight, $"sampleWeight[{(sampleWeight.Rank == 1 ? i.ToString(System.Globalization.CultureInfo.InvariantCulture) : $"flat index {i}")}] is {weight}; weights must be finite and non-negative.");
                }

                i++;
            }

            return EagerArguments.ToTensor(sampleWeight, nameof(sampleWeight));
        }

        if (classWeight is null)
        {
            return null;
        }

        if (Outputs.Count != 1)
        {
            throw new ArgumentException($"{method}: classWeight is supported for models with one output (as Keras), but model '{model.Name}' has {Outputs.Count}; use sampleWeight.", nameof(classWeight));
        }

        foreach (var (cls, weight) in classWeight.Where(kv => !double.IsFinite(kv.Value) || kv.Value < 0))
        {
            throw new ArgumentOutOfRangeException(nameof(classWeight), weight, $"classWeight[{cls}] is {weight}; weights must be finite and non-negative.");
        }

        using var scope = NewDisposeScope();
        var target = targets[0];
        var oneHot = !losses[0].SparseTargets && target.dim() == 2 && target.shape[1] > 1;
        if (target.dim() > 2 || (target.dim() == 2 && target.shape[1] > 1 && !oneHot))
        {
            throw new ArgumentException($"{method}: classWeight needs one class per sample (as Keras), but the targets for output '{Outputs[0].Layer.Name}' have shape ({string.Join(", ", target.shape)}); use sampleWeight.", nameof(classWeight));
        }

        var ids = oneHot ? target.argmax(1) : target.reshape(samples).round();
        var classes = ids.to_type(ScalarType.Int64).data<long>().ToArray();
        return tensor(classes.Select(c => (float)classWeight.GetValueOrDefault((int)c, 1.0)).ToArray()).MoveToOuterDisposeScope();
    }

    /// <summary>Checks count, shapes, equal sample counts and token-id ranges of input tensors before anything runs.</summary>
    public void CheckInputTensors(IReadOnlyList<Tensor> x, string argument)
    {
        if (x.Count != Inputs.Count)
        {
            throw new ArgumentException($"Model '{model.Name}' has {Inputs.Count} inputs, but {x.Count} were given.", argument);
        }

        for (var i = 0; i < x.Count; i++)
        {
            TensorData.CheckShape(x[i].shape, Inputs[i], argument, "tensor");
            if (x[i].shape[0] != x[0].shape[0])
            {
                throw SampleCountMismatch(argument, i, x[0].shape[0], x[i].shape[0]);
            }

            if (model.IdCheckersFedBy(Inputs[i]).Count > 0 && x[i].numel() > 0)
            {
                var (low, high) = x[i].aminmax();
                using (low)
                using (high)
                {
                    CheckTokenIds(low.item<long>(), high.item<long>(), Inputs[i], argument);
                }
            }
        }
    }

    private List<Tensor> Convert(ModelData data, bool inputs, string argument, List<Tensor> owned, IReadOnlyList<Loss> losses)
    {
        var expected = inputs ? Inputs : Outputs;
        if (data.Count != expected.Count)
        {
            throw new ArgumentException($"{argument}: model '{model.Name}' has {expected.Count} {(inputs ? "inputs" : "outputs")} ({string.Join(", ", expected.Select(t => $"{t.Layer.Name} {t.Shape}"))}), but {data.Count} were given.", argument);
        }

        var result = new List<Tensor>();
        for (var i = 0; i < data.Count; i++)
        {
            if (data.Tensors?[i] is { } given && (given.IsInvalid || given.is_complex()))
            {
                // A disposed tensor has no handle: reading it would throw from TorchSharp without naming it.
                throw new ArgumentException($"{argument}: the tensor for {(inputs ? "input" : "output")} '{expected[i].Layer.Name}' (item {i}) {(given.IsInvalid ? "has been disposed" : $"is {given.dtype}")}; expected a live tensor of real numbers.", argument);
            }

            var tensor = inputs ? InputTensor(data, i, argument, owned) : TargetTensor(data, i, argument, owned, losses[i]);
            if (tensor.is_floating_point() && !AllFinite(tensor))
            {
                throw NotFinite(argument, expected[i]);
            }

            result.Add(tensor);
        }

        return result;
    }

    private static bool AllFinite(Tensor tensor)
    {
        using var finite = tensor.isfinite();
        using var all = finite.all();
        return all.item<bool>();
    }

    private static (float Min, float Max) Range(Tensor tensor)
    {
        using var min = tensor.min();
        using var max = tensor.max();
        return (min.item<float>(), max.item<float>());
    }

    private Tensor InputTensor(ModelData data, int i, string argument, List<Tensor> owned)
    {
        var input = Inputs[i];
        if (data.Arrays is { } arrays)
        {
            var fromArray = TensorData.FromArray(arrays[i], input, argument);
            owned.Add(fromArray);
            return fromArray;
        }

        var given = data.Tensors![i];
        if (input.DType == DType.String)
        {
            throw new ArgumentException($"{argument}: input '{input.Layer.Name}' takes strings (dtype string); pass a string array (string[] with one text per sample), not a {given.dtype} tensor.", argument);
        }

        var wanted = input.DType.IsInteger() ? ScalarType.Int64 : ScalarType.Float32;
        if (input.DType.IsInteger() && given.is_floating_point())
        {
            throw new ArgumentException($"{argument}: input '{input.Layer.Name}' takes integer token ids, but a {given.dtype} tensor was given.", argument);
        }

        if (given.dtype == wanted)
        {
            return given;
        }

        var converted = given.to_type(wanted);
        owned.Add(converted);
        return converted;
    }

    private Tensor TargetTensor(ModelData data, int o, string argument, List<Tensor> owned, Loss loss)
    {
        var output = Outputs[o];
        Tensor target;
        if (data.Arrays is { } arrays)
        {
            var array = arrays[o];
            var element = array.GetType().GetElementType();
            if (element != typeof(float) && element != typeof(double) && element != typeof(int) && element != typeof(long))
            {
                throw new ArgumentException($"{argument}: targets for output '{output.Layer.Name}' must be float, double, int or long arrays, got {TensorData.TypeName(array)}.", argument);
            }

            var dims = Enumerable.Range(0, array.Rank).Select(d => (long)array.GetLength(d)).ToArray();
            var flat = new float[array.Length];
            for (var (i, e) = (0, array.GetEnumerator()); e.MoveNext(); i++)
            {
                flat[i] = System.Convert.ToSingle(e.Current, System.Globalization.CultureInfo.InvariantCulture);
            }

            target = tensor(flat, dims);
        }
        else
        {
            target = data.Tensors![o].to_type(ScalarType.Float32);
        }

        owned.Add(target);
        if (loss.SparseTargets)
        {
            CheckClassIds(target, output, loss, argument);
            return target;
        }

        // A (samples,) target for a (None, 1) output is read as (samples, 1), as Keras does.
        if (target.dim() == 1 && output.Shape.Rank == 2 && output.Shape[1] == 1)
        {
            var reshaped = target.reshape(-1, 1);
            owned.Add(reshaped);
            target = reshaped;
        }

        var sizes = target.shape;
        var fits = sizes.Length == output.Shape.Rank
            && Enumerable.Range(1, sizes.Length - 1).All(d => output.Shape[d] is null || output.Shape[d] == sizes[d]);
        if (!fits)
        {
            throw new ArgumentException(
                $"{argument}: output '{output.Layer.Name}' has shape {output.Shape}, so its targets must have shape {output.Shape}{(output.Shape.Rank == 2 && output.Shape[1] == 1 ? " or (samples,)" : string.Empty)}, but the targets given have shape ({string.Join(", ", sizes)}).", argument);
        }

        return target;
    }

    /// <summary>The targets of a sparse loss: whole class ids in [0, classes) (or the loss's ignore_class), one per entry of the output.</summary>
    private static void CheckClassIds(Tensor target, KerasTensor output, Loss loss, string argument)
    {
        // One class id per entry of the output: the output's shape without its class axis (the loss's), or with a trailing 1.
        var axis = (loss.ClassAxis + output.Shape.Rank) % output.Shape.Rank;
        var classes = output.Shape[axis]!.Value;
        var entries = output.Shape.Where((_, d) => d != 0 && d != axis).Select(d => (long?)d).ToArray();
        var idsShape = target.shape.Skip(1).Select(d => (long?)d).ToArray();
        var idsFit = (idsShape.Length == entries.Length || (idsShape.Length == entries.Length + 1 && idsShape[^1] == 1))
            && entries.Select((d, i) => d is null || d == idsShape[i]).All(ok => ok);
        if (!idsFit)
        {
            var expected = string.Join(", ", new[] { "samples" }.Concat(entries.Select(d => d?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "None")));
            throw new ArgumentException($"{argument}: {loss.Name} takes class ids of shape ({expected}) or ({expected}, 1) for output '{output.Layer.Name}' {output.Shape}, but got ({string.Join(", ", target.shape)}).", argument);
        }

        // Ids equal to the loss's ignore_class (often -1 or 255) are no class, and count for nothing.
        using var counted = loss.IgnoreClass is { } ignored ? target[target.ne(Scalars.OfInt(ignored))] : target.alias();
        if (counted.numel() > 0 && Range(counted) is var (min, max) && (min < 0 || max >= classes))
        {
            throw new ArgumentOutOfRangeException(argument, $"{argument}: class ids for output '{output.Layer.Name}' must be in [0, {classes}), but range over [{min}, {max}].");
        }

        using (NewDisposeScope())
        {
            if (target.numel() > 0 && target.frac().abs().max().item<float>() > 0)
            {
                throw new ArgumentException($"{argument}: class ids for output '{output.Layer.Name}' must be whole numbers, but some have a fractional part.", argument);
            }
        }
    }

    private static ArgumentException NotFinite(string argument, KerasTensor input) =>
        new($"{argument}: the data for '{input.Layer.Name}' contains NaN or infinity; expected finite values.", argument);

    private ArgumentException SampleCountMismatch(string argument, int i, long first, long other) =>
        new($"{argument}: all inputs must have the same number of samples, but input '{Inputs[0].Layer.Name}' has {first} and '{Inputs[i].Layer.Name}' has {other}.", argument);

    private void CheckTokenIds(long min, long max, KerasTensor input, string argument)
    {
        foreach (var layer in model.IdCheckersFedBy(input))
        {
            layer.CheckIdRange(min, max, input.Layer.Name, argument);
        }
    }
}
