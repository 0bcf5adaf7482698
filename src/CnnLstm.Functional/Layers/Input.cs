using KerasStyle.Graph;

namespace KerasStyle.Layers;

/// <summary>
/// A model input, as Keras' <c>keras.Input(shape=...)</c> (also <c>keras.layers.Input</c>): a symbolic tensor made by
/// a new <see cref="InputLayer"/>. Shapes exclude the batch axis: <c>new Input(shape: (1, 3))</c> is Keras'
/// <c>Input(shape=(1, 3))</c>, whose tensors are (batch, 1, 3); <c>new Input(shape: 100, dtype: DType.Int32)</c> is
/// <c>Input(shape=(100,), dtype="int32")</c>; <c>new Input((5, 3), batchSize: 2)</c> is
/// <c>Input(shape=(5, 3), batch_size=2)</c> (a stateful RNN's input).
/// </summary>
public sealed class Input : KerasTensor
{
    /// <summary>Creates an input whose samples have the given shape (batch dimension excluded).</summary>
    /// <param name="shape">Per-sample shape, e.g. <c>new[] { 1, 3 }</c> for one step of three features.</param>
    /// <param name="dtype">Element type: <see cref="DType.Float32"/> for features, an integer type for token ids.</param>
    /// <param name="name">Layer name; defaults to <c>input_N</c>.</param>
    /// <param name="batchSize">A fixed batch size (Keras' <c>batch_size</c>), or null (default) for any; a stateful
    /// recurrent layer needs one, and every batch given to the model must then have it.</param>
    public Input(int[] shape, DType dtype = DType.Float32, string? name = null, int? batchSize = null)
        : this(new InputLayer(shape, dtype, name, batchSize))
    {
    }

    /// <summary>
    /// Creates an input whose samples may have unknown dimensions (<c>null</c>), Keras' <c>Input(shape=(None, 74))</c>:
    /// <c>new Input(new int?[] { null, 74 })</c> takes (batch, any steps, 74); each batch given to the model has one
    /// size on the unknown axes, which may differ from batch to batch and from call to call.
    /// </summary>
    /// <param name="shape">Per-sample shape; null for an axis of any size.</param>
    /// <param name="dtype">Element type: <see cref="DType.Float32"/> for features, an integer type for token ids.</param>
    /// <param name="name">Layer name; defaults to <c>input_N</c>.</param>
    /// <param name="batchSize">A fixed batch size (Keras' <c>batch_size</c>), or null (default) for any; a stateful
    /// recurrent layer needs one, and every batch given to the model must then have it.</param>
    /// <exception cref="ArgumentOutOfRangeException">An empty shape or a known size that is not positive.</exception>
    public Input(int?[] shape, DType dtype = DType.Float32, string? name = null, int? batchSize = null)
        : this(new InputLayer(shape, dtype, name, batchSize))
    {
    }

    /// <summary>Creates an input with two-dimensional samples whose sizes may be unknown: Keras' <c>shape=(None, 74)</c> is <c>(null, 74)</c>.</summary>
    /// <param name="shape">The per-sample shape; null for an axis of any size.</param>
    /// <param name="dtype">Element type.</param>
    /// <param name="name">Layer name; defaults to <c>input_N</c>.</param>
    /// <param name="batchSize">A fixed batch size (Keras' <c>batch_size</c>), or null (default) for any; a stateful
    /// recurrent layer needs one, and every batch given to the model must then have it.</param>
    public Input((int?, int?) shape, DType dtype = DType.Float32, string? name = null, int? batchSize = null)
        : this(new[] { shape.Item1, shape.Item2 }, dtype, name, batchSize)
    {
    }

    /// <summary>Creates an input whose samples are vectors of <paramref name="shape"/> values: Keras' <c>shape=(n,)</c>.</summary>
    /// <param name="shape">The vector length.</param>
    /// <param name="dtype">Element type: <see cref="DType.Float32"/> for features, an integer type for token ids.</param>
    /// <param name="name">Layer name; defaults to <c>input_N</c>.</param>
    /// <param name="batchSize">A fixed batch size (Keras' <c>batch_size</c>), or null (default) for any; a stateful
    /// recurrent layer needs one, and every batch given to the model must then have it.</param>
    public Input(int shape, DType dtype = DType.Float32, string? name = null, int? batchSize = null)
        : this(new[] { shape }, dtype, name, batchSize)
    {
    }

    /// <summary>Creates an input with two-dimensional samples, e.g. <c>(steps, features)</c>: Keras' <c>shape=(1, 3)</c>.</summary>
    /// <param name="shape">The per-sample shape.</param>
    /// <param name="dtype">Element type.</param>
    /// <param name="name">Layer name; defaults to <c>input_N</c>.</param>
    /// <param name="batchSize">A fixed batch size (Keras' <c>batch_size</c>), or null (default) for any; a stateful
    /// recurrent layer needs one, and every batch given to the model must then have it.</param>
    public Input((int, int) shape, DType dtype = DType.Float32, string? name = null, int? batchSize = null)
        : this(new[] { shape.Item1, shape.Item2 }, dtype, name, batchSize)
    {
    }

    /// <summary>Creates an input with three-dimensional samples, e.g. <c>(frames, steps, features)</c>.</summary>
    /// <param name="shape">The per-sample shape.</param>
    /// <param name="dtype">Element type.</param>
    /// <param name="name">Layer name; defaults to <c>input_N</c>.</param>
    /// <param name="batchSize">A fixed batch size (Keras' <c>batch_size</c>), or null (default) for any; a stateful
    /// recurrent layer needs one, and every batch given to the model must then have it.</param>
    public Input((int, int, int) shape, DType dtype = DType.Float32, string? name = null, int? batchSize = null)
        : this(new[] { shape.Item1, shape.Item2, shape.Item3 }, dtype, name, batchSize)
    {
    }

    private Input(InputLayer layer)
        : base(layer.OutputShape, layer.DType, layer, 0, 0)
    {
        BatchSize = layer.BatchSize;
        layer.SetOutput(this);
    }

    internal static Input ForLayer(InputLayer layer) => new(layer);
}
