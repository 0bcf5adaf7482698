using KerasStyle.Graph;
using KerasStyle.Layers;

namespace KerasStyle.Models;

/// <summary>
/// A linear stack of layers, as Keras' <c>Sequential</c>. Start it with an <see cref="Input"/> (or an
/// <see cref="Embedding"/> with <c>inputLength</c>); each added layer is called on the previous output.
/// </summary>
public class Sequential : Model
{
    private readonly List<Layer> layers = new();
    private KerasTensor? input;
    private KerasTensor? output;

    /// <summary>Creates an empty model.</summary>
    /// <param name="name">Model name; defaults to <c>sequential_N</c>.</param>
    public Sequential(string? name = null)
        : base(name, "sequential")
    {
    }

    /// <summary>Creates a model from layers, added in order.</summary>
    /// <param name="layers">The layers.</param>
    /// <param name="name">Model name; defaults to <c>sequential_N</c>.</param>
    public Sequential(IEnumerable<Layer> layers, string? name = null)
        : this(name)
    {
        ArgumentNullException.ThrowIfNull(layers);
        addingMany = true;
        foreach (var layer in layers)
        {
            Add(layer);
        }

        addingMany = false;
        UseKeras3FunctionalName();
    }

    /// <summary>Set while the constructor adds its layers: Keras 3 builds its inner Functional once, after them.</summary>
    private bool addingMany;

    /// <summary>
    /// Keras 3's Sequential builds an inner <c>Functional</c> each time its graph is rebuilt (each <c>add</c> after
    /// the input, once after a constructor's list), which takes a <c>functional</c> name; taking it here keeps the
    /// next models' Keras 3 names those Keras gives.
    /// </summary>
    private void UseKeras3FunctionalName()
    {
        if (!addingMany && Backend.ConsoleStyle == ConsoleStyle.Keras3 && Layers.Count > 0)
        {
            NameScope.UniqueKeras3Name("functional");
        }
    }

    /// <summary>The layers, without the input layer (as Keras 2 lists them).</summary>
    public override IReadOnlyList<Layer> Layers => layers;

    /// <summary>Sets the model's input, as Keras' <c>model.add(Input(shape=...))</c>; must come first.</summary>
    /// <param name="input">The input tensor.</param>
    public void Add(Input input)
    {
        ArgumentNullException.ThrowIfNull(input);
        ThrowIfDisposed();
        if (this.input is not null)
        {
            throw new InvalidOperationException($"Sequential '{Name}': an Input can only be added first; the model already starts at {this.input.Label} {this.input.Shape}.");
        }

        this.input = input;
        output = input;
    }

    /// <summary>Adds a layer on top of the stack, calling it on the current output.</summary>
    /// <param name="layer">The layer; it must produce one output.</param>
    public void Add(Layer layer)
    {
        ArgumentNullException.ThrowIfNull(layer);
        ThrowIfDisposed();
        if (layer is InputLayer inputLayer)
        {
            Add((Input)inputLayer.Output);
            return;
        }

        if (input is null)
        {
            if (layer.ImplicitInput is not { } implicitInput)
            {
                throw new InvalidOperationException(
                    $"Sequential '{Name}': the first layer {layer.ClassName} '{layer.Name}' needs an input shape; add new Input(shape: ...) first, or give an Embedding its inputLength.");
            }

            // Keras 2 names the implicit input after the first layer and does not use up an input_N name.
            input = new Input(implicitInput.Shape, implicitInput.DType, name: $"{layer.Name}_input");
            output = input;
        }

        if (layer.OutputCount != 1)
        {
            throw new ArgumentException($"Sequential '{Name}': {layer.ClassName} '{layer.Name}' returns {layer.OutputCount} tensors; a Sequential layer must return one.", nameof(layer));
        }

        var next = layer.Call(output!);
        var previous = layers.ToList();
        layers.Add(layer);
        try
        {
            SetGraph(new[] { input }, new[] { next });
            UseKeras3FunctionalName();
        }
        catch
        {
            layers.Clear();
            layers.AddRange(previous);
            throw;
        }

        output = next;
    }

    private protected override bool IsChainLike => true;
}
