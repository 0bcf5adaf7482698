using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving;
using KerasStyle.Saving.Onnx;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// A dense layer given by an einsum equation, as Keras 3.16's <c>keras.layers.EinsumDense</c>
/// (keras/src/layers/core/einsum_dense.py): <c>activation(einsum(equation, input, kernel) + bias)</c>. The equation is
/// <c>"X,Y-&gt;Z"</c>, <c>"...X,Y-&gt;...Z"</c> or <c>"X...,Y-&gt;Z..."</c> (X the input's axes with the batch axis,
/// Y the kernel's, Z the output's); <see cref="OutputShape"/> gives the output's sizes after the batch axis (null
/// where the input gives it). E.g. <c>new EinsumDense("ab,bc-&gt;ac", new int?[] { 64 }, biasAxes: "c")</c> is a
/// Dense(64): input (batch, 32) -&gt; output (batch, 64). Weights: <c>kernel</c> (its shape from the equation,
/// glorot_uniform with Keras' fans over the kernel's input and output axes) and, with <see cref="BiasAxes"/>,
/// <c>bias</c> (zeros), shaped as the output from the first bias axis on (1 where an axis has no bias).
/// </summary>
/// <remarks>Keras' <c>lora_rank</c> and quantization are refused; <see cref="KernelConstraint"/> and <see cref="BiasConstraint"/> are applied after each optimizer update; initializers other
/// than glorot_uniform/zeros in a file are read with a warning (the file's weights replace them).</remarks>
[KerasLayer("EinsumDense"), Keras3OnlyArgument("quantization_config", null)]
public sealed class EinsumDense : Layer
{
    private static readonly Regex Plain = new("^([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)$", RegexOptions.CultureInvariant);
    private static readonly Regex LeftElided = new(@"^\.\.\.([a-zA-Z]+),([a-zA-Z]+)->\.\.\.([a-zA-Z]+)$", RegexOptions.CultureInvariant);
    private static readonly Regex RightElided = new(@"^([a-zA-Z]{2,})\.\.\.,([a-zA-Z]+)->([a-zA-Z]+)\.\.\.$", RegexOptions.CultureInvariant);

    private readonly string inputSpec;
    private readonly string weightSpec;
    private readonly string outputSpec;
    private readonly bool? leftElided;
    private LayerWeight? kernel;
    private LayerWeight? bias;
    private Shape? builtInput;

    /// <summary>Creates the layer.</summary>
    /// <param name="equation">The einsum equation, e.g. <c>"ab,bc-&gt;ac"</c> or <c>"...b,bc-&gt;...c"</c>.</param>
    /// <param name="outputShape">The output's sizes after the batch axis (Keras' <c>output_shape</c>; null entries are
    /// taken from the input; the elided axes are not listed).</param>
    /// <param name="activation">Keras activation name; null or <c>linear</c> for none.</param>
    /// <param name="biasAxes">The output axes (letters of the equation's output) that get a bias; null for no bias.</param>
    /// <param name="name">Layer name; defaults to <c>einsum_dense_N</c>.</param>
    /// <exception cref="ArgumentException">The equation has none of Keras' three forms, or a bias axis is not in its output.</exception>
    public EinsumDense(string equation, IReadOnlyList<int?> outputShape, string? activation = null, string? biasAxes = null, string? name = null)
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(equation);
        ArgumentNullException.ThrowIfNull(outputShape);
        (inputSpec, weightSpec, outputSpec, leftElided) = Parse(equation);
        if (biasAxes is not null && (biasAxes.Length == 0 || biasAxes.Any(c => !outputSpec.Contains(c, StringComparison.Ordinal))))
        {
            throw new ArgumentException($"EinsumDense: bias dimension(s) '{biasAxes}' requested, but not all are part of the output spec '{outputSpec}' of '{equation}'.", nameof(biasAxes));
        }

        if (outputShape.Any(d => d is <= 0))
        {
            throw new ArgumentException($"EinsumDense: output_shape sizes must be positive or null, got ({string.Join(", ", outputShape)}).", nameof(outputShape));
        }

