using KerasStyle.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// One weight variable of a layer (e.g. <c>kernel</c>). The engine may keep it in the layout its kernels want
/// (Conv1D as torch's (filters, in, k)); <see cref="Shape"/> is always the Keras layout.
/// </summary>
public sealed class LayerWeight
{
    // A self-inverse layout change (a transpose or a reversing permute) between the engine and Keras layouts.
    private readonly Func<Tensor, Tensor> swapLayout;

    private TorchSharp.Modules.Parameter? variable;

    internal LayerWeight(Layer layer, string name, int[] kerasShape, TorchSharp.Modules.Parameter? variable, Func<Tensor, Tensor>? toKeras = null)
    {
        Layer = layer;
        Name = name;
        Shape = kerasShape;
        this.variable = variable;
        swapLayout = toKeras ?? (t => t.alias());
    }

    /// <summary>The layer that owns the weight (an RNN owns its cell's weights).</summary>
    public Layer Layer { get; private set; }

    /// <summary>The Keras weight name, e.g. <c>kernel</c>, <c>recurrent_kernel</c>, <c>bias</c>, <c>embeddings</c>.</summary>
    public string Name { get; }

    /// <summary>
    /// The penalty on this weight (the layer's <c>kernel_regularizer</c> etc.), or null; training adds it to the loss
    /// while the weight is trainable, as Keras' <c>Layer._get_regularization_losses</c>.
    /// </summary>
    public Regularizers.Regularizer? Regularizer { get; internal set; }

    /// <summary>
    /// The projection applied after each optimizer update (the layer's <c>kernel_constraint</c> etc.), or null, as
    /// Keras' <c>variable.constraint</c>; it works in Keras layout (<see cref="Shape"/>).
    /// </summary>
    public Constraints.Constraint? Constraint { get; internal set; }

    /// <summary>Assigns <c>Constraint(value)</c> to the variable (Keras' optimizer does so after each update); nothing without a constraint.</summary>
    internal void ApplyConstraint()
    {
        if (Constraint is null)
        {
            return;
        }

        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        Variable.copy_(swapLayout(Constraint.Invoke(swapLayout(Variable))));
    }

    /// <summary>Keras' full name, e.g. <c>lstm_1/kernel:0</c> (a cell's weight in an RNN: <c>rnn/lstm_cell/kernel:0</c>).</summary>
    public string FullName => $"{ScopedLayerName}/{Name}:0";

    /// <summary>The owning layer's name, with the cell's path inside it for an RNN's cell (null scope: none).</summary>
    internal string ScopedLayerName => scope is null ? Layer.Name : $"{Layer.Name}/{scope}";

    private Layer? cell;
    private string? scope;

    /// <summary>
    /// An RNN takes its cell's weight as its own: listed, trained (if both are trainable) and named as the RNN's, with
    /// <paramref name="path"/> (the cell's path inside it, or null) between the RNN's name and the weight's.
    /// </summary>
    internal void MoveInto(Layer owner, string? path)
    {
        cell ??= Layer;
        Layer = owner;
        scope = path;
    }

    /// <summary>The shape in Keras layout.</summary>
    public IReadOnlyList<int> Shape { get; }

    /// <summary>The number of scalars in the weight.</summary>
    public long Count => Shape.Aggregate(1L, (a, d) => a * d);

    /// <summary>Whether an optimizer updates this weight.</summary>
    public bool Trainable => Learned && Layer.Trainable && (cell?.Trainable ?? true);

    /// <summary>
    /// Whether the optimizer updates the weight: false for statistics a layer keeps itself (BatchNormalization's
    /// moving mean and variance), which Keras lists as non-trainable.
    /// </summary>
    internal bool Learned { get; init; } = true;

    /// <summary>
    /// Row lookups made while training (Embedding): the ids and the looked-up rows, each a leaf whose gradient is the
    /// gradient of those rows. The dense gradient is their sum by id; optimizers that can use rows directly avoid
    /// building it.
    /// </summary>
    private readonly List<(Tensor Ids, Tensor Rows)> rowLookups = new();

    /// <summary>The marks <see cref="RowGradientSum"/> keeps over this weight's rows between steps (made on the first), all clear.</summary>
    private RowGradientSum.Marker? rowMarker;

