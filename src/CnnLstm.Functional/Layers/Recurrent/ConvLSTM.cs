using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving;
using KerasStyle.Saving.Onnx;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// What <see cref="ConvLSTM1D"/>, <see cref="ConvLSTM2D"/> and <see cref="ConvLSTM3D"/> share, as Keras' <c>ConvLSTM</c>
/// (keras/src/layers/rnn/conv_lstm.py): an <see cref="RNN"/> whose cell (<c>conv_lstm_cell</c>) is an LSTM with
/// convolutions for its products, run by the library's one recurrent loop (goBackwards, masks, initial states,
/// dropout masks drawn once per call). Input (batch, steps, spatial..., channels) with <c>channels_last</c>, or (batch,
/// steps, channels, spatial...) with <c>channels_first</c>; the spatial sizes and channels must be known (Keras
/// requires static spatial sizes too). Output (batch, out spatial..., filters), or (batch, steps, out spatial...,
/// filters) with <c>returnSequences</c> (channels first: filters before the spatial axes); with <c>returnState</c>
/// also the last h and c, each the shape of one output step. The output spatial sizes are a convolution's with the
/// layer's kernel, strides, padding and dilation. Weights: kernel (kernel..., channels, 4 filters), recurrent_kernel
/// (kernel..., filters, 4 filters), bias (4 filters), gate blocks i, f, c, o, saved under <c>cell/vars</c>.
/// </summary>
/// <remarks>
/// With <c>stateful</c> (<see cref="RNN.Stateful"/>) the last h and c of each sample start the same sample of the
/// next batch, as Keras; the batch size is fixed by the input (<c>new Input(..., batchSize: n)</c>), and
/// <see cref="RNN.States"/> is refused (the states have spatial axes; use <c>returnState</c>).
/// Not supported: ONNX export (refused naming the layer).
/// </remarks>
public abstract class ConvLSTM : RNN
{
    private protected ConvLSTM(int rank, string layerClass, int filters, int[] kernelSize, int[] strides, string padding, string? dataFormat, int[] dilationRate,
        string activation, string recurrentActivation, bool useBias, bool unitForgetBias, double dropout, double recurrentDropout,
        bool returnSequences, bool returnState, bool goBackwards, bool stateful, string? name, bool zeroOutputForMask)
        : base(new ConvLSTMCell(layerClass, CheckFormat(dataFormat, layerClass), rank, filters, kernelSize, strides, padding, dilationRate, activation, recurrentActivation, useBias, unitForgetBias, dropout, recurrentDropout),
            returnSequences, returnState, goBackwards, zeroOutputForMask, name, stateful)
    {
        ChannelsFirst = CheckFormat(dataFormat, layerClass);
    }

    /// <summary>Output channels (Keras' <c>filters</c>).</summary>
    public int Filters => ConvCell.Filters;

    /// <summary>Window per spatial axis.</summary>
    public IReadOnlyList<int> KernelSize => ConvCell.KernelSize;

    /// <summary>Stride per spatial axis of the input convolution.</summary>
    public IReadOnlyList<int> Strides => ConvCell.Strides;

    /// <summary>Dilation per spatial axis of the input convolution.</summary>
    public IReadOnlyList<int> DilationRate => ConvCell.DilationRate;

    /// <summary><c>valid</c> or <c>same</c> (the recurrent convolution is always 'same').</summary>
    public string Padding => ConvCell.PaddingMode.Name();

    /// <summary><c>channels_last</c> or <c>channels_first</c>.</summary>
    public string DataFormat => ChannelsFirst ? "channels_first" : "channels_last";

    /// <summary>The activation of the candidate and output (default tanh).</summary>
    public string Activation => ConvCell.Activation;

    /// <summary>Gate activation (default sigmoid).</summary>
    public string RecurrentActivation => ConvCell.RecurrentActivation;

    /// <summary>Whether a bias is added.</summary>
    public bool UseBias => ConvCell.UseBias;

    /// <summary>Whether the forget-gate bias starts at 1.</summary>
    public bool UnitForgetBias => ConvCell.UnitForgetBias;

    /// <summary>The input dropout rate.</summary>
    public double Dropout => ConvCell.Dropout;

    /// <summary>The recurrent dropout rate.</summary>
    public double RecurrentDropout => ConvCell.RecurrentDropout;