        Equation = equation;
        OutputShape = outputShape.ToArray();
        Activation = Activations.Validate(activation, nameof(EinsumDense), nameof(activation));
        BiasAxes = biasAxes;
    }

    /// <summary>The einsum equation (Keras' <c>equation</c>).</summary>
    public string Equation { get; }

    /// <summary>The output's sizes after the batch axis, null where the input gives them (Keras' <c>output_shape</c>).</summary>
    public IReadOnlyList<int?> OutputShape { get; }

    /// <summary>The activation name.</summary>
    public string Activation { get; }

    /// <summary>The output axes with a bias (Keras' <c>bias_axes</c>), or null.</summary>
    public string? BiasAxes { get; }

    /// <summary>
    /// The kernel's initializer (Keras' <c>kernel_initializer</c>, default <see cref="Initializers.GlorotUniform"/>).
    /// As Keras, a <see cref="Initializers.VarianceScaling"/> without input and output axes is given the equation's
    /// (the kernel axes shared with the input, and with the output) when the layer builds, seed and arguments kept.
    /// </summary>
    public Initializers.Initializer KernelInitializer { get; init; } = new Initializers.GlorotUniform();

    /// <summary>The bias's initializer (Keras' <c>bias_initializer</c>, default <see cref="Initializers.Zeros"/>).</summary>
    public Initializers.Initializer BiasInitializer { get; init; } = new Initializers.Zeros();

    /// <summary>The kernel's penalty (Keras' <c>kernel_regularizer</c>, default null).</summary>
    public Regularizers.Regularizer? KernelRegularizer { get; init; }

    /// <summary>The bias's penalty (Keras' <c>bias_regularizer</c>, default null).</summary>
    public Regularizers.Regularizer? BiasRegularizer { get; init; }

    /// <summary>The kernel's projection after each optimizer update (Keras' <c>kernel_constraint</c>, default null), over the kernel's shape: <c>new EinsumDense("ab,bc->ac", 4) { KernelConstraint = new MaxNorm(1) }</c>.</summary>
    public Constraints.Constraint? KernelConstraint { get; init; }

    /// <summary>The bias's projection after each optimizer update (Keras' <c>bias_constraint</c>, default null).</summary>
    public Constraints.Constraint? BiasConstraint { get; init; }

    private static (string Input, string Weight, string Output, bool? LeftElided) Parse(string equation)
    {
        foreach (var (regex, left) in new[] { (Plain, (bool?)null), (LeftElided, true), (RightElided, false) })
        {
            var match = regex.Match(equation);
            if (match.Success)
            {
                return (match.Groups[1].Value, match.Groups[2].Value, match.Groups[3].Value, left);
            }
        }

        throw new ArgumentException($"EinsumDense: invalid einsum equation '{equation}'. Equations must be in the form [X],[Y]->[Z], ...[X],[Y]->...[Z], or [X]...,[Y]->[Z]....", nameof(equation));
    }

    /// <summary>Keras' <c>_analyze_einsum_string</c>: kernel, bias and output shapes, and the kernel's input and output axes.</summary>
    private (int?[] Kernel, int?[]? Bias, int?[] Output, int[] InputAxes, int[] OutputAxes) Analyze(Shape input)
    {
        var rank = input.Rank;
        if (leftElided is null ? rank != inputSpec.Length : rank < inputSpec.Length)
        {
            throw InputError($"the equation '{Equation}' takes inputs of rank {(leftElided is null ? "" : "at least ")}{inputSpec.Length} (with the batch axis), but got shape {input}.");
        }

        var elided = rank - inputSpec.Length;
        var output = new List<int?>(OutputShape);
        output.Insert(0, input[0]);
        if (elided > 0 && leftElided == true)
        {
            for (var i = 1; i < elided; i++)
            {
                output.Insert(1, input[i]);
            }
        }
        else if (elided > 0)
        {
            for (var i = rank - elided; i < rank; i++)
            {
                output.Add(input[i]);
            }
        }

        var left = leftElided == true;
        int InputAxis(char c) => left ? inputSpec.IndexOf(c, StringComparison.Ordinal) + elided : inputSpec.IndexOf(c, StringComparison.Ordinal);
        int OutputAxis(char c) => left ? outputSpec.IndexOf(c, StringComparison.Ordinal) + elided : outputSpec.IndexOf(c, StringComparison.Ordinal);
        if (output.Count != outputSpec.Length + elided)
        {
            throw InputError($"output_shape ({string.Join(", ", OutputShape.Select(d => d?.ToString() ?? "None"))}) has {OutputShape.Count} sizes, but the equation '{Equation}' on {input} gives an output of rank {outputSpec.Length + elided}, so it needs {outputSpec.Length + elided - output.Count + OutputShape.Count}.");
        }

        foreach (var c in inputSpec)
        {
            if (outputSpec.Contains(c, StringComparison.Ordinal) && output[OutputAxis(c)] is int o && input[InputAxis(c)] is int i && o != i)
            {
                throw InputError($"input shape and output shape do not match at shared dimension '{c}': the input {input} has {i}, and the output ({string.Join(", ", output.Select(d => d?.ToString() ?? "None"))}) {o}.");
            }
        }

        foreach (var c in outputSpec)
        {
            if (!inputSpec.Contains(c, StringComparison.Ordinal) && !weightSpec.Contains(c, StringComparison.Ordinal))
            {
                throw InputError($"dimension '{c}' was specified in the output '{outputSpec}' but has no corresponding dim in the input spec '{inputSpec}' or weight spec '{weightSpec}'.");
            }
        }

        var kernelShape = new List<int?>();
        var (inputAxes, outputAxes) = (new List<int>(), new List<int>());
        for (var w = 0; w < weightSpec.Length; w++)
        {
            var c = weightSpec[w];
            if (outputSpec.Contains(c, StringComparison.Ordinal))
            {
                kernelShape.Add(output[OutputAxis(c)]);
                outputAxes.Add(w);
            }
            else if (inputSpec.Contains(c, StringComparison.Ordinal))
            {
                kernelShape.Add(input[InputAxis(c)]);
                inputAxes.Add(w);
            }
            else
            {
                throw InputError($"weight dimension '{c}' did not have a match in either the input spec '{inputSpec}' or the output spec '{outputSpec}'; the weight must be fully specified.");
            }
        }

        int?[]? biasShape = null;
        if (BiasAxes is not null)
        {
            var first = BiasAxes.Min(c => outputSpec.IndexOf(c, StringComparison.Ordinal));
            var shift = left ? elided : 0;
            var shape = outputSpec[first..].Select(c => BiasAxes.Contains(c, StringComparison.Ordinal) ? output[outputSpec.IndexOf(c, StringComparison.Ordinal) + shift] : 1).ToList();
            if (!left)
            {
                shape.AddRange(Enumerable.Repeat<int?>(1, elided));
            }

            biasShape = shape.ToArray();
        }

        return (kernelShape.ToArray(), biasShape, output.ToArray(), inputAxes.ToArray(), outputAxes.ToArray());
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["output_shape"] = new JsonArray(OutputShape.Select(d => d is int v ? (JsonNode)v : null).ToArray());
        config["equation"] = Equation;
        config["activation"] = Activations.Serialize(Activation);
        config["bias_axes"] = BiasAxes;
        AddKernelAndBiasConfig(config, KernelInitializer, BiasInitializer, KernelRegularizer, BiasRegularizer, kernelConstraint: KernelConstraint, biasConstraint: BiasConstraint);
        config["quantization_config"] = null;
        return config;
    }

    /// <summary>Creates the layer from a Keras 3 or tf.keras 2 config; refuses <c>lora_rank</c> and quantization.</summary>
    internal static EinsumDense FromConfig(LayerConfig config)
    {
        var (regularizers, constraints) = ReadKernelAndBiasConfigWithConstraints(config, "quantization_config", "gptq_unpacked_column_size");
        var outputShape = config.GetRaw("output_shape") switch
        {
            JsonArray list => list.Select(d => d is null ? (int?)null : d is JsonValue v && v.TryGetValue<int>(out var n) ? n : throw config.Error($"'output_shape' entries must be integers or null, got {d.ToJsonString()}.")).ToArray(),
            JsonValue one when one.TryGetValue<int>(out var n) => new int?[] { n },
            var other => throw config.Error($"'output_shape' must be an integer or a list, got {other?.ToJsonString() ?? "nothing"}."),
        };
        var equation = config.GetNullableString("equation") ?? throw config.Error("the argument 'equation' is required.");
        return new EinsumDense(equation, outputShape, config.GetActivation("activation", "linear"), config.GetNullableString("bias_axes"), config.Name)
        {
            KernelInitializer = config.GetInitializer("kernel_initializer", new Initializers.GlorotUniform()),
            BiasInitializer = config.GetInitializer("bias_initializer", new Initializers.Zeros()),
            KernelRegularizer = regularizers.Kernel,
            BiasRegularizer = regularizers.Bias,
            KernelConstraint = constraints.Kernel,
            BiasConstraint = constraints.Bias,
        };
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        RequireFloat(input);
        if (Built && !SameSizes(builtInput!, input.Shape))
        {
            throw InputError($"it was built for inputs of shape {builtInput}, but {input.Label} has shape {input.Shape}.");
        }

        var (kernelShape, _, output, _, _) = Analyze(input.Shape);
        if (kernelShape.Any(d => d is null))
        {
            throw InputError($"the kernel's shape ({string.Join(", ", kernelShape.Select(d => d?.ToString() ?? "None"))}) from '{Equation}' needs sizes that {input.Label} with shape {input.Shape} leaves unknown.");
        }

        return new[] { (new Shape(output), DType.Float32) };
    }

    private static bool SameSizes(Shape built, Shape other) =>
        built.Rank == other.Rank && built.Skip(1).Zip(other.Skip(1)).All(p => p.First is null || p.Second is null || p.First == p.Second);

    /// <inheritdoc/>
    protected override void Build(KerasTensor input)
    {
        builtInput = input.Shape;
        var (kernelShape, biasShape, _, inputAxes, outputAxes) = Analyze(input.Shape);
        var shape = kernelShape.Select(d => (long)d!.Value).ToArray();
        var kernelInitializer = KernelInitializer is Initializers.VarianceScaling { InputAxes: null } or Initializers.VarianceScaling { OutputAxes: null }
            ? ((Initializers.VarianceScaling)KernelInitializer).WithAxes(inputAxes, outputAxes)
            : KernelInitializer;
        kernel = AddWeight("kernel", shape, Initial(kernelInitializer, shape, "kernel"));
        kernel.Regularizer = KernelRegularizer;
        kernel.Constraint = KernelConstraint;
        if (biasShape is not null)
        {
            var b = biasShape.Select(d => (long)(d ?? throw InputError($"the bias needs the size of an axis that {input.Shape} leaves unknown."))).ToArray();
            bias = AddWeight("bias", b, Initial(BiasInitializer, b, "bias"));
            bias.Regularizer = BiasRegularizer;
            bias.Constraint = BiasConstraint;
        }
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask)
    {
        var x = einsum(Equation, input, kernel!.Variable);
        if (bias is not null)
        {
            x = x.add(bias.Variable, Scalars.IntOne);
        }

        return Activations.Apply(Activation, x);
    }

    /// <summary>ONNX: an Einsum node with the kernel, an Add of the bias, then the activation.</summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call)
    {
        var x = graph.Add("Einsum", Name, new[] { call.Input.Name, graph.Weight(kernel!) }, OnnxGraph.Attr("equation", Equation));
        if (bias is not null)
        {
            x = graph.Add("Add", Name, new[] { x, graph.Weight(bias) });
        }

        return new[] { graph.Activation(x, Activation, Name) };
    }
}