    /// <summary>A data-parallel step's gradient by rows, gathered from every rank (<see cref="ReplaceRowGradient"/>), or null.</summary>
    private (Tensor Ids, Tensor Grad)? replacedRows;

    /// <summary>Whether this thread is inside <see cref="CollectRowGradients"/>.</summary>
    [ThreadStatic]
    private static bool collectingRows;

    /// <summary>
    /// Whether lookups on this thread record their rows (<see cref="AddRowLookup"/>): only inside the trainer's step,
    /// whose optimizer reads and clears them. Elsewhere (an eager call under the caller's autograd, as in a custom
    /// training loop) the gradient stays dense on <see cref="Variable"/>, where Keras' <c>model(x)</c> puts it.
    /// </summary>
    internal static bool CollectingRowGradients => collectingRows;

    /// <summary>Makes this thread's lookups record their rows until the result is disposed (the trainer's step).</summary>
    internal static RowGradientScope CollectRowGradients()
    {
        var scope = new RowGradientScope(collectingRows);
        collectingRows = true;
        return scope;
    }

    /// <summary>Records a row lookup made in a training forward pass.</summary>
    internal void AddRowLookup(Tensor ids, Tensor rows) => rowLookups.Add((ids, rows));

    /// <summary>Restores the thread's previous <see cref="CollectingRowGradients"/> when disposed.</summary>
    internal readonly struct RowGradientScope(bool previous) : IDisposable
    {
        public void Dispose() => collectingRows = previous;
    }

    /// <summary>Forgets the gradient of the previous step (dense and by rows).</summary>
    internal void ClearGradient()
    {
        Variable.grad = null;
        rowLookups.Clear();
        replacedRows = null;
    }

    /// <summary>Sets the dense gradient to <paramref name="gradient"/> (or none) and forgets the row lookups (a data-parallel step's averaged gradient).</summary>
    internal void ReplaceGradient(Tensor? gradient)
    {
        rowLookups.Clear();
        replacedRows = null;
        Variable.grad = gradient;
    }

    /// <summary>
    /// Sets the gradient to <paramref name="ids"/> (distinct, int64) and their rows <paramref name="grad"/>, every
    /// other row's being zero, with no dense gradient (a data-parallel step's averaged gradient by rows); the
    /// optimizer's row path takes it, or <see cref="DenseGradient"/> builds the dense one. The tensors must live until
    /// the optimizer's step.
    /// </summary>
    internal void ReplaceRowGradient(Tensor ids, Tensor grad)
    {
        rowLookups.Clear();
        Variable.grad = null;
        replacedRows = (ids, grad);
    }

    /// <summary>
    /// The gradient by rows: the distinct ids in ascending order and the summed gradient of each (its looked-up rows'
    /// gradients added in order of appearance), or null when there were no lookups with a gradient. The tensors are
    /// new in the caller's dispose scope (the optimizer's step). CPU int64 ids with float32 gradients are summed in C#
    /// (<see cref="RowGradientSum"/>); anything else by libtorch (<see cref="RowGradientByLibTorch"/>), with the same bits.
    /// </summary>
    internal (Tensor Ids, Tensor Grad)? RowGradient()
    {
        if (replacedRows is { } replaced)
        {
            return replaced;
        }

        var withGrad = new List<(Tensor Ids, Tensor Grad)>(rowLookups.Count);
        foreach (var (ids, rows) in rowLookups)
        {
            if (rows.grad is { } grad)
            {
                withGrad.Add((ids, grad));
            }
        }

        return withGrad.Count == 0 ? null : SumRowGradients(withGrad);
    }

    /// <summary>
    /// Row gradients of this weight summed by id: the distinct ids ascending, each one's rows added in order of
    /// appearance, new tensors in the caller's dispose scope; in C# (<see cref="RowGradientSum"/>) where it applies,
    /// else by libtorch (<see cref="RowGradientByLibTorch"/>), with the same bits. Also the data-parallel exchange's
    /// sum of every rank's rows.
    /// </summary>
    /// <param name="pieces">Ids and their rows' gradients, in order.</param>
    internal (Tensor Ids, Tensor Grad) SumRowGradients(IReadOnlyList<(Tensor Ids, Tensor Grad)> pieces)
    {
        var tableRows = Variable.shape[0];
        return (RowGradientSum.Supports(pieces, tableRows) ? RowGradientSum.Sum(pieces, tableRows, ref rowMarker) : null)
            ?? RowGradientByLibTorch(pieces);
    }

