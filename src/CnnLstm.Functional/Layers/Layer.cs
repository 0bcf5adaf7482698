using System.Globalization;
using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving;
using KerasStyle.Saving.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Base of every layer. A layer is called on symbolic tensors (<see cref="Call(KerasTensor)"/>); on its first call it
/// creates its weights from the input shape, and every call records a <see cref="Node"/>. Calling one layer on several
/// tensors shares its weights.
/// </summary>
public abstract class Layer : IDisposable
{
    private readonly List<Node> inboundNodes = new();
    private readonly List<LayerWeight> weights = new();
    private volatile bool disposed;
    private bool weightsReleased;

    /// <summary>
    /// Weights declared in <see cref="Build(KerasTensor)"/> and not made yet (see <see cref="AddWeight(string, long[], Func{Tensor}, bool)"/>),
    /// this layer's and those of the layers built inside its Build (<see cref="BuildInside"/>).
    /// </summary>
    private readonly List<DeclaredWeight> declared = new();

    /// <summary>The layers built inside this layer's Build, with their weight count before, unbuilt again if this build fails.</summary>
    private readonly List<(Layer Layer, int WeightsBefore)> nestedBuilds = new();

    /// <summary>Whether <see cref="Build(KerasTensor)"/> is running, so that declared weights wait for it to return.</summary>
    private bool building;

    /// <summary>The layer whose Build is building this one (<see cref="BuildInside"/>), which makes this layer's weights; null otherwise.</summary>
    private Layer? buildingInside;
    private int modelOwners;
    private readonly List<Layer> heldShares = new();

    /// <summary>Where this layer's weight lock comes in <see cref="EnterWeights"/>: locks are always taken in creation order, so no two calls can deadlock.</summary>
    private readonly long lockOrder = Interlocked.Increment(ref lastLockOrder);

    private static long lastLockOrder;

    /// <summary>
    /// Guards the weights' values: calls that read them (predictions, evaluation, saving) share it, calls that write
    /// them (a training step, SetWeights, LoadWeights, Dispose) take it alone. Recursive, so a call may nest another
    /// on the same thread.
    /// </summary>
    private readonly ReaderWriterLockSlim weightLock = new(LockRecursionPolicy.SupportsRecursion);
    private TorchSharp.torch.Generator? random;

    /// <summary>Creates a layer with the given name, or a Keras 2 default name (<c>snake_case_N</c>).</summary>
    /// <param name="name">The layer name; null for the default.</param>
    protected Layer(string? name = null)
    {
        if (name is not null && string.IsNullOrWhiteSpace(name))
        {
            throw new ArgumentException($"{GetType().Name}: name must not be empty or white space.", nameof(name));
        }

        Name = name ?? NameScope.UniqueName(DefaultNamePrefix);
    }

    /// <summary>The layer name, unique within a model.</summary>
    public string Name { get; }

    /// <summary>
    /// The Keras class name shown in summaries and configs, e.g. <c>Conv1D</c>: the class's
    /// <see cref="KerasLayerAttribute"/>, else the C# class name.
    /// </summary>
    public virtual string ClassName => KerasLayerAttribute.ClassNameOf(GetType());

    /// <summary>Whether the layer's weights are trained.</summary>
    public bool Trainable { get; set; } = true;

    /// <summary>Whether the weights exist (the layer has been called once).</summary>
    public bool Built { get; private set; }

    /// <summary>The layer's calls, in order.</summary>
    public IReadOnlyList<Node> InboundNodes => inboundNodes;

    /// <summary>The weights in Keras order (e.g. kernel, recurrent_kernel, bias).</summary>
    public IReadOnlyList<LayerWeight> Weights => weights;

    /// <summary>
    /// The weights an optimizer updates, in <see cref="Weights"/> order (Keras' <c>trainable_weights</c>): none while
    /// <see cref="Trainable"/> is false, and never statistics the layer keeps itself (BatchNormalization's moving mean
    /// and variance). A custom training loop takes the gradient of each (keras/src/layers/layer.py).
    /// </summary>
    public IReadOnlyList<LayerWeight> TrainableWeights => Trainable ? weights.Where(w => w.Trainable).ToArray() : Array.Empty<LayerWeight>();

    /// <summary>The other weights, in <see cref="Weights"/> order (Keras' <c>non_trainable_weights</c>): all of them while <see cref="Trainable"/> is false.</summary>
    public IReadOnlyList<LayerWeight> NonTrainableWeights => Trainable ? weights.Where(w => !w.Trainable).ToArray() : weights.ToArray();

    /// <summary>How many outputs one call produces (LSTM with <c>returnState</c> produces three).</summary>
    public virtual int OutputCount => 1;

    /// <summary>The prefix of default names: Keras' snake_case of the class name.</summary>
    protected virtual string DefaultNamePrefix => NameScope.ToSnakeCase(GetType().Name);

    /// <summary>The number of scalars in all weights (Keras' <c>count_params()</c>).</summary>
    /// <exception cref="ObjectDisposedException">The layer has been disposed.</exception>
    public long CountParams()
    {
        ThrowIfDisposed();
        return weights.Sum(w => w.Count);
    }

    /// <summary>Whether the class is one of this library's layers (not a user's subclass), whose Build keeps no tensors but its weights.</summary>
    internal bool IsLibraryLayer => GetType().Assembly == typeof(Layer).Assembly;

    /// <summary>Whether <see cref="Dispose()"/> has been called (the weights are released, or about to be).</summary>
    internal bool IsDisposed => disposed;

    /// <summary>
    /// The layers whose weights this layer's calls read or write: itself, and the layers it runs inside (a wrapper's
    /// inner layers, a model's layers when the model is used as a layer), whose locks it must hold too.
    /// </summary>
    internal virtual IEnumerable<Layer> WeightOwners => new[] { this };

    /// <summary>The distinct <see cref="WeightOwners"/> of <paramref name="layers"/>, in lock order, for <see cref="EnterWeights"/>.</summary>
    internal static Layer[] LockSet(IEnumerable<Layer> layers) =>
        layers.SelectMany(l => l.WeightOwners).Distinct(ReferenceEqualityComparer.Instance).Cast<Layer>().OrderBy(l => l.lockOrder).ToArray();

    /// <summary>
    /// Takes the weight locks of <paramref name="lockSet"/> (from <see cref="LockSet"/>), shared to read the weights or
    /// exclusive to write them, until the result is disposed; waits while another thread holds one the other way.
    /// </summary>
    /// <exception cref="InvalidOperationException">The thread holds one of the locks shared and asks to write (a
    /// weight change from inside a prediction), which would wait for itself.</exception>
    internal static WeightAccess EnterWeights(Layer[] lockSet, bool write)
    {
        var taken = 0;
        try
        {
            for (; taken < lockSet.Length; taken++)
            {
                var gate = lockSet[taken].weightLock;
                if (!write)
                {
                    gate.EnterReadLock();
                    continue;
                }

                if (gate.IsReadLockHeld && !gate.IsWriteLockHeld)
                {
                    throw new InvalidOperationException($"{lockSet[taken].ClassName} '{lockSet[taken].Name}': its weights cannot be changed from inside a call that reads them on the same thread (a prediction, an evaluation or a save).");
                }

                gate.EnterWriteLock();
            }
        }
        catch
        {
            new WeightAccess(lockSet, taken, write).Dispose();
            throw;
        }

        return new WeightAccess(lockSet, lockSet.Length, write);
    }

    /// <summary>Weight locks held by one call; disposing releases them, last taken first.</summary>
    internal readonly struct WeightAccess(Layer[] layers, int count, bool write) : IDisposable
    {
        public void Dispose()
        {
            for (var i = count - 1; i >= 0; i--)
            {
                if (write)
                {
                    layers[i].weightLock.ExitWriteLock();
                }
                else
                {
                    layers[i].weightLock.ExitReadLock();
                }
            }
        }
    }

    /// <summary>Takes this layer's weight locks (see <see cref="EnterWeights"/>) and throws if it was disposed meanwhile.</summary>
    private WeightAccess EnterOwnWeights(bool write)
    {
        var access = EnterWeights(LockSet(new[] { this }), write);
        if (disposed)
        {
            access.Dispose();
            ThrowIfDisposed();
        }

        return access;
    }

    /// <summary>Throws <see cref="ObjectDisposedException"/> naming the layer once it was disposed.</summary>
    private protected void ThrowIfDisposed()
    {
        if (disposed)
        {
            throw DisposedError();
        }
    }

    /// <summary>The <see cref="ObjectDisposedException"/> every use of this layer throws once it was disposed.</summary>
    internal ObjectDisposedException DisposedError() =>
        new($"{ClassName} '{Name}'", $"{ClassName} '{Name}' has been disposed; its weights are released (the last model or wrapper using it was disposed, or it was disposed itself). Create the layer again, or keep a model that uses it alive.");

