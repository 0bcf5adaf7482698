using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace KerasStyle.Engine;

/// <summary>
/// Keras activation functions by name, computed with TorchSharp as Keras 3.16 defines them
/// (keras/src/activations/activations.py, with each function's default arguments), plus Keras 2's
/// <c>hard_sigmoid</c> under the name <see cref="Keras2HardSigmoid"/>: models read from files written by Keras 2 /
/// tf.keras 2 compute what those versions computed (see docs/saving.md).
/// </summary>
public static class Activations
{
    /// <summary>
    /// Keras 2's (and tf.keras 2's) <c>hard_sigmoid</c>, clip(0.2 x + 0.5, 0, 1); Keras 3 redefined the name as
    /// relu6(x + 3) / 6. A file written by Keras 2 that says <c>hard_sigmoid</c> is read as this activation. In the
    /// Keras 3 form it is written as the registered function <c>KerasStyle&gt;keras2_hard_sigmoid</c> (Keras 3 loads it
    /// once that function is registered, see docs/saving.md), in the tf.keras 2 form as <c>hard_sigmoid</c>.
    /// </summary>
    public const string Keras2HardSigmoid = "keras2_hard_sigmoid";

    /// <summary>The registered name the Keras 3 form gives <see cref="Keras2HardSigmoid"/>.</summary>
    internal const string Keras2HardSigmoidRegistered = "KerasStyle>keras2_hard_sigmoid";

    private static readonly Dictionary<string, Func<Tensor, Tensor>> Functions = new(StringComparer.Ordinal)
    {
        ["linear"] = x => x.alias(),
        ["relu"] = x => nn.functional.relu(x),
        ["relu6"] = x => nn.functional.relu6(x),
        ["sigmoid"] = x => x.sigmoid(),
        ["tanh"] = x => x.tanh(),
        ["softmax"] = x => x.softmax(-1),
        ["log_softmax"] = x => x.log_softmax(-1),
        // Keras 3: relu6(x + 3) / 6, torch's hardsigmoid.
        ["hard_sigmoid"] = x => nn.functional.hardsigmoid(x),
        [Keras2HardSigmoid] = x => x.mul(Scalars.Of(0.2)).add(Scalars.Of(0.5), Scalars.IntOne).clamp(Scalars.Of(0.0), Scalars.Of(1.0)),
        // Keras 3: x * relu6(x + 3) / 6, torch's hardswish.
        ["hard_silu"] = x => nn.functional.hardswish(x),
        ["hard_swish"] = x => nn.functional.hardswish(x),
        ["elu"] = x => x.elu(Scalars.Of(1.0), Scalars.Of(1.0), Scalars.Of(1.0)),
        ["selu"] = x => nn.functional.selu(x),
        ["softplus"] = x => Scalars.Softplus(x),
        ["softsign"] = x => Softsign(x),
        ["exponential"] = x => x.exp(),
        ["silu"] = x => nn.functional.silu(x),
        ["swish"] = x => nn.functional.silu(x),
        // Keras 3's default approximate=False: the erf form.
        // Keras' exact gelu, x Φ(x), with Φ(x) = erfc(-x / √2) / 2: libtorch's fused gelu (1 + erf) loses the tail
        // to cancellation on some CPUs (AVX-512 on AMD Zen 5: 1e-3 relative near x = -3.5), erfc does not.
        ["gelu"] = x => x.mul(special.erfc(x.mul(Scalars.Of(-0.7071067811865476))).mul(Scalars.Of(0.5))),
        ["mish"] = x => Mish(x),
        // Keras 3's activation default negative_slope=0.2 (the LeakyReLU layer's is 0.3).
        ["leaky_relu"] = x => x.leaky_relu(Scalars.Of(0.2)),
        ["log_sigmoid"] = x => nn.functional.logsigmoid(x),
        ["celu"] = x => x.celu(Scalars.Of(1.0)),
        // Keras 3 (torch backend): torch's hardtanh, whose gradient is 1 strictly inside (-1, 1) and 0 elsewhere,
        // including exactly at ±1, where clamp's would be 1.
        ["hard_tanh"] = x => where(x.gt(Scalars.Of(-1.0)).logical_and(x.lt(Scalars.Of(1.0))), x, x.clamp(Scalars.Of(-1.0), Scalars.Of(1.0)).detach()),
        ["squareplus"] = x => x.add(Scalars.Square(x).add(Scalars.OfInt(4), Scalars.IntOne).sqrt(), Scalars.IntOne).div(Scalars.OfInt(2)),
        ["sparse_plus"] = x => where(x.le(Scalars.OfInt(-1)), zeros_like(x), where(x.ge(Scalars.IntOne), x, Scalars.Square(x.add(Scalars.IntOne, Scalars.IntOne)).div(Scalars.OfInt(4)))),
        ["tanh_shrink"] = x => x - x.tanh(),
        ["soft_shrink"] = x => Scalars.Softshrink(x),
        ["hard_shrink"] = x => Scalars.Hardshrink(x),
        // Keras 3 (torch backend): where(x <= -1, 0, where(x >= 1, 1, 0.5 (x + 1))), the same values as this clip.
        ["sparse_sigmoid"] = x => SparseSigmoid(x),
        // Keras 3: sparsemax over the last axis (its default axis=-1).
        ["sparsemax"] = x => Sparsemax(x),
        // Keras 3: a · sigmoid(b), a and b the halves of the last axis (its default axis=-1): halves that axis.
        ["glu"] = x => nn.functional.glu(x, -1),
    };