    /// <summary>The kernel's initializer (Keras' <c>kernel_initializer</c>, default <see cref="Initializers.GlorotUniform"/>), over (kernel size..., channels, 4 filters).</summary>
    public Initializers.Initializer KernelInitializer { get => ConvCell.KernelInitializer; init => ConvCell.SetInitializer(0, value); }

    /// <summary>The recurrent kernel's initializer (Keras' <c>recurrent_initializer</c>, default <see cref="Initializers.Orthogonal"/>), over (kernel size..., filters, 4 filters).</summary>
    public Initializers.Initializer RecurrentInitializer { get => ConvCell.RecurrentInitializer; init => ConvCell.SetInitializer(1, value); }

    /// <summary>The bias's initializer (Keras' <c>bias_initializer</c>, default <see cref="Initializers.Zeros"/>); with <see cref="UnitForgetBias"/> called for the input gate and for the cell and output gates, the forget gate's ones between, as Keras.</summary>
    public Initializers.Initializer BiasInitializer { get => ConvCell.BiasInitializer; init => ConvCell.SetInitializer(2, value); }

    /// <summary>The kernel's penalty (Keras' <c>kernel_regularizer</c>, default null).</summary>
    public Regularizers.Regularizer? KernelRegularizer { get => ConvCell.KernelRegularizer; init => ConvCell.SetRegularizer(0, value); }

    /// <summary>The recurrent kernel's penalty (Keras' <c>recurrent_regularizer</c>, default null).</summary>
    public Regularizers.Regularizer? RecurrentRegularizer { get => ConvCell.RecurrentRegularizer; init => ConvCell.SetRegularizer(1, value); }

    /// <summary>The bias's penalty (Keras' <c>bias_regularizer</c>, default null).</summary>
    public Regularizers.Regularizer? BiasRegularizer { get => ConvCell.BiasRegularizer; init => ConvCell.SetRegularizer(2, value); }

    /// <summary>The kernel's projection after each optimizer update (Keras' <c>kernel_constraint</c>, default null), over (kernel size..., channels, 4 filters): <c>new ConvLSTM1D(4, 3) { KernelConstraint = new MaxNorm(2, new[] { 0, 1 }) }</c>.</summary>
    public Constraints.Constraint? KernelConstraint { get => ConvCell.KernelConstraint; init => ConvCell.SetConstraint(0, value); }

    /// <summary>The recurrent kernel's projection after each optimizer update (Keras' <c>recurrent_constraint</c>, default null), over (kernel size..., filters, 4 filters).</summary>
    public Constraints.Constraint? RecurrentConstraint { get => ConvCell.RecurrentConstraint; init => ConvCell.SetConstraint(1, value); }

    /// <summary>The bias's projection after each optimizer update (Keras' <c>bias_constraint</c>, default null), over (4 filters).</summary>
    public Constraints.Constraint? BiasConstraint { get => ConvCell.BiasConstraint; init => ConvCell.SetConstraint(2, value); }

    private bool ChannelsFirst { get; }

    private ConvLSTMCell ConvCell => (ConvLSTMCell)Cell;

    private int Rank => ConvCell.Rank;

    private protected override bool NamesCellWeights => false;