    /// <summary>Calls the layer on one symbolic tensor and returns its single output.</summary>
    /// <param name="input">The input tensor.</param>
    /// <returns>The output tensor, which remembers this layer, the new node and index 0.</returns>
    public KerasTensor Call(KerasTensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        // Refuse before calling, so a refused call neither builds the layer nor records a node.
        if (OutputCount != 1)
        {
            throw new InvalidOperationException(
                $"{ClassName} '{Name}' returns {OutputCount} tensors for this call; use CallMulti to get all of them.");
        }

        return CallCore(new[] { input }, list: false)[0];
    }

    /// <summary>Calls the layer on one symbolic tensor and returns all of its outputs (e.g. LSTM output, h and c).</summary>
    /// <param name="input">The input tensor.</param>
    /// <returns>The output tensors, in the layer's order.</returns>
    public IReadOnlyList<KerasTensor> CallMulti(KerasTensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return CallCore(new[] { input }, list: false);
    }

    /// <summary>
    /// Calls the layer on a list of symbolic tensors, as Keras' <c>layer([a, b])</c>: merge layers
    /// (<see cref="Concatenate"/>, <see cref="Add"/>, <see cref="Dot"/>, ...) take several, other layers a list of one.
    /// </summary>
    /// <param name="inputs">The input tensors, in order.</param>
    /// <returns>The single output tensor.</returns>
    /// <exception cref="LayerInputException">The layer cannot take these inputs (the message names the layer and
    /// every input shape).</exception>
    public KerasTensor Call(IReadOnlyList<KerasTensor> inputs)
    {
        var checkedInputs = CheckList(inputs);
        if (OutputCount != 1)
        {
            throw new InvalidOperationException(
                $"{ClassName} '{Name}' returns {OutputCount} tensors for this call; use CallMulti to get all of them.");
        }

        return CallCore(checkedInputs, list: true)[0];
    }

    /// <summary>Calls the layer on several symbolic tensors: <c>new Add().Call(a, b)</c> is Keras' <c>Add()([a, b])</c>.</summary>
    /// <param name="inputs">The input tensors, in order.</param>
    /// <returns>The single output tensor.</returns>
    public KerasTensor Call(params KerasTensor[] inputs) => Call((IReadOnlyList<KerasTensor>)inputs);

    /// <summary>Calls the layer on a list of symbolic tensors and returns all of its outputs.</summary>
    /// <param name="inputs">The input tensors, in order.</param>
    /// <returns>The output tensors, in the layer's order.</returns>
    public IReadOnlyList<KerasTensor> CallMulti(IReadOnlyList<KerasTensor> inputs) => CallCore(CheckList(inputs), list: true);

    private KerasTensor[] CheckList(IReadOnlyList<KerasTensor> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var copy = inputs.ToArray();
        for (var i = 0; i < copy.Length; i++)
        {
            if (copy[i] is null)
            {
                throw new ArgumentNullException(nameof(inputs), $"{ClassName} '{Name}': input {i} of the list is null.");
            }
        }

        return copy.Length > 0 ? copy : throw InputError("was called on an empty list of inputs; expected at least one tensor.");
    }

    /// <summary>
    /// Calls the layer on concrete data, as Keras 3's <c>layer(x)</c> on tensors (eager use): on the first call the
    /// layer builds from the data's shape (batch axis unknown), as on a symbolic call; the input is checked the same way
    /// (<see cref="LayerInputException"/> before anything changes), no node is recorded, and the output is computed at
    /// once. Named <c>Invoke</c>, C#'s verb for calling a callable (as <c>Loss.Invoke</c> and <c>Metric.Invoke</c> are
    /// Keras' <c>loss(...)</c> and <c>metric(...)</c>), because the overridable <see cref="Call(Tensor, bool, Tensor)"/>
    /// is Keras' <c>call</c> and <see cref="Call(KerasTensor)"/> builds graphs. Autograd stays as the caller set it, so a custom training
    /// loop can differentiate the result.
    /// </summary>
    /// <param name="input">The input, (batch, ...): float32 (other floating types are cast to it, as Keras autocasts) or
    /// integer ids.</param>
    /// <param name="training">True to compute as in training (dropout on); default false, as Keras' inference.</param>
    /// <param name="mask">The input's mask, (batch, steps) booleans (true for a step to use), or null.</param>
    /// <returns>A new tensor the caller owns: dispose it, or open a <c>torch.NewDisposeScope()</c> around the call
    /// (the result joins it; the call's temporaries are already released).</returns>
    /// <exception cref="LayerInputException">The layer cannot take this input (the message names the layer and the shapes).</exception>
    /// <exception cref="ArgumentException">The tensor's dtype is neither floating nor integer.</exception>
    /// <exception cref="InvalidOperationException">The layer has several outputs (use <see cref="InvokeMulti"/>).</exception>
    /// <exception cref="ObjectDisposedException">The layer has been disposed.</exception>
    public Tensor Invoke(Tensor input, bool training = false, Tensor? mask = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        return InvokeCore(new[] { input }, new[] { mask }, list: false, training, single: true)[0];
    }

    /// <summary>Calls the layer on several concrete tensors (Keras' <c>layer([a, b])</c>); see <see cref="Invoke(Tensor, bool, Tensor)"/>.</summary>
    /// <param name="inputs">The inputs, in order.</param>
    /// <returns>The single output, owned by the caller.</returns>
    public Tensor Invoke(params Tensor[] inputs) => Invoke((IReadOnlyList<Tensor>)inputs);

    /// <summary>Calls the layer on a list of concrete tensors with their masks; see <see cref="Invoke(Tensor, bool, Tensor)"/>.</summary>
    /// <param name="inputs">The inputs, in order.</param>
    /// <param name="training">True to compute as in training.</param>
    /// <param name="masks">One mask per input (null where it has none), or null for none.</param>
    /// <returns>The single output, owned by the caller.</returns>
    public Tensor Invoke(IReadOnlyList<Tensor> inputs, bool training = false, IReadOnlyList<Tensor?>? masks = null) =>
        InvokeCore(inputs, masks, list: true, training, single: true)[0];

    /// <summary>Calls the layer on concrete tensors and returns all of its outputs (e.g. LSTM output, h and c); see <see cref="Invoke(Tensor, bool, Tensor)"/>.</summary>
    /// <param name="inputs">The inputs, in order.</param>
    /// <param name="training">True to compute as in training.</param>
    /// <param name="masks">One mask per input (null where it has none), or null for none.</param>
    /// <returns>The outputs in the layer's order, each owned by the caller.</returns>
    public IReadOnlyList<Tensor> InvokeMulti(IReadOnlyList<Tensor> inputs, bool training = false, IReadOnlyList<Tensor?>? masks = null) =>
        InvokeCore(inputs, masks, list: true, training, single: false);

    /// <summary>
    /// Calls the layer on a C# array, as <see cref="Invoke(Tensor, bool, Tensor)"/> on the same data: float or double
    /// arrays become float32, int or long arrays token ids.
    /// </summary>
    /// <param name="input">Samples along the first dimension, e.g. float[,] (batch, features).</param>
    /// <param name="training">True to compute as in training.</param>
    /// <returns>The single output as a new float array of its rank, e.g. float[,] for (batch, units).</returns>
    /// <exception cref="ArgumentException">The array's element type is not float, double, int or long.</exception>
    /// <exception cref="LayerInputException">The layer cannot take this input.</exception>
    /// <remarks>A string array (<c>string[]</c>, <c>string[,]</c>) is text for a layer that reads it
    /// (<see cref="TakesStrings"/>: TextVectorization, StringLookup); such a layer's int64 output comes back as
    /// <c>long[...]</c>, a string output (StringLookup with <c>invert</c>) as <c>string[...]</c>.</remarks>
    public Array Invoke(Array input, bool training = false)
    {
        ArgumentNullException.ThrowIfNull(input);
        using var scope = NewDisposeScope();
        var text = input.GetType().GetElementType() == typeof(string);
        var output = text ? InvokeCore(new[] { StringTensors.Register(input) }, null, list: false, training, single: true, stringInput: true)[0]
            : Invoke(TensorData.FromArray(input, nameof(input)), training);
        return StringOutput ? StringTensors.ToArray(StringTensors.Read(output), output.shape)
            : (text || this is IndexLookup) && output.dtype == ScalarType.Int64 ? TensorData.ToLongArray(output) : TensorData.ToArray(output);
    }

    /// <summary>
    /// Whether the layer reads string values (<see cref="DType.String"/>): text layers (TextVectorization,
    /// StringLookup, Hashing) and models used as layers. Every other layer refuses a string input with a
    /// <see cref="LayerInputException"/> when it is called, before its own checks.
    /// </summary>
    internal virtual bool TakesStrings => false;

    /// <summary>Whether the layer's output is string handles (StringLookup with <c>invert</c>).</summary>
    internal virtual bool StringOutput => false;

