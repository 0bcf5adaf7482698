using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Softmax over one or more axes, as Keras' <c>keras.layers.Softmax</c> (keras/src/layers/activations/softmax.py).
/// Input (batch, ...) float, output the same shape; passes masks on. With an incoming mask (the (batch, steps)
/// booleans of <c>Embedding(mask_zero)</c>/<c>Masking</c>), Keras broadcasts the mask against the input from the
/// last axis (so it must fit the input's trailing axes, each mask dimension 1 or equal; otherwise the call fails, as in
/// Keras): Keras 3 replaces the masked inputs by -1e9 before the softmax and sets the masked outputs to 0 after it;
/// tf.keras 2 (a config written by Keras 2) adds (1 - mask) · -1e9 to the inputs and does not zero the outputs, so a
/// wholly masked row is uniform there and 0 in Keras 3.
/// </summary>
[KerasLayer("Softmax")]
public sealed class Softmax : Layer
{
    private const double LargeNegative = -1e9;

    /// <summary>Creates the layer over one axis.</summary>
    /// <param name="axis">The axis normalised, -1 (the last) by default; negative counts from the end. Not the batch axis 0.</param>
    /// <param name="name">Layer name; defaults to <c>softmax_N</c>.</param>
    public Softmax(int axis = -1, string? name = null)
        : this(new[] { axis }, false, name)
    {
    }

    /// <summary>Creates the layer over several axes (Keras' <c>axis</c> as a list): exp(x - logsumexp(x, axes)).</summary>
    /// <param name="axes">The axes normalised together; not empty, distinct, not the batch axis 0.</param>
    /// <param name="name">Layer name; defaults to <c>softmax_N</c>.</param>
    /// <exception cref="ArgumentException">An empty or repeated list, or axis 0.</exception>
    public Softmax(IReadOnlyList<int> axes, string? name = null)
        : this(axes, true, name)
    {
    }

    private Softmax(IReadOnlyList<int> axes, bool axisIsList, string? name, bool keras2Mask = false)
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(axes);
        if (axes.Count == 0 || axes.Distinct().Count() != axes.Count || axes.Contains(0))
        {
            throw new ArgumentException($"Softmax: axis must be one axis or a non-empty list of distinct axes, not the batch axis 0. Received: axis=[{string.Join(", ", axes)}]", nameof(axes));
        }

        Axes = axes.ToArray();
        AxisIsList = axisIsList;
        Keras2Mask = keras2Mask;
    }

    /// <summary>The axes normalised (Keras' <c>axis</c>).</summary>
    public IReadOnlyList<int> Axes { get; }

    /// <summary>Whether Keras' <c>axis</c> is written as a list.</summary>
    private bool AxisIsList { get; }

    /// <summary>Whether a mask is applied as tf.keras 2 did (a config written by Keras 2): no zeroing of masked outputs.</summary>
    internal bool Keras2Mask { get; }

    /// <inheritdoc/>
    public override bool SupportsMasking => true;

    internal override bool UsesMask => true;

    internal override bool BuiltAtInit => true;

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["axis"] = AxisIsList ? new JsonArray(Axes.Select(a => (JsonNode)a).ToArray()) : Axes[0];
        return config;
    }

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config (<c>axis</c> a number or a list).</summary>
    internal static Softmax FromConfig(LayerConfig config)
    {
        var list = config.GetRaw("axis") is JsonArray;
        var axes = list ? config.GetIntList("axis") : new[] { config.GetInt("axis", -1) };
        try
        {
            return new Softmax(axes, list, config.Name, config.Keras2);
        }
        catch (ArgumentException e)
        {
            throw config.Error(e.Message);
        }
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        RequireFloat(input);
        var rank = input.Shape.Rank;
        if (Axes.Any(a => a >= rank || a < -rank + 1))
        {
            throw InputError($"axis [{string.Join(", ", Axes)}] is out of range (or the batch axis) for {input.Label} with shape {input.Shape}.");
        }

        return new[] { (input.Shape, input.DType) };
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask)
    {
        using var scope = NewDisposeScope();
        var x = input;
        Tensor? keep = null;
        if (mask is not null)
        {
            CheckMask(input, mask);
            keep = mask.dtype == ScalarType.Bool ? mask : mask.gt(Scalars.Of(0.5));
            x = Keras2Mask
                ? x.add(Scalars.OneMinus(keep.to_type(x.dtype)).mul(Scalars.Of(LargeNegative)), Scalars.IntOne)
                : where(keep, x, full_like(x, Scalars.Of(LargeNegative)));
        }

        var dims = Axes.Select(a => (long)(a < 0 ? a + input.dim() : a)).ToArray();
        var output = dims.Length > 1 ? x.sub(LogSumExp(x, dims)).exp() : x.softmax(dims[0]);
        if (keep is not null && !Keras2Mask)
        {
            output = where(keep, output, zeros_like(output));
        }

        return output.MoveToOuterDisposeScope();
    }

    /// <summary>torch's logsumexp over several axes (kept): max + log(sum(exp(x - max))), the max 0 where infinite.</summary>
    private static Tensor LogSumExp(Tensor x, long[] dims)
    {
        var max = x.amax(dims, keepdim: true);
        max = where(max.isinf(), zeros_like(max), max);
        return x.sub(max).exp().sum(dims, keepdim: true).log().add(max, Scalars.IntOne);
    }

    private void CheckMask(Tensor input, Tensor mask)
    {
        var fits = mask.dim() <= input.dim();
        for (var i = 1; fits && i <= mask.dim(); i++)
        {
            fits = mask.shape[^i] == 1 || mask.shape[^i] == input.shape[^i];
        }

        if (!fits)
        {
            throw InputError($"the mask must be broadcastable to the inputs, each mask dimension (from the last) 1 or the input's (as in Keras). Received: inputs.shape=({string.Join(", ", input.shape)}), mask.shape=({string.Join(", ", mask.shape)}).");
        }
    }

    /// <summary>ONNX: Softmax over one axis without a mask; several axes or a mask have no ONNX form here.</summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call)
    {
        if (call.Input.Mask is not null)
        {
            throw OnnxGraph.Unsupported(this, "receives a mask; its masked softmax has no ONNX form here.");
        }

        if (Axes.Count > 1)
        {
            throw OnnxGraph.Unsupported(this, $"normalises over several axes [{string.Join(", ", Axes)}], which has no ONNX form here.");
        }

        return new[] { graph.Add("Softmax", Name, new[] { call.Input.Name }, OnnxGraph.Attr("axis", (long)Axes[0])) };
    }
}