    /// <summary>
    /// tf.keras 2's default name prefix (<c>conv_lst_m2d</c>: its snake case counts digits as lower case), or Keras 3's
    /// (<c>conv_lstm2d</c>) under <see cref="ConsoleStyle.Keras3"/> names.
    /// </summary>
    protected override string DefaultNamePrefix => Backend.ConsoleStyle == ConsoleStyle.Keras3 ? NameScope.ToKeras3SnakeCase(GetType().Name) : base.DefaultNamePrefix;

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var cell = ConvCell;
        var config = RnnConfig();
        config["filters"] = Filters;
        config["kernel_size"] = Json(cell.KernelSize);
        config["strides"] = Json(cell.Strides);
        config["padding"] = Padding;
        config["data_format"] = DataFormat;
        config["dilation_rate"] = Json(cell.DilationRate);
        config["activation"] = Activations.Serialize(Activation);
        config["recurrent_activation"] = Activations.Serialize(RecurrentActivation);
        config["use_bias"] = UseBias;
        config["kernel_initializer"] = KernelInitializer.Serialize();
        config["recurrent_initializer"] = RecurrentInitializer.Serialize();
        config["bias_initializer"] = BiasInitializer.Serialize();
        config["unit_forget_bias"] = UnitForgetBias;
        config["kernel_regularizer"] = KernelRegularizer?.Serialize();
        config["recurrent_regularizer"] = RecurrentRegularizer?.Serialize();
        config["bias_regularizer"] = BiasRegularizer?.Serialize();
        config["activity_regularizer"] = ActivityRegularizer?.Serialize();
        config["kernel_constraint"] = KernelConstraint?.Serialize();
        config["recurrent_constraint"] = RecurrentConstraint?.Serialize();
        config["bias_constraint"] = BiasConstraint?.Serialize();
        config["dropout"] = Dropout;
        config["recurrent_dropout"] = RecurrentDropout;
        config["seed"] = null;
        return config;
    }

    /// <summary>The arguments of a ConvLSTM config (Keras 3 or tf.keras 2), checked as the constructor checks them.</summary>
    private protected static Arguments ReadConfig(LayerConfig config, int rank, string layerClass)
    {
        var options = ReadOptions(config);
        config.Ignore("seed");
        return new Arguments(config.GetInt("filters"), Tuple(config, "kernel_size", rank, null), Tuple(config, "strides", rank, 1), config.GetString("padding", "valid"),
            config.GetNullableString("data_format"), Tuple(config, "dilation_rate", rank, 1), config.GetActivation("activation", "tanh"),
            config.GetActivation("recurrent_activation", "sigmoid"), config.GetBool("use_bias", true), config.GetBool("unit_forget_bias", true),
            DropoutRNNCell.CheckRate(config.GetDouble("dropout", 0), layerClass, "dropout"), DropoutRNNCell.CheckRate(config.GetDouble("recurrent_dropout", 0), layerClass, "recurrent_dropout"),
            options.ReturnSequences, options.ReturnState, options.GoBackwards, options.ZeroOutputForMask, config.Name, options.Stateful)
        {
            KernelInitializer = config.GetInitializer("kernel_initializer", new Initializers.GlorotUniform()),
            RecurrentInitializer = config.GetInitializer("recurrent_initializer", new Initializers.Orthogonal()),
            BiasInitializer = config.GetInitializer("bias_initializer", new Initializers.Zeros()),
            KernelRegularizer = config.GetRegularizer("kernel_regularizer"),
            RecurrentRegularizer = config.GetRegularizer("recurrent_regularizer"),
            BiasRegularizer = config.GetRegularizer("bias_regularizer"),
            KernelConstraint = config.GetConstraint("kernel_constraint"),
            RecurrentConstraint = config.GetConstraint("recurrent_constraint"),
            BiasConstraint = config.GetConstraint("bias_constraint"),
        };

        static int[] Tuple(LayerConfig config, string key, int rank, int? defaultValue) =>
            defaultValue is int value ? config.GetTuple(key, rank, value)
            : config.GetRaw(key) is null ? throw config.Error($"the argument '{key}' is required.") : config.GetTuple(key, rank, 0);
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        var layout = ChannelsFirst ? "(batch, steps, channels, spatial...)" : "(batch, steps, spatial..., channels)";
        RequireRank(input, Rank + 3, $"{layout} with {Rank} spatial axes");
        RequireFloat(input);
        CheckStatefulInput(input);
        var step = ToChannelsLast(input.Shape.Skip(2).ToArray());
        if (step[^1] is not int channels)
        {
            throw InputError($"the channel dimension of the input must be known, but {input.Label} has shape {input.Shape}.");
        }

        if (step.Take(Rank).Any(d => d is null))
        {
            throw InputError($"ConvLSTM layers need known spatial sizes (Keras: static input shapes for the spatial dimension), but {input.Label} has shape {input.Shape}.");
        }

        if (Cell.Built && channels != Cell.InputDim)
        {
            throw InputError($"its cell was built for {Cell.InputDim} channels, but {input.Label} has shape {input.Shape} with {channels} channels.");
        }

        var spatial = ConvCell.OutputSpatial(step.Take(Rank).ToArray());
        if (spatial.Any(s => s <= 0))
        {
            throw InputError($"kernel size ({string.Join(", ", KernelSize)}) (dilation ({string.Join(", ", DilationRate)})) does not fit {input.Label} with shape {input.Shape} with padding '{Padding}': the output would have spatial sizes ({string.Join(", ", spatial)}).");
        }

        var state = FromChannelsLast(spatial.Append(Filters).ToArray());
        var output = (ReturnSequences ? Shape.WithBatch(new[] { input.Shape[1] }.Concat(state)) : Shape.WithBatch(state), DType.Float32);
        return ReturnState ? new[] { output, (Shape.WithBatch(state), DType.Float32), (Shape.WithBatch(state), DType.Float32) } : new[] { output };
    }

    private protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input, IReadOnlyList<KerasTensor> initialState)
    {
        var specs = ComputeOutputSpecs(input);
        var state = Shape.WithBatch(specs[0].Shape.Skip(ReturnSequences ? 2 : 1));
        if (initialState.Count != 2 || initialState.Any(s => s is null || !s.Shape.Equals(state) || s.DType != DType.Float32))
        {
            throw InputError($"an initial state is two float32 tensors h and c of shape {state}, but got {(initialState.Any(s => s is null) ? "a null state" : initialState.Count == 0 ? "none" : Describe(initialState))}.");
        }

        return specs;
    }

    /// <summary>Builds the cell on one channels-last step.</summary>
    protected override void Build(KerasTensor input) =>
        base.Build(ChannelsFirst ? new KerasTensor(Shape.WithBatch(new[] { input.Shape[1] }.Concat(ToChannelsLast(input.Shape.Skip(2).ToArray()))), input.DType, this, InboundNodes.Count, 0) { BatchSize = input.BatchSize } : input);

    /// <summary>Runs the loop channels-last: a channels-first sequence and states are turned around it, and the outputs back.</summary>
    protected override IReadOnlyList<Tensor> Call(IReadOnlyList<Tensor> inputs, bool training, IReadOnlyList<Tensor?> masks)
    {
        if (!ChannelsFirst)
        {
            return base.Call(inputs, training, masks);
        }

        var turned = inputs.Select((t, i) => i == 0 ? t.movedim(new long[] { 2 }, new long[] { -1 }) : t.movedim(new long[] { 1 }, new long[] { -1 })).ToArray();
        var outputs = base.Call(turned, training, masks);
        return outputs.Select((t, i) => t.movedim(new long[] { -1 }, new long[] { i == 0 && ReturnSequences ? 2 : 1 })).ToArray();
    }

    /// <summary>Refused: the convolutional cell has no ONNX form here.</summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call) =>
        throw OnnxGraph.Unsupported(this, "cannot be exported to ONNX by this library (its convolutional recurrent loop has no ONNX form here).");

    private int?[] ToChannelsLast(int?[] step) => ChannelsFirst ? step.Skip(1).Append(step[0]).ToArray() : step;

    private int?[] FromChannelsLast(int?[] step) => ChannelsFirst ? new[] { step[^1] }.Concat(step.Take(step.Length - 1)).ToArray() : step;

    private static JsonArray Json(IEnumerable<int> sizes) => new(sizes.Select(s => (JsonNode?)s).ToArray());

    /// <summary>Checks data_format before anything is made; true for channels_first.</summary>
    private static bool CheckFormat(string? dataFormat, string layerClass) => (dataFormat ?? "channels_last").ToLowerInvariant() switch
        {
            "channels_last" => false,
            "channels_first" => true,
            _ => throw new ArgumentException($"{layerClass}: data_format must be 'channels_last' or 'channels_first', got '{dataFormat}'.", nameof(dataFormat)),
        };

    /// <summary>A ConvLSTM config's arguments.</summary>
    private protected sealed record Arguments(int Filters, int[] KernelSize, int[] Strides, string Padding, string? DataFormat, int[] DilationRate,
        string Activation, string RecurrentActivation, bool UseBias, bool UnitForgetBias, double Dropout, double RecurrentDropout,
        bool ReturnSequences, bool ReturnState, bool GoBackwards, bool ZeroOutputForMask, string Name, bool Stateful)
    {
        public Initializers.Initializer KernelInitializer { get; init; } = new Initializers.GlorotUniform();

        public Initializers.Initializer RecurrentInitializer { get; init; } = new Initializers.Orthogonal();

        public Initializers.Initializer BiasInitializer { get; init; } = new Initializers.Zeros();

        public Regularizers.Regularizer? KernelRegularizer { get; init; }

        public Regularizers.Regularizer? RecurrentRegularizer { get; init; }

        public Regularizers.Regularizer? BiasRegularizer { get; init; }

        public Constraints.Constraint? KernelConstraint { get; init; }

        public Constraints.Constraint? RecurrentConstraint { get; init; }

        public Constraints.Constraint? BiasConstraint { get; init; }
    }
}