    /// <summary>
    /// Names <c>keras.activations.get</c> accepts that cannot be used by name, with the reason: Keras 3.16's
    /// <c>threshold(x, threshold, default_value)</c> has no defaults, so calling it by name fails in Keras too.
    /// </summary>
    private static readonly Dictionary<string, string> Unusable = new(StringComparer.Ordinal)
    {
        ["threshold"] = "Keras' threshold(x, threshold, default_value) has no default threshold or default_value, so it cannot be used by name (Keras fails when the layer calls it); use a ReLU layer with threshold, or an Activation of another name",
    };

    /// <summary>
    /// Keras 3's sparse_sigmoid as its torch backend writes it: where(x ≤ -1, 0, where(x ≥ 1, 1, 0.5 (x + 1))), so the
    /// gradient is 0 at ±1.
    /// </summary>
    private static Tensor SparseSigmoid(Tensor x)
    {
        using var scope = NewDisposeScope();
        var half = x.add(Scalars.IntOne, Scalars.IntOne).mul(Scalars.Of(0.5));
        var inner = where(x.ge(Scalars.Of(1.0)), ones_like(x), half);
        return where(x.le(Scalars.Of(-1.0)), zeros_like(x), inner).MoveToOuterDisposeScope();
    }


    /// <summary>Keras 3's sparsemax over the last axis, as its torch backend computes it (keras/src/backend/torch/nn.py).</summary>
    private static Tensor Sparsemax(Tensor x)
    {
        using var scope = NewDisposeScope();
        var sorted = x.sort(-1, descending: true).Values;
        var cumsum = sorted.cumsum(-1);
        var r = ones_like(sorted).cumsum(-1);
        var support = sorted.sub(cumsum.sub(Scalars.IntOne).div(r)).gt(Scalars.OfInt(0));
        var k = support.sum(-1, keepdim: true);
        var safe = where(support, cumsum, zeros_like(cumsum));
        var tau = safe.sum(-1, keepdim: true).sub(Scalars.IntOne).div(k);
        return x.sub(tau).clamp_min(Scalars.Of(0.0)).MoveToOuterDisposeScope();
    }

    /// <summary>torch's softsign as TorchSharp computes it, x / (1 + |x|), with cached Scalars.</summary>
    private static Tensor Softsign(Tensor x)
    {
        using var abs = x.abs();
        using var y = abs.add(Scalars.IntOne, Scalars.IntOne);
        return x.div(y);
    }

    /// <summary>torch's mish as TorchSharp computes it, x tanh(softplus(x)), with cached Scalars.</summary>
    private static Tensor Mish(Tensor x)
    {
        using var t1 = Scalars.Softplus(x);
        using var t2 = t1.tanh();
        return x.mul(t2);
    }

    /// <summary>
    /// The names tf.keras 2.11 knows with the same definition (its <c>hard_sigmoid</c> is <see cref="Keras2HardSigmoid"/>):
    /// only these can be written in the tf.keras 2 form.
    /// </summary>
    private static readonly HashSet<string> SameInTfKeras2 = new(StringComparer.Ordinal)
    {
        "linear", "relu", "sigmoid", "tanh", "softmax", "elu", "selu", "softplus", "softsign", "exponential", "swish", "silu", "gelu",
    };

    /// <summary>The names this library knows, in alphabetical order.</summary>
    public static IReadOnlyList<string> Names { get; } = Functions.Keys.Order(StringComparer.Ordinal).ToArray();

    /// <summary>Whether <paramref name="name"/> is a known activation.</summary>
    /// <param name="name">A Keras activation name such as <c>relu</c>.</param>
    public static bool IsKnown(string? name) => name is not null && Functions.ContainsKey(name);