    /// <summary>
    /// libtorch's sum by id of row gradients: <c>unique(sorted, return_inverse)</c> then
    /// <c>zeros().index_add_(0, inverse, grads)</c>, for the cases <see cref="RowGradientSum"/> does not take.
    /// </summary>
    internal static (Tensor Ids, Tensor Grad) RowGradientByLibTorch(IReadOnlyList<(Tensor Ids, Tensor Grad)> pieces)
    {
        var ids = cat(pieces.Select(l => l.Ids).ToArray(), 0);
        var grads = cat(pieces.Select(l => l.Grad).ToArray(), 0);
        var (distinct, inverse, _) = unique(ids, sorted: true, return_inverse: true);
        var summed = zeros(distinct.shape[0], grads.shape[1], dtype: grads.dtype).index_add_(0, inverse!, grads, Scalars.One);
        return (distinct, summed);
    }

    /// <summary>The dense gradient: autograd's <paramref name="dense"/>, plus the <paramref name="rows"/>' gradients added at their ids.</summary>
    internal Tensor? DenseGradient(Tensor? dense, (Tensor Ids, Tensor Grad)? rows)
    {
        if (rows is not { } r)
        {
            return dense;
        }

        var result = dense is null ? zeros_like(Variable) : dense.clone();
        return result.index_add_(0, r.Ids, r.Grad, Scalars.One);
    }

    /// <summary>
    /// The engine-side variable, in the layout the layer's TorchSharp kernels use (custom layers read it in
    /// <c>Forward</c>; optimizers update it in place).
    /// </summary>
    /// <exception cref="ObjectDisposedException">The layer was disposed (its variables are released).</exception>
    /// <exception cref="InvalidOperationException">Read inside <c>Build</c> for a weight declared there with an
    /// initializer: such weights are made when <c>Build</c> returns.</exception>
    public TorchSharp.Modules.Parameter Variable =>
        Layer.IsDisposed ? throw Layer.DisposedError()
        : variable ?? throw new InvalidOperationException($"{Layer.ClassName} '{Layer.Name}': the weight '{Name}' is declared but not made yet; weights declared with an initializer in Build exist once Build has returned.");

    /// <summary>Disposes the variable, when its layer is disposed.</summary>
    internal void ReleaseVariable() => variable?.Dispose();

    /// <summary>Gives a weight declared without a value its variable (see <c>Layer.AddWeight</c> with an initializer).</summary>
    internal void Make(TorchSharp.Modules.Parameter made) => variable = made;

    /// <summary>
    /// Whether Keras keeps this weight as an int32 variable (Normalization's <c>count</c>): the library holds it as a
    /// float, writes it to files as int32 and reads integer or float datasets into it.
    /// </summary>
    internal bool Integer { get; set; }

    /// <summary>The value in Keras layout.</summary>
    internal WeightArray Get() => Integer ? new WeightArray(Shape.ToArray(), ToKerasArray(Variable).Data) { Integer = true } : ToKerasArray(Variable);

    /// <summary>Overwrites the value from Keras layout; the shape must already be checked.</summary>
    internal void Set(WeightArray value)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        Variable.copy_(swapLayout(tensor(value.Data, Shape.Select(d => (long)d).ToArray())));
    }

    /// <summary>
    /// Converts a tensor in this weight's engine layout (the variable itself, or an optimizer slot made with
    /// <c>zeros_like</c>) to a Keras-layout value.
    /// </summary>
    internal WeightArray ToKerasArray(Tensor engineLayout)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var keras = swapLayout(engineLayout).contiguous().cpu();
        return new WeightArray(Shape.ToArray(), keras.data<float>().ToArray());
    }

    /// <summary>A new tensor in this weight's engine layout holding a Keras-layout value (shape already checked).</summary>
    internal Tensor FromKerasArray(WeightArray value)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var keras = tensor(value.Data, Shape.Select(d => (long)d).ToArray());
        return swapLayout(keras).contiguous().clone().MoveToOuterDisposeScope();
    }

    /// <summary>A copy of the value in Keras layout, detached and on the CPU.</summary>
    internal Tensor ToKerasLayout()
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        return swapLayout(Variable).contiguous().cpu().clone().MoveToOuterDisposeScope();
    }
}