    private Tensor[] InvokeCore(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?>? masks, bool list, bool training, bool single, bool stringInput = false)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Count == 0 || inputs.Contains(null!))
        {
            throw new ArgumentException($"{ClassName} '{Name}': expected at least one input tensor and no null ones, but got {inputs.Count} with {inputs.Count(t => t is null)} null.", nameof(inputs));
        }

        if (masks is not null && masks.Count != inputs.Count)
        {
            throw new ArgumentException($"{ClassName} '{Name}': {masks.Count} masks were given for {inputs.Count} inputs; give one per input (null where an input has none).", nameof(masks));
        }

        if (single && OutputCount != 1)
        {
            throw new InvalidOperationException($"{ClassName} '{Name}' returns {OutputCount} tensors for this call; use InvokeMulti to get all of them.");
        }

        var specs = new KerasTensor[inputs.Count];
        for (var i = 0; i < specs.Length; i++)
        {
            if (inputs[i].dim() == 0)
            {
                throw InputError($"input {i} is a scalar; a layer takes a batch, (batch, ...), with the samples along the first axis.");
            }

            var dtype = stringInput ? DType.String : inputs[i].dtype switch
            {
                ScalarType.Int32 => DType.Int32,
                ScalarType.Int64 => DType.Int64,
                _ when is_floating_point(inputs[i]) => DType.Float32,
                var other => throw new ArgumentException($"{ClassName} '{Name}': input {i} is a {other} tensor; a layer takes floating point data or integer ids (Int32, Int64).", nameof(inputs)),
            };
            specs[i] = new KerasTensor(Shape.WithBatch(inputs[i].shape.Skip(1).Select(d => (int?)checked((int)d))), dtype, this, $"input {i} (a tensor of shape ({string.Join(", ", inputs[i].shape)}))")
            {
                BatchSize = checked((int)inputs[i].shape[0]),
            };
        }

        // The same checks and build as a symbolic call, before anything runs.
        Prepare(specs, list, initialStates: 0);
        using var access = EnterOwnWeights(write: false);
        using var scope = NewDisposeScope();
        var values = inputs.Select(t => is_floating_point(t) && t.dtype != ScalarType.Float32 ? t.to_type(ScalarType.Float32) : t).ToArray();
        var outputs = Forward(values, masks ?? new Tensor?[inputs.Count], training, specs.Select(t => t.DType).ToArray()).Outputs;
        // A new handle per output: an output may be the caller's input itself, or another output.
        return outputs.Select(o => o.alias().MoveToOuterDisposeScope()).ToArray();
    }

    /// <summary>
    /// The layer's config in the Keras 3 form (Keras' <c>get_config()</c>): <c>name</c>, <c>trainable</c>,
    /// <c>dtype</c> and the constructor arguments under their Keras names, e.g. <c>kernel_size: [5]</c>. The registered
    /// factory of <see cref="ClassName"/> (see <see cref="Saving.LayerRegistry"/>) turns it back into an equal layer.
    /// </summary>
    public virtual JsonObject GetConfig()
    {
        var config = new JsonObject
        {
            ["name"] = Name,
            ["trainable"] = Trainable,
            ["dtype"] = Float32Policy(),
        };
        if (ActivityRegularizer is not null)
        {
            // Keras 3's Layer.get_config writes it only when set (a layer that lists it again keeps this position).
            config["activity_regularizer"] = ActivityRegularizer.Serialize();
        }

        return config;
    }

    /// <summary>
    /// The penalty on this layer's outputs (Keras' <c>activity_regularizer</c>, default null), settable on every layer
    /// as in Keras: each call while training or evaluating adds, per output, the penalty divided by the output's
    /// batch size to the loss (Keras 3.16's <c>Layer.__call__</c>). A layer wrapped in <see cref="TimeDistributed"/>
    /// adds none, as Keras' wrapper runs the inner layer's <c>call</c>.
    /// </summary>
    public Regularizers.Regularizer? ActivityRegularizer { get; set; }

    /// <summary>The float32 dtype policy as Keras 3.16 serializes it in every layer config.</summary>
    internal static JsonObject Float32Policy() => new()
    {
        ["module"] = "keras",
        ["class_name"] = "DTypePolicy",
        ["config"] = new JsonObject { ["name"] = "float32" },
        ["registered_name"] = null,
    };

    /// <summary>
    /// Where Keras 3 keeps this layer's variables, below <c>layers/&lt;path&gt;/</c> in a weights file: <c>vars</c>,
    /// or <c>cell/vars</c> for recurrent layers, whose weights belong to their cell.
    /// </summary>
    internal virtual string KerasVarsPath => "vars";

    /// <summary>
    /// Whether Keras builds this layer when it is made (<c>_build_at_init</c>: activations, dropout, noise, pooling,
    /// Masking), so that its config records no <c>build_config</c>.
    /// </summary>
    internal virtual bool BuiltAtInit => false;

    /// <summary>
    /// Where Keras 3 keeps each group of this layer's variables, below <c>layers/&lt;path&gt;/</c>: one group at
    /// <see cref="KerasVarsPath"/> for most layers; a wrapper lists its inner layers' (<c>layer/vars</c>,
    /// <c>forward_layer/cell/vars</c>, ...).
    /// </summary>
    internal virtual IEnumerable<(string Path, IReadOnlyList<LayerWeight> Weights)> KerasVarGroups => new[] { (KerasVarsPath, Weights) };

    /// <summary>
    /// The layers that read this layer's input <paramref name="index"/> as it is and check the range of its integer
    /// values (<see cref="CheckIdRange"/>), which a model does on its inputs before anything runs: the layer itself
    /// for an Embedding, the wrapped layer's for a wrapper, the inner model's for a model used as a layer; none for
    /// other layers.
    /// </summary>
    internal virtual IEnumerable<Layer> IdCheckersFedBy(int index) => Array.Empty<Layer>();

    /// <summary>
    /// Refuses integer inputs ranging over [<paramref name="min"/>, <paramref name="max"/>] that this layer cannot
    /// take (Embedding: ids outside [0, inputDim)), with an <see cref="ArgumentOutOfRangeException"/> for
    /// <paramref name="argument"/> naming the model input and the layer; layers listed by <see cref="IdCheckersFedBy"/> override it.
    /// </summary>
    internal virtual void CheckIdRange(long min, long max, string input, string argument)
    {
    }

    /// <summary>
    /// The input (sample shape and dtype) a Sequential model gets when it starts with this layer and no
    /// <see cref="Input"/>, as Keras 2 lets an Embedding with <c>input_length</c> start one; null (the default): the
    /// layer needs an input first.
    /// </summary>
    internal virtual (int[] Shape, DType DType)? ImplicitInput => null;

    /// <summary>
    /// The weight values in Keras order and layout, as Keras' <c>get_weights()</c>; one consistent state, read while
    /// no training step or weight write runs on them.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The layer has been disposed.</exception>
    public IReadOnlyList<WeightArray> GetWeights()
    {
        using var access = EnterOwnWeights(write: false);
        return weights.Select(w => w.Get()).ToArray();
    }

    /// <summary>
    /// Sets all weights from values in Keras order and layout, as Keras' <c>set_weights()</c>. Every value is checked
    /// before any is written, so a wrong count or shape changes nothing.
    /// </summary>
    /// <param name="values">One value per weight.</param>
    /// <exception cref="ObjectDisposedException">The layer has been disposed.</exception>
    public void SetWeights(IReadOnlyList<WeightArray> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        ThrowIfDisposed();
        CheckWeights(values, 0, values.Count);
        // Predictions running on these weights finish first, and later ones see all of the new values.
        using var access = EnterOwnWeights(write: true);
        AssignWeights(values, 0);
    }

    /// <summary>Throws unless <paramref name="count"/> values from <paramref name="offset"/> fit this layer's weights.</summary>
    internal void CheckWeights(IReadOnlyList<WeightArray> values, int offset, int count)
    {
        if (count != weights.Count)
        {
            throw new ArgumentException(
                $"{ClassName} '{Name}' has {weights.Count} weights ({string.Join(", ", weights.Select(w => $"{w.Name} {WeightArray.ShapeText(w.Shape)}"))}), but {count} values were given.", nameof(values));
        }

        for (var i = 0; i < count; i++)
        {
            var value = values[offset + i] ?? throw new ArgumentNullException(nameof(values), $"{ClassName} '{Name}': value for weight '{weights[i].Name}' is null.");
            if (!value.Shape.SequenceEqual(weights[i].Shape))
            {
                throw new ArgumentException(
                    $"{ClassName} '{Name}': weight '{weights[i].Name}' has shape {WeightArray.ShapeText(weights[i].Shape)}, but the value given has shape {value.ShapeText()}.", nameof(values));
            }
        }
    }

    /// <summary>Writes checked values into the weights.</summary>
    internal void AssignWeights(IReadOnlyList<WeightArray> values, int offset)
    {
        for (var i = 0; i < weights.Count; i++)
        {
            weights[i].Set(values[offset + i]);
        }
    }

    /// <summary>
    /// This layer's own random generator (initial weights, dropout masks), made on first use from the seed stream of
    /// the thread that uses it (<c>Utils.SetRandomSeed</c>); see <c>Engine/RandomStreams.cs</c>.
    /// </summary>
    private protected TorchSharp.torch.Generator Random => random ??= RandomStreams.NewGenerator();

    /// <summary>
    /// An owner (a model whose graph uses this layer, a wrapper around it, a model used as a layer) takes a share of
    /// it (see <see cref="ReleaseByModel"/> and "Ownership" in docs/architecture.md).
    /// </summary>
    internal void RetainByModel() => Interlocked.Increment(ref modelOwners);

    /// <summary>
    /// An owner of this layer is disposed: the layer's weights are released when the last owner lets go, so
    /// disposing one model never breaks another that shares the layer; a layer the user still holds then throws
    /// <see cref="ObjectDisposedException"/> naming it.
    /// </summary>
    internal void ReleaseByModel()
    {
        if (Interlocked.Decrement(ref modelOwners) == 0)
        {
            Dispose();
        }
    }

    /// <summary>
    /// Makes this layer an owner of <paramref name="layer"/> (a wrapper's inner layer, a model's layers when the model
    /// is used as a layer): the share is released when this layer is disposed.
    /// </summary>
    private protected T HoldShare<T>(T layer)
        where T : Layer
    {
        layer.RetainByModel();
        lock (heldShares)
        {
            heldShares.Add(layer);
        }

        return layer;
    }

    /// <summary>
    /// Releases the layer's weights, and its shares of the layers it holds (see <see cref="HoldShare"/>). Calls
    /// running on them on other threads (a model's Predict, a training step) finish first; every use afterwards
    /// throws <see cref="ObjectDisposedException"/> naming the layer. Disposing twice is harmless.
    /// </summary>
    public void Dispose()
    {
        using (EnterWeights(LockSet(new[] { this }), write: true))
        {
            if (disposed)
            {
                return;
            }

            disposed = true;
            Dispose(true);
        }

        // Outside this layer's lock: releasing may dispose the held layers, whose locks come earlier in lock order.
        Layer[] held;
        lock (heldShares)
        {
            held = heldShares.ToArray();
            heldShares.Clear();
        }

        foreach (var layer in held)
        {
            layer.ReleaseByModel();
        }

        GC.SuppressFinalize(this);
    }

    /// <summary>Disposes the weight variables this layer created (not those it lists from the layers it holds).</summary>
    /// <param name="disposing">True when called from <see cref="Dispose()"/>.</param>
    protected virtual void Dispose(bool disposing)
    {
        if (weightsReleased)
        {
            return;
        }

        weightsReleased = true;
        if (disposing)
        {
            foreach (var w in weights.Where(w => ReferenceEquals(w.Layer, this)))
            {
                w.ReleaseVariable();
            }

            random?.Dispose();
        }
    }

    /// <summary>
    /// Checks the input and returns the output shapes and dtypes (Keras' <c>compute_output_spec</c>); called on every
    /// call, symbolic or eager, before <see cref="Build(KerasTensor)"/> on the first. Throw <see cref="LayerInputException"/>
    /// (see <see cref="InputError"/>) naming the layer and the shapes when the input does not fit, so errors surface
    /// when the graph is built and before anything changes. Every one-input layer overrides it; a layer that takes only
    /// several inputs overrides <see cref="ComputeOutputSpecs(IReadOnlyList{KerasTensor}, bool)"/> instead.
    /// </summary>
    /// <param name="input">The input's shape (batch axis unknown) and dtype.</param>
    /// <returns>One (shape, dtype) per output.</returns>
    /// <exception cref="NotImplementedException">The layer overrides neither form.</exception>
    protected virtual IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input) =>
        throw new NotImplementedException($"{ClassName} '{Name}' does not override ComputeOutputSpecs, so it cannot state its output for {input.Label} with shape {input.Shape}.");

    /// <summary>
    /// Creates the weights from the first input's shape and dtype (Keras' <c>build(input_shape)</c>), declaring each
    /// once with <see cref="AddWeight(string, int[], string, bool)"/> or <see cref="AddWeight(string, long[], Func{Tensor}, bool)"/>
    /// (name, Keras shape, initializer); called once, on the first call (symbolic or eager), after
    /// <see cref="ComputeOutputSpecs(KerasTensor)"/> accepted the input. A weight added by a build that throws is
    /// removed again.
    /// </summary>
    /// <param name="input">The first input's shape (batch axis unknown) and dtype.</param>
    protected virtual void Build(KerasTensor input)
    {
    }

    /// <summary>
    /// Computes the layer on one concrete input (Keras' <c>call(inputs, training, mask)</c>) with TorchSharp operations
    /// on the input and the weights' <see cref="LayerWeight.Variable"/>s, so autograd differentiates it and <c>Fit</c>
    /// trains it. The library calls it inside a dispose scope: temporaries need no disposing, and the result must be a
    /// tensor made here (or the input itself). A layer with several inputs or outputs overrides
    /// <see cref="Call(IReadOnlyList{Tensor}, bool, IReadOnlyList{Tensor})"/> instead.
    /// </summary>
    /// <param name="input">The input batch, (batch, ...) as <see cref="ComputeOutputSpecs(KerasTensor)"/> accepted it.</param>
    /// <param name="training">True while training (dropout on).</param>
    /// <param name="mask">The input's mask, (batch, steps) booleans, true for a step to use; null when it has none.</param>
    /// <returns>The output, shaped as <see cref="ComputeOutputSpecs(KerasTensor)"/> promised.</returns>
    /// <exception cref="NotImplementedException">The layer overrides neither form.</exception>
    protected virtual Tensor Call(Tensor input, bool training, Tensor? mask) =>
        throw new NotImplementedException($"{ClassName} '{Name}' does not override Call, so it cannot compute its output.");

    /// <summary>
    /// Computes one call on several concrete inputs or with several outputs (Keras' <c>call</c> on a list); the default
    /// runs <see cref="Call(Tensor, bool, Tensor)"/> on a single input. A recurrent layer's initial states come last.
    /// </summary>
    /// <param name="inputs">One tensor per input of the call, in order.</param>
    /// <param name="training">True while training (dropout on).</param>
    /// <param name="masks">One mask per input, null where it has none.</param>
    /// <returns>One tensor per output (<see cref="OutputCount"/>), shaped as <see cref="ComputeOutputSpecs(IReadOnlyList{KerasTensor}, bool)"/> promised.</returns>
    protected virtual IReadOnlyList<Tensor> Call(IReadOnlyList<Tensor> inputs, bool training, IReadOnlyList<Tensor?> masks) =>
        new[] { Call(inputs[0], training, masks[0]) };

    /// <summary>
    /// The output specs of one call on several inputs (<paramref name="list"/>: called on a list, <c>layer([a])</c>);
    /// a layer takes one tensor, or a list of one, unless it overrides this to take several (merge layers, a custom
    /// layer over <c>[query, value]</c>). The same rules as <see cref="ComputeOutputSpecs(KerasTensor)"/>.
    /// </summary>
    /// <param name="inputs">The inputs' shapes and dtypes, in order.</param>
    /// <param name="list">Whether the layer was called on a list.</param>
    /// <returns>One (shape, dtype) per output.</returns>
    protected virtual IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(IReadOnlyList<KerasTensor> inputs, bool list) =>
        inputs.Count == 1 ? ComputeOutputSpecs(inputs[0])
            : throw InputError($"takes one input tensor, but was called on {inputs.Count}: {Describe(inputs)}.");

    /// <summary>Creates the weights on the first call on several inputs; the default builds from the first, with <see cref="Build(KerasTensor)"/>.</summary>
    /// <param name="inputs">The inputs' shapes and dtypes, in order.</param>
    protected virtual void Build(IReadOnlyList<KerasTensor> inputs) => Build(inputs[0]);

    /// <summary>
    /// Runs one call on concrete tensors and computes its outputs' masks: the one step of a graph run (every node of a
    /// model, nested models included, as Keras' <c>Function._run_through_graph</c>) and of an eager call. Outputs come
    /// from <see cref="Call(IReadOnlyList{Tensor}, bool, IReadOnlyList{Tensor})"/>; the outputs flagged by
    /// <see cref="OutputMasks"/> get <see cref="ComputeMask"/> (Keras' <c>__call__</c> setting <c>_keras_mask</c>).
    /// A model used as a layer overrides it to run its own graph.
    /// </summary>
    /// <param name="inputs">One tensor per input of the call.</param>
    /// <param name="masks">One mask per input, null where it has none (always null for initial states).</param>
    /// <param name="training">True while training.</param>
    /// <returns>The outputs, and their masks (null: no output has one).</returns>
    internal virtual (IReadOnlyList<Tensor> Outputs, Tensor?[]? Masks) Forward(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?> masks, bool training)
    {
        var outputs = Call(inputs, training, masks);
        Regularizers.RegularizationLosses.RecordActivity(this, outputs);
        return (outputs, OutputMaskValues(inputs, masks));
    }

    /// <summary>
    /// <see cref="Forward(IReadOnlyList{Tensor}, IReadOnlyList{Tensor}, bool)"/> told each input's dtype, as the graph
    /// run and eager calls know it: int64 tensors of <see cref="DType.String"/> inputs hold string handles, which a
    /// layer taking both numbers and strings (Hashing) cannot tell from ids by their values.
    /// </summary>
    internal virtual (IReadOnlyList<Tensor> Outputs, Tensor?[]? Masks) Forward(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?> masks, bool training, IReadOnlyList<DType> inputDTypes) =>
        Forward(inputs, masks, training);

    /// <summary>The masks of one call's outputs (see <see cref="Forward(IReadOnlyList{Tensor}, IReadOnlyList{Tensor}, bool)"/>); null when no output has one.</summary>
    internal Tensor?[]? OutputMaskValues(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?> masks)
    {
        var masked = new bool[masks.Count];
        for (var i = 0; i < masked.Length; i++)
        {
            masked[i] = masks[i] is not null;
        }

        var flags = OutputMasks(masked);
        if (Array.IndexOf(flags, true) < 0 || ComputeMask(inputs, masks) is not { } mask)
        {
            return null;
        }

        var result = new Tensor?[flags.Length];
        for (var o = 0; o < flags.Length; o++)
        {
            result[o] = flags[o] ? mask : null;
        }

        return result;
    }

    /// <summary>
    /// Whether the layer passes the mask of its (first) input on (Keras' <c>supports_masking</c>): to its outputs
    /// through <see cref="ComputeMask"/>, which by default returns it unchanged (Dense, Dropout, Activation). Other
    /// layers drop an incoming mask, with a warning when they are called. The default is false.
    /// </summary>
    public virtual bool SupportsMasking => false;

    /// <summary>Whether the layer reads its input's mask (recurrent layers skip masked steps).</summary>
    internal virtual bool UsesMask => false;

    /// <summary>
    /// Which outputs of a call carry a mask (Keras' <c>compute_mask</c> being non-null), given which inputs carry one:
    /// decided when the layer is called (from <see cref="KerasTensor.HasMask"/>) and again when the model runs, where
    /// a model used as a layer receives its caller's masks.
    /// </summary>
    internal virtual bool[] OutputMasks(IReadOnlyList<bool> inputMasked) =>
        Enumerable.Repeat(SupportsMasking && inputMasked[0], OutputCount).ToArray();

    /// <summary>
    /// The mask of the outputs that carry one (Keras' <c>compute_mask(inputs, previous_mask)</c>), from the concrete
    /// inputs and their masks; null for none. The default passes the first input's mask on; it is asked only when
    /// <see cref="SupportsMasking"/> (or a built-in rule) says an output carries a mask.
    /// </summary>
    /// <param name="inputs">The call's inputs.</param>
    /// <param name="masks">Their masks, null where an input has none.</param>
    /// <returns>The outputs' mask, (batch, steps) booleans, or null.</returns>
    protected virtual Tensor? ComputeMask(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?> masks) => masks[0];

    /// <summary>
    /// Writes one call of the layer into an ONNX graph (<c>Model.Export</c>) and returns the names of its outputs;
    /// the layer reads its inputs' masks from <paramref name="call"/> where it uses them. By default the layer's
    /// <see cref="ExportOnnx(OnnxBuilder)"/>.
    /// </summary>
    internal virtual IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call) => ExportOnnx(new OnnxBuilder(graph, this, call));

    /// <summary>
    /// The layer's ONNX form for <c>Model.Export</c>, for a layer written outside this library: one call's nodes,
    /// in standard ONNX operators (opset 17) over <see cref="OnnxBuilder.Inputs"/> and the layer's weights; returns
    /// the names of the outputs, one per output of the call. An input's mask passes to the outputs as in
    /// <see cref="Call(KerasTensor)"/>.
    /// </summary>
    /// <param name="onnx">Adds nodes and constants to the graph being exported.</param>
    /// <returns>The output names.</returns>
    /// <exception cref="NotSupportedException">The layer has no ONNX form (the default), naming it.</exception>
    protected virtual IReadOnlyList<string> ExportOnnx(OnnxBuilder onnx) =>
        throw OnnxGraph.Unsupported(this, "has no ONNX form in this library; a custom layer states one by overriding ExportOnnx(OnnxBuilder).");

    /// <summary>The ONNX mask of the outputs <see cref="OutputMasks"/> flags (as <see cref="ComputeMask"/>): by default the first input's.</summary>
    internal virtual string? ExportOnnxMask(OnnxGraph graph, OnnxCall call) => call.Input.Mask;

    /// <summary>Every input with its origin and shape, for messages.</summary>
    private protected static string Describe(IReadOnlyList<KerasTensor> inputs) => string.Join(", ", inputs.Select(t => $"{t.Label} with shape {t.Shape}"));

    /// <summary>Records a call of this layer.</summary>
    private protected void RegisterNode(IReadOnlyList<KerasTensor> inputs, IReadOnlyList<KerasTensor> outputs, bool list = false, int initialStates = 0) =>
        inboundNodes.Add(new Node(this, inboundNodes.Count, inputs, outputs, list, initialStates));

    /// <summary>The activation this layer applies last, if any; losses use its input as logits, as Keras does.</summary>
    internal virtual string? FinalActivation => null;

    /// <summary>The layer's output before <see cref="FinalActivation"/>.</summary>
    internal virtual Tensor ForwardPreActivation(Tensor input, bool training) =>
        throw new InvalidOperationException($"{ClassName} '{Name}' has no final activation.");

    /// <summary>
    /// Adds a weight to the layer, as Keras' <c>add_weight(shape, initializer, trainable, name)</c>: call it from
    /// <see cref="Build(KerasTensor)"/>. Weights are listed, saved and loaded in the order they are added; a
    /// non-trainable one (<paramref name="trainable"/> false: values the layer keeps or updates itself, such as
    /// statistics or a fixed scale) is saved and loaded but never changed by <c>Fit</c>, and summaries count it as
    /// non-trainable.
    /// </summary>
    /// <param name="name">The Keras weight name, e.g. <c>kernel</c>.</param>
    /// <param name="shape">The weight's shape.</param>
    /// <param name="initializer">A Keras initializer identifier, as <c>keras.initializers.get</c> takes it:
    /// <c>glorot_uniform</c> (the default, Keras' default for float weights), <c>zeros</c>, <c>ones</c>,
    /// <c>random_normal</c>/<c>normal</c>, <c>he_normal</c>, <c>orthogonal</c>... or a class name; each with its
    /// Keras defaults, unseeded (drawing from the layer's generator).</param>
    /// <param name="trainable">Whether <c>Fit</c> trains it (default true).</param>
    /// <returns>The weight; its <see cref="LayerWeight.Variable"/> is what <see cref="Call(Tensor, bool, Tensor)"/> computes with.</returns>
    /// <exception cref="ArgumentException">An unknown initializer, one that cannot fill the shape, or a dimension that is not positive.</exception>
    protected LayerWeight AddWeight(string name, int[] shape, string initializer = "glorot_uniform", bool trainable = true)
    {
        ArgumentNullException.ThrowIfNull(initializer);
        Initializers.Initializer value;
        try
        {
            value = Initializers.Initializer.Get(JsonValue.Create(initializer))!;
        }
        catch (Exception e) when (e is FormatException or NotSupportedException)
        {
            throw new ArgumentException($"{ClassName} '{Name}': weight '{name}': {e.Message}", nameof(initializer), e);
        }

        return AddWeight(name, shape, value, trainable);
    }

    /// <summary>Adds a weight initialised by <paramref name="initializer"/> (see <see cref="AddWeight(string, int[], string, bool)"/>).</summary>
    /// <param name="name">The Keras weight name, e.g. <c>kernel</c>.</param>
    /// <param name="shape">The weight's shape.</param>
    /// <param name="initializer">The initializer: seeded, its own values; unseeded, drawn from the layer's generator.</param>
    /// <param name="trainable">Whether <c>Fit</c> trains it (default true).</param>
    /// <returns>The weight.</returns>
    /// <exception cref="ArgumentException">The initializer cannot fill the shape, or a dimension is not positive.</exception>
    protected LayerWeight AddWeight(string name, int[] shape, Initializers.Initializer initializer, bool trainable = true)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(initializer);
        if (shape.Any(d => d <= 0))
        {
            throw new ArgumentException($"{ClassName} '{Name}': weight '{name}' has shape ({string.Join(", ", shape)}); every dimension must be positive.", nameof(shape));
        }

        var dims = shape.Select(d => (long)d).ToArray();
        return AddWeight(name, dims, Initial(initializer, dims, name), trainable);
    }

    /// <summary>
    /// The initial value of a weight of <paramref name="shape"/> from <paramref name="initializer"/> (a seeded one
    /// draws from its seed, an unseeded one from the layer's generator), checked now: a shape the initializer cannot
    /// fill (Orthogonal below rank 2, Identity other than rank 2) is refused before any weight is made.
    /// </summary>
    /// <exception cref="ArgumentException">The initializer cannot fill the shape, naming the layer and the weight.</exception>
    private protected Func<Tensor> Initial(Initializers.Initializer initializer, long[] shape, string weight)
    {
        ArgumentNullException.ThrowIfNull(initializer);
        if (initializer.WhyNot(shape) is { } why)
        {
            var reported = Outermost;
            throw new ArgumentException($"{reported.ClassName} '{reported.Name}': the initializer {initializer.ClassName} of weight '{weight}' cannot fill its shape ({string.Join(", ", shape)}): {why}");
        }

        return () => initializer.Make(shape, Random);
    }

    /// <summary>Adds a weight with the given initial value (see <see cref="AddWeight(string, int[], string, bool)"/>).</summary>
    /// <param name="name">The Keras weight name, e.g. <c>kernel</c>.</param>
    /// <param name="shape">The weight's shape.</param>
    /// <param name="value">The initial value, float32 of that shape; the layer takes ownership of it.</param>
    /// <param name="trainable">Whether <c>Fit</c> trains it (default true).</param>
    /// <returns>The weight.</returns>
    /// <exception cref="ArgumentException">The value's shape or dtype differs.</exception>
    protected LayerWeight AddWeight(string name, int[] shape, Tensor value, bool trainable = true)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(value);
        if (!value.shape.SequenceEqual(shape.Select(d => (long)d)) || value.dtype != ScalarType.Float32)
        {
            throw new ArgumentException($"{ClassName} '{Name}': weight '{name}' has shape ({string.Join(", ", shape)}), but its initial value is {value.dtype} of shape ({string.Join(", ", value.shape)}); expected Float32 of that shape.", nameof(value));
        }

        var weight = new LayerWeight(this, name, shape, NewVariable(value, requiresGrad: trainable)) { Learned = trainable };
        weights.Add(weight);
        return weight;
    }

    /// <summary>
    /// Declares a weight in <see cref="Build(KerasTensor)"/>, as Keras' <c>add_weight(name, shape, initializer,
    /// trainable)</c>; weights are listed in the order they are added. Nothing is allocated yet: when Build returns,
    /// the sizes of all the weights it declared are checked (a layer too large for this machine is refused with an
    /// <see cref="ArgumentOutOfRangeException"/> naming it, instead of ending the process inside libtorch's
    /// allocator), then each initializer runs, in declaration order. Outside Build the weight is made at once.
    /// </summary>
    /// <param name="name">The Keras weight name, e.g. <c>kernel</c>.</param>
    /// <param name="shape">The shape in Keras layout, in 64 bits so that sizes such as <c>4 * units</c> are checked
    /// instead of wrapping.</param>
    /// <param name="initializer">Makes the initial value, of exactly <paramref name="shape"/> (the layer takes ownership).</param>
    /// <param name="trainable">Whether the optimizer updates it (default true); false for statistics the layer
    /// updates itself, which summaries count as non-trainable.</param>
    /// <returns>The weight; its <see cref="LayerWeight.Variable"/>, which <see cref="Call(Tensor, bool, Tensor)"/> uses,
    /// exists once Build has returned.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative or larger than <see cref="int.MaxValue"/>.</exception>
    protected LayerWeight AddWeight(string name, long[] shape, Func<Tensor> initializer, bool trainable = true) =>
        Declare(name, shape, initializer, trainable, toKeras: null, variable: null);

    /// <summary>
    /// Declares a trainable weight, as <see cref="AddWeight(string, long[], Func{Tensor}, bool)"/>, kept in the layout
    /// the layer's TorchSharp kernels want (Conv1D's (filters, in, k), LSTMCell's (4u, features)): the initializer
    /// still makes the Keras layout, and <paramref name="toKeras"/>, a self-inverse transpose or reversing permute,
    /// turns one layout into the other. With <paramref name="variable"/> the weight is a variable of a TorchSharp
    /// module (LSTMCell's fused LSTM): it is asked for only once the sizes are checked, and given the initial value.
    /// </summary>
    /// <param name="name">The Keras weight name.</param>
    /// <param name="shape">The shape in Keras layout.</param>
    /// <param name="initializer">Makes the initial value in Keras layout.</param>
    /// <param name="toKeras">Turns the engine layout into Keras' and back; null where both are Keras'.</param>
    /// <param name="variable">Gives the module's variable, in engine layout; null to make one.</param>
    private protected LayerWeight AddWeight(string name, long[] shape, Func<Tensor> initializer, Func<Tensor, Tensor>? toKeras, Func<TorchSharp.Modules.Parameter>? variable = null) =>
        Declare(name, shape, initializer, trainable: true, toKeras, variable);

    private LayerWeight Declare(string name, long[] shape, Func<Tensor> initializer, bool trainable, Func<Tensor, Tensor>? toKeras, Func<TorchSharp.Modules.Parameter>? variable)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(initializer);
        if (shape.Any(d => d is < 0 or > int.MaxValue))
        {
            // Named after the layer the user called (an RNN, not its cell).
            var reported = Outermost;
            throw new ArgumentOutOfRangeException(nameof(shape), $"{reported.ClassName} '{reported.Name}': the weight '{name}' has shape ({string.Join(", ", shape)}); each dimension must be from 0 to {int.MaxValue}.");
        }

        var weight = new LayerWeight(this, name, shape.Select(d => (int)d).ToArray(), null, toKeras) { Learned = trainable };
        weights.Add(weight);
        declared.Add(new DeclaredWeight(weight, shape, initializer, toKeras, variable));
        if (!building)
        {
            CheckDeclaredWeightSizes();
            MakeDeclaredWeights();
        }

        return weight;
    }

    /// <summary>The layer whose build is building this one, through every level (an RNN around a stack of cells), or this one.</summary>
    private Layer Outermost => buildingInside?.Outermost ?? this;

    /// <summary>A weight declared and not made yet: its Keras shape, initializer, engine layout and engine-owned variable (if any).</summary>
    private sealed record DeclaredWeight(LayerWeight Weight, long[] Shape, Func<Tensor> Initializer, Func<Tensor, Tensor>? ToKeras, Func<TorchSharp.Modules.Parameter>? Variable);

    /// <summary>
    /// Wraps <paramref name="value"/> (the layer takes it) as a weight variable. TorchSharp 0.107's
    /// <c>new Parameter(tensor)</c> moves the native handle out of the tensor but leaves the emptied tensor on
    /// <see cref="Tensor.TotalCount"/> (its <c>DecoupleFromNativeHandle</c> does take it off), so every weight stayed
    /// counted after its Dispose: 4 live tensors more per disposed Input -> Dense -> Dense model (issue 20). The
    /// emptied tensor is taken off here; the per-thread statistics already count the variable in its place.
    /// </summary>
    private static TorchSharp.Modules.Parameter NewVariable(Tensor value, bool requiresGrad)
    {
        var variable = new TorchSharp.Modules.Parameter(value, requiresGrad);
        Interlocked.Decrement(ref TensorTotalCount(null));
        return variable;
    }

    [System.Runtime.CompilerServices.UnsafeAccessor(System.Runtime.CompilerServices.UnsafeAccessorKind.StaticField, Name = "_totalCount")]
    private static extern ref long TensorTotalCount(Tensor? any);

    /// <summary>Lists another layer's weight as this layer's too (a model used as a layer lists its layers' weights).</summary>
    private protected void AdoptWeight(LayerWeight weight) => weights.Add(weight);

    /// <summary>
    /// The config entries of a layer with a kernel and a bias (Dense, Conv1D): initializers,
    /// regularizers, and constraints (null for the layers that take none).
    /// </summary>
    private protected void AddKernelAndBiasConfig(JsonObject config, Initializers.Initializer kernelInitializer, Initializers.Initializer biasInitializer,
        Regularizers.Regularizer? kernelRegularizer, Regularizers.Regularizer? biasRegularizer, bool activityRegularizer = true,
        Constraints.Constraint? kernelConstraint = null, Constraints.Constraint? biasConstraint = null)
    {
        config["kernel_initializer"] = kernelInitializer.Serialize();
        config["bias_initializer"] = biasInitializer.Serialize();
        config["kernel_regularizer"] = kernelRegularizer?.Serialize();
        config["bias_regularizer"] = biasRegularizer?.Serialize();
        if (activityRegularizer)
        {
            config["activity_regularizer"] = ActivityRegularizer?.Serialize();
        }

        config["kernel_constraint"] = kernelConstraint?.Serialize();
        config["bias_constraint"] = biasConstraint?.Serialize();
    }

    /// <summary>
    /// Reads a convolution's <c>groups</c>: Keras requires a positive number that divides <c>filters</c> (a config
    /// error otherwise, naming the value); this library computes only the default 1 and refuses other valid ones.
    /// </summary>
    private protected static void ReadGroupsConfig(LayerConfig config)
    {
        var groups = config.GetInt("groups", 1);
        var filters = config.GetNullableInt("filters");
        if (groups <= 0 || (filters > 0 && filters % groups != 0))
        {
            throw config.Error($"'groups' must be a positive integer that divides filters ({filters?.ToString(CultureInfo.InvariantCulture) ?? "absent"}), got {groups}.");
        }

        config.RequireDefault("groups", 1);
    }

    /// <summary>
    /// Reads what <see cref="AddKernelAndBiasConfig"/> writes (Dense, the convolutions, EinsumDense,
    /// MultiHeadAttention): the kernel and bias regularizers and constraints (Keras' <c>regularizers.get</c>,
    /// <c>constraints.get</c>), returned; a LoRA rank (and <paramref name="alsoNull"/>), which this library does not
    /// support, must be null; lora_alpha has no effect without a rank.
    /// </summary>
    private protected static ((Regularizers.Regularizer? Kernel, Regularizers.Regularizer? Bias) Regularizers, (Constraints.Constraint? Kernel, Constraints.Constraint? Bias) Constraints)
        ReadKernelAndBiasConfigWithConstraints(LayerConfig config, params string[] alsoNull)
    {
        foreach (var key in alsoNull.Append("lora_rank"))
        {
            config.RequireDefault(key, null);
        }

        config.Ignore("lora_alpha");
        return ((config.GetRegularizer("kernel_regularizer"), config.GetRegularizer("bias_regularizer")),
            (config.GetConstraint("kernel_constraint"), config.GetConstraint("bias_constraint")));
    }

    /// <summary>A <see cref="LayerInputException"/> whose message starts with this layer's class and name.</summary>
    protected LayerInputException InputError(string message) => new(Name, $"{ClassName} '{Name}': {message}");

    /// <summary>Throws unless the input has the given rank.</summary>
    protected void RequireRank(KerasTensor input, int rank, string expected)
    {
        if (input.Shape.Rank != rank)
        {
            throw InputError($"expected input of rank {rank} {expected}, but got {input.Label} with shape {input.Shape} (rank {input.Shape.Rank}).");
        }
    }

    /// <summary>Throws unless the input is floating point.</summary>
    protected void RequireFloat(KerasTensor input)
    {
        if (input.DType != DType.Float32)
        {
            throw InputError($"expected a float32 input, but got {input.Label} with dtype {input.DType.ToKerasName()} and shape {input.Shape}.");
        }
    }

    /// <summary>Throws unless the input's last dimension is known, and returns it.</summary>
    protected int RequireKnownLast(KerasTensor input, string what)
    {
        return input.Shape.Last ?? throw InputError($"the {what} dimension (last) of the input must be known, but the input shape is {input.Shape}.");
    }

    /// <summary>
    /// A dimension of an output (or of a padded input) derived from <paramref name="input"/> and this layer's sizes,
    /// computed by the caller in 64 bits so that nothing wraps (UpSampling1D's size 1e9 over 10 steps gave a negative
    /// length); refused with a <see cref="LayerInputException"/> when no tensor can have it.
    /// </summary>
    private protected int? DerivedDim(long? size, KerasTensor input, string what) =>
        Shape.Dimension(size, out var fits) is var dim && fits ? dim
            : throw InputError(string.Create(CultureInfo.InvariantCulture, $"{what} for {input.Label} with shape {input.Shape} would be {size:N0}; a dimension must be from 0 to {int.MaxValue:N0}."));

    /// <summary>
    /// Refuses a tensor this layer would make for one sample (an output, or an intermediate such as a padded input)
    /// that could not be allocated: more values than one array holds, computed without wrapping.
    /// </summary>
    private protected void CheckSampleSize(string what, Shape shape, KerasTensor? input)
    {
        var elements = shape.SampleElements;
        if (elements > Array.MaxLength)
        {
            throw InputError(string.Create(CultureInfo.InvariantCulture,
                $"{what} {shape}{(input is null ? string.Empty : $" for {input.Label} with shape {input.Shape}")} would hold {elements:N0} values per sample, more than one array can hold ({Array.MaxLength:N0})."));
        }
    }

    /// <summary>Checks the sizes of the declared weights; refused ones are taken off the layer.</summary>
    private void CheckDeclaredWeightSizes()
    {
        try
        {
            CheckWeightSizes(declared.Select(d => (d.Weight.Name, d.Shape)).ToArray());
        }
        catch
        {
            weights.RemoveAll(w => declared.Any(d => d.Weight == w));
            declared.Clear();
            throw;
        }
    }

    /// <summary>
    /// Makes the weights declared by <see cref="AddWeight(string, long[], Func{Tensor}, bool)"/>, whose sizes are
    /// checked, in declaration order (so the random draws come in Keras' order: a cell's glorot kernel, then its
    /// orthogonal recurrent kernel); each initializer makes the Keras layout, turned into the engine's where the weight
    /// keeps another.
    /// </summary>
    private void MakeDeclaredWeights()
    {
        try
        {
            foreach (var (weight, shape, initializer, toKeras, variable) in declared)
            {
                var value = initializer();
                var made = value.shape;
                if (!made.SequenceEqual(shape))
                {
                    value.Dispose();
                    throw new InvalidOperationException($"{ClassName} '{Name}': the initializer of the weight '{weight.Name}' made a tensor of shape ({string.Join(", ", made)}), but the weight was declared with shape ({string.Join(", ", shape)}).");
                }

                if (variable is not null)
                {
                    var engineOwned = variable();
                    engineOwned.copy_(toKeras is null ? value : toKeras(value));
                    value.Dispose();
                    weight.Make(engineOwned);
                    continue;
                }

                var engine = toKeras is null ? value : toKeras(value).contiguous();
                if (!ReferenceEquals(engine, value))
                {
                    value.Dispose();
                }

                weight.Make(NewVariable(engine, requiresGrad: weight.Learned));
            }

            // The layer owns its variables: the build's dispose scope must not take them.
            foreach (var entry in declared)
            {
                entry.Weight.Variable.DetachFromDisposeScope();
            }
        }
        finally
        {
            declared.Clear();
        }
    }

    /// <summary>
    /// Refuses weights that cannot exist here: one with more elements than a float[] holds (GetWeights returns
    /// them as arrays), or all together larger than this machine's memory (training needs about four times that).
    /// </summary>
    private void CheckWeightSizes(IReadOnlyList<(string Name, long[] Shape)> planned)
    {
        var total = 0.0;
        foreach (var (name, shape) in planned)
        {
            // In double: a product of two ints up to int.MaxValue overflows long only in far larger layers, but
            // a config may hold anything.
            var elements = shape.Aggregate(1.0, (a, d) => a * d);
            if (elements > Array.MaxLength)
            {
                throw new ArgumentOutOfRangeException(name, string.Create(CultureInfo.InvariantCulture,
                    $"{ClassName} '{Name}': the weight '{name}' of shape ({string.Join(", ", shape)}) would hold {elements:N0} floats ({elements * sizeof(float):N0} bytes), more than one array can hold ({Array.MaxLength:N0})."));
            }

            total += elements * sizeof(float);
        }

        var memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (total > memory)
        {
            throw new ArgumentOutOfRangeException(nameof(planned), string.Create(CultureInfo.InvariantCulture,
                $"{ClassName} '{Name}': its weights ({string.Join(", ", planned.Select(p => $"{p.Name} ({string.Join(", ", p.Shape)})"))}) need {total:N0} bytes, more than this machine's {memory:N0} bytes of memory."));
        }
    }

    /// <summary>
    /// Calls a recurrent layer on one sequence with its initial state (Keras' <c>layer(x, initial_state=[...])</c>);
    /// the state tensors become inputs of the node.
    /// </summary>
    internal IReadOnlyList<KerasTensor> CallWithInitialState(KerasTensor input, IReadOnlyList<KerasTensor> initialState) =>
        CallCore(new[] { input }.Concat(initialState).ToArray(), list: false, initialState.Count);

    /// <summary>
    /// The keyword arguments each call of this layer records in its saved nodes besides its inputs (Keras' call
    /// arguments, e.g. Attention's <c>use_causal_mask</c>), only those that differ from Keras' defaults, as Keras records
    /// what the caller passed; none by default.
    /// </summary>
    internal virtual JsonObject CallArguments() => new();

    /// <summary>
    /// Reads the call arguments of one saved node (see <see cref="CallArguments"/>; <c>training</c>, <c>mask</c> and
    /// <c>initial_state</c> are handled before), just before the node is replayed; by default every one is refused.
    /// </summary>
    /// <param name="arguments">The node's other keyword arguments (empty for none).</param>
    /// <param name="what">The layer, for messages.</param>
    /// <exception cref="NotSupportedException">An argument the layer does not take.</exception>
    internal virtual void ReadCallArguments(IReadOnlyList<KeyValuePair<string, JsonNode?>> arguments, string what)
    {
        foreach (var (key, value) in arguments)
        {
            throw new NotSupportedException($"{what}: the call argument '{key}' = {value?.ToJsonString() ?? "null"} is not supported by this library.");
        }
    }

    /// <summary>
    /// The names of Keras' tensor arguments of <c>call</c>, in the order of this layer's node inputs, for a layer
    /// called on several tensors by name (MultiHeadAttention: query, value, key, attention_mask), whose saved nodes
    /// give the first ones positionally and the rest as keyword arguments; null (the default) for the others.
    /// </summary>
    internal virtual IReadOnlyList<string>? TensorArgumentNames => null;

    /// <summary>
    /// Tells a layer with <see cref="TensorArgumentNames"/> which of them the saved node about to be replayed gives
    /// (in that order), before it is called on those tensors.
    /// </summary>
    /// <param name="present">The names given, in <see cref="TensorArgumentNames"/> order.</param>
    /// <param name="what">The layer, for messages.</param>
    internal virtual void ExpectTensorArguments(IReadOnlyList<string> present, string what) =>
        throw new NotSupportedException($"{what}: takes no named tensor arguments, but a saved call gives {string.Join(", ", present)}.");

    /// <summary>The argument names of one node's inputs (see <see cref="TensorArgumentNames"/>); null for the default form.</summary>
    internal virtual IReadOnlyList<string>? NodeTensorNames(Node node) => null;

    /// <summary>Keras' <c>build_config</c> for a layer built from several named shapes (<c>shapes_dict</c>); null for the default form.</summary>
    internal virtual JsonObject? BuildConfigOf(Node node, Func<Shape, JsonNode> shapeJson) => null;

    /// <summary>Another place of a group of <see cref="KerasVarGroups"/> in files of older Keras versions, tried when the group is absent; null for none.</summary>
    internal virtual string? LegacyVarsPath(string varsPath) => null;

    /// <summary>Whether the layer takes an initial state after its input (Keras 2 configs list it in the same node).</summary>
    internal virtual bool TakesInitialState => false;

    /// <summary>The output specs of a call with an initial state; layers that take none refuse it.</summary>
    private protected virtual IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input, IReadOnlyList<KerasTensor> initialState) =>
        throw InputError($"takes no initial state, but was given {Describe(initialState)}.");

    /// <summary>
    /// Checks an input and builds the layer on it without recording a node: a wrapper (TimeDistributed,
    /// Bidirectional) uses its inner layer this way, as Keras' wrappers call the inner layer's <c>build</c>.
    /// </summary>
    internal IReadOnlyList<(Shape Shape, DType DType)> BuildFor(KerasTensor input) => Prepare(new[] { input }, list: false, initialStates: 0);

    /// <summary>As <see cref="BuildFor(KerasTensor)"/> for a call with initial states (Bidirectional's halves).</summary>
    internal IReadOnlyList<(Shape Shape, DType DType)> BuildFor(KerasTensor input, IReadOnlyList<KerasTensor> initialState) =>
        initialState.Count == 0 ? BuildFor(input) : Prepare(new[] { input }.Concat(initialState).ToArray(), list: false, initialState.Count);

    /// <summary>
    /// Builds this layer from <paramref name="outer"/>'s Build (an RNN's cell, a stack's cells, as Keras' RNN.build
    /// calls cell.build): its declared weights join the outer build's, whose sizes are checked together, under the
    /// outer layer's name, before any is made; if the outer build fails, this layer is unbuilt again.
    /// </summary>
    /// <exception cref="InvalidOperationException"><paramref name="outer"/> is not building.</exception>
    internal IReadOnlyList<(Shape Shape, DType DType)> BuildInside(Layer outer, KerasTensor input)
    {
        if (!outer.building)
        {
            throw new InvalidOperationException($"{ClassName} '{Name}' can be built inside {outer.ClassName} '{outer.Name}' only while that layer builds.");
        }

        buildingInside = outer;
        try
        {
            return BuildFor(input);
        }
        finally
        {
            buildingInside = null;
        }
    }

    /// <summary>Adopts another layer's weights as this layer's (a wrapper lists its inner layers' weights).</summary>
    private protected void AdoptWeights(IEnumerable<LayerWeight> adopted)
    {
        foreach (var weight in adopted)
        {
            AdoptWeight(weight);
        }
    }

    private IReadOnlyList<(Shape Shape, DType DType)> Prepare(IReadOnlyList<KerasTensor> inputs, bool list, int initialStates)
    {
        ThrowIfDisposed();
        if (!TakesStrings && inputs.FirstOrDefault(t => t.DType == DType.String) is { } text)
        {
            throw InputError($"takes numbers, but {text.Label} with shape {text.Shape} holds strings (dtype string); turn text into numbers first with a layer that reads it (TextVectorization, StringLookup, Hashing).");
        }

        var specs = initialStates > 0 ? ComputeOutputSpecs(inputs[0], inputs.Skip(1).ToArray()) : ComputeOutputSpecs(inputs, list);
        void CheckOutputSizes()
        {
            foreach (var (shape, _) in specs)
            {
                CheckSampleSize("the output", shape, inputs.Count == 1 ? inputs[0] : null);
            }
        }

        if (Built)
        {
            CheckOutputSizes();
        }
        else
        {
            // Initial values, layout copies and other temporaries of a built-in layer's build die with this scope;
            // only the weights' variables live on, owned by the layer (each build left them behind: 14 tensors a
            // model). A custom layer may keep tensors of its own from Build, so everything it made stays alive.
            var before = weights.Count;
            using (var scope = NewDisposeScope())
            using (no_grad())
            {
                try
                {
                    // Build declares the weights; their sizes are checked, then the outputs', before any is made.
                    building = true;
                    Build(inputs);
                    building = false;
                    if (buildingInside is { } outer)
                    {
                        // Built inside another layer's Build: that build checks and makes these weights with its own.
                        CheckOutputSizes();
                        outer.declared.AddRange(declared);
                        outer.nestedBuilds.Add((this, before));
                        outer.nestedBuilds.AddRange(nestedBuilds);
                        declared.Clear();
                        nestedBuilds.Clear();
                    }
                    else
                    {
                        CheckDeclaredWeightSizes();
                        CheckOutputSizes();
                        MakeDeclaredWeights();
                        nestedBuilds.Clear();
                    }
                }
                catch
                {
                    // A build that fails midway leaves no half-registered weights behind, here or in the layers it built.
                    weights.RemoveRange(before, weights.Count - before);
                    declared.Clear();
                    foreach (var (nested, nestedBefore) in nestedBuilds)
                    {
                        nested.weights.RemoveRange(nestedBefore, nested.weights.Count - nestedBefore);
                        nested.Built = false;
                    }

                    nestedBuilds.Clear();
                    throw;
                }
                finally
                {
                    building = false;
                }

                if (!IsLibraryLayer)
                {
                    scope.Detach(scope.DisposablesView.ToArray());
                }
            }

            Built = true;
        }

        return specs;
    }

    private IReadOnlyList<KerasTensor> CallCore(IReadOnlyList<KerasTensor> inputs, bool list, int initialStates = 0)
    {
        var specs = Prepare(inputs, list, initialStates);
        var index = inboundNodes.Count;
        var outputs = specs.Select((spec, i) => new KerasTensor(spec.Shape, spec.DType, this, index, i)).ToArray();
        var masked = OutputMasks(inputs.Take(initialStates > 0 ? 1 : inputs.Count).Select(t => t.HasMask).ToArray());
        for (var i = 0; i < outputs.Length; i++)
        {
            outputs[i].HasMask = masked[i];
            // As Keras' output shapes: the batch axis is the first input's.
            outputs[i].BatchSize = inputs.Count > 0 ? inputs[0].BatchSize : null;
        }

        if (!SupportsMasking && !UsesMask && !masked.Any(m => m) && inputs.FirstOrDefault(t => t.HasMask) is { } maskedInput)
        {
            // As Keras 3: the mask stops here, and the user should know.
            Warnings.Warn($"{ClassName} '{Name}' was called on {maskedInput.Label}, which carries a mask, but does not support masking; layers after it will not see the mask.");
        }
        RegisterNode(inputs, outputs, list, initialStates);
        return outputs;
    }
}