    /// <summary>
    /// Why a name Keras' <c>activations.get</c> accepts cannot be used by name here (null when it can or is unknown):
    /// <c>threshold</c>, which needs arguments.
    /// </summary>
    internal static string? WhyUnusable(string name) => Unusable.GetValueOrDefault(name);

    /// <summary>
    /// Whether the activation changes the shape: <c>glu</c> halves the last axis, so only an <c>Activation</c> layer
    /// can apply it (Keras' Dense, Conv and recurrent layers declare an output shape it would not match).
    /// </summary>
    internal static bool HalvesLastAxis(string name) => name == "glu";

    /// <summary>
    /// Checks an activation name given to a layer constructor; null means linear, as in Keras. Names have Keras 3's
    /// definitions; <see cref="Keras2HardSigmoid"/> asks for Keras 2's <c>hard_sigmoid</c>.
    /// </summary>
    /// <param name="name">The name given.</param>
    /// <param name="layerClass">The class of the layer being built, for the message.</param>
    /// <param name="argument">The argument name, for the message.</param>
    /// <returns>The name to use.</returns>
    /// <exception cref="ArgumentException">An unknown name (the message lists the known ones).</exception>
    public static string Validate(string? name, string layerClass, string argument)
    {
        name ??= "linear";
        if (WhyUnusable(name) is string why)
        {
            throw new ArgumentException($"{layerClass}: activation '{name}' for {argument}: {why}.", argument);
        }

        if (HalvesLastAxis(name) && layerClass != nameof(KerasStyle.Layers.Activation))
        {
            throw new ArgumentException(
                $"{layerClass}: activation '{name}' for {argument} halves the last axis, so the layer's output would not have the shape {layerClass} declares (in Keras too); apply it with an Activation(\"{name}\") layer after it.", argument);
        }

        if (!Functions.ContainsKey(name))
        {
            throw new ArgumentException(
                $"{layerClass}: unknown activation '{name}' for {argument}; known activations are {string.Join(", ", Names)}.", argument);
        }

        return name;
    }

    /// <summary>Whether the activation works on each entry alone (not softmax, log_softmax and sparsemax, which normalise over the last axis, nor glu).</summary>
    internal static bool IsElementwise(string name) => name is not ("softmax" or "log_softmax" or "sparsemax" or "glu");

    /// <summary>Applies the named activation.</summary>
    /// <param name="name">A known activation name.</param>
    /// <param name="x">The input.</param>
    internal static Tensor Apply(string name, Tensor x) => Functions[name](x);

    /// <summary>
    /// The Keras 3 config value of an activation: its name, or for <see cref="Keras2HardSigmoid"/> the serialized
    /// registered function Keras 3 writes for a custom activation (so Keras 3 never reads it as its own hard_sigmoid).
    /// </summary>
    internal static JsonNode Serialize(string name) => name == Keras2HardSigmoid
        ? new JsonObject { ["module"] = "keras_style.activations", ["class_name"] = "function", ["config"] = Keras2HardSigmoidRegistered, ["registered_name"] = Keras2HardSigmoidRegistered }
        : JsonValue.Create(name);

    /// <summary>
    /// An activation value of a Keras 3 config as tf.keras 2.11 must read it: Keras 2's hard_sigmoid becomes
    /// <c>hard_sigmoid</c>; a name tf.keras 2 lacks or defines differently (Keras 3's hard_sigmoid, relu6...) cannot
    /// be written in that form.
    /// </summary>
    /// <exception cref="NotSupportedException">The activation has no tf.keras 2 equivalent (named, with the layer).</exception>
    internal static JsonNode ToTfKeras2(JsonNode? value, string layer, string key)
    {
        var name = value switch
        {
            JsonObject obj when (string?)obj["registered_name"] == Keras2HardSigmoidRegistered => Keras2HardSigmoid,
            JsonValue v when v.TryGetValue<string>(out var text) => text,
            _ => null,
        };
        return name == Keras2HardSigmoid ? JsonValue.Create("hard_sigmoid")!
            : name is not null && SameInTfKeras2.Contains(name) ? JsonValue.Create(name)!
            : throw new NotSupportedException($"layer '{layer}': {key}={value?.ToJsonString() ?? "null"} is Keras 3's definition, which tf.keras 2 does not have{(name == "hard_sigmoid" ? " (its hard_sigmoid is clip(0.2 x + 0.5, 0, 1); Keras 3's is relu6(x + 3) / 6)" : string.Empty)}, so the model cannot be saved in the tf.keras 2 form; save it as .keras or in the Keras 3 .h5 form.");
    }
}
