using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;

namespace KerasStyle.Saving;

/// <summary>
/// The Keras model config (<c>config.json</c> in a <c>.keras</c> file, <c>model.to_json()</c>): written in the
/// Keras 3 form, read in the Keras 3 form and in the Keras 2 / tf.keras 2 form (<c>class_name</c> <c>Model</c>,
/// <c>batch_input_shape</c>, <c>inbound_nodes: [[["dropout_1", 0, 0, {}]]]</c>).
/// </summary>
internal static class ModelConfig
{
    /// <summary>
    /// The deepest a model config's JSON may nest. Keras 3.16 writes three levels per model inside a model (a model
    /// nested 20 deep is 67 deep, beyond System.Text.Json's default of 64); 256 reads about 80 levels of nesting, and
    /// keeps a hostile file's nesting (and the recursion that builds it) far from the stack's limit.
    /// </summary>
    public const int MaxJsonDepth = 256;

    /// <summary>The options every model config (and training config) is parsed with: <see cref="MaxJsonDepth"/>.</summary>
    public static readonly System.Text.Json.JsonDocumentOptions JsonOptions = new() { MaxDepth = MaxJsonDepth };

    /// <summary>
    /// The Keras 3 serialized model as Keras 3.16 writes it: <c>{"module": "keras.src.models.functional",
    /// "class_name": "Functional", "config": ..., "registered_name": "Functional"}</c>, or <c>{"module": "keras",
    /// "class_name": "Sequential", ...}</c>.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="modelNodes">The model's nodes (a shared layer may have calls outside the model).</param>
    /// <param name="compileConfig">The compile config, or null when the model is not compiled.</param>
    public static JsonObject Serialize(Model model, IReadOnlyCollection<Node> modelNodes, JsonObject? compileConfig)
    {
        var sequential = model is Sequential;
        var config = sequential ? SequentialConfig((Sequential)model) : FunctionalConfig(model, modelNodes);
        var batchShape = ShapeJson(model.Inputs[0]);
        var root = new JsonObject
        {
            // What Keras 3.16 writes: it cannot deserialize {"module": "keras", "class_name": "Functional"}.
            ["module"] = sequential ? "keras" : "keras.src.models.functional",
            ["class_name"] = sequential ? "Sequential" : "Functional",
            ["config"] = config,
            ["registered_name"] = sequential ? null : "Functional",
            ["build_config"] = new JsonObject { ["input_shape"] = sequential ? batchShape : null },
        };
        // Keras writes an empty compile_config for a model that was never compiled.
        root["compile_config"] = compileConfig ?? new JsonObject();

        return root;
    }

    /// <summary>
    /// Builds a model from a serialized model in the Keras 3 or Keras 2 form. Throws <see cref="FormatException"/>
    /// for invalid configs (unknown classes or arguments, missing layers) and <see cref="NotSupportedException"/> for
    /// Keras features this library does not implement.
    /// </summary>
    /// <param name="root">The parsed JSON.</param>
    /// <param name="keras2">Whether Keras 2 / tf.keras 2 wrote the config (see <see cref="WrittenByKeras2"/>); its
    /// layers then compute as that version did.</param>
    /// <returns>The model and the compile config, if any.</returns>
    public static (Model Model, JsonObject? CompileConfig) Deserialize(JsonNode? root, bool keras2)
    {
        var top = root as JsonObject ?? throw new FormatException("a Keras model config must be a JSON object with 'class_name' and 'config'.");
        var className = Text(top["class_name"], "class_name");
        Model model = className switch
        {
            "Functional" or "Model" => BuildFunctional(top["config"] as JsonObject ?? throw new FormatException($"'{className}' config must be an object."), keras2),
            "Sequential" => BuildSequential(top["config"], keras2),
            _ => throw new FormatException($"'{className}' is not a model class this library can load; expected Functional, Model or Sequential."),
        };
        // Keras writes "compile_config": {} for a model that was never compiled.
        return (model, top["compile_config"] is JsonObject { Count: > 0 } compile ? compile : null);
    }

    /// <summary>
    /// Whether Keras 2 / tf.keras 2 wrote a model config: by the version recorded with it (the <c>keras_version</c>
    /// attribute of an <c>.h5</c> file, or the key of that name Keras 2's <c>to_json</c> writes), else by its form:
    /// Keras 3 always writes a top-level <c>module</c>, Keras 2 never.
    /// </summary>
    /// <param name="root">The parsed config.</param>
    /// <param name="fileVersion">The file's <c>keras_version</c>, or null.</param>
    public static bool WrittenByKeras2(JsonNode? root, string? fileVersion)
    {
        var version = fileVersion ?? (root is JsonObject o && o["keras_version"] is JsonValue v && v.TryGetValue<string>(out var text) ? text : null);
        return version is not null ? !version.StartsWith("3.", StringComparison.Ordinal) : root is JsonObject top && !top.ContainsKey("module");
    }

    private static JsonObject FunctionalConfig(Model model, IReadOnlyCollection<Node> modelNodes)
    {
        var nodeSet = modelNodes.ToHashSet();
        // Keras re-indexes each layer's nodes over the ones that belong to this model.
        var reindexed = new Dictionary<Node, int>();
        foreach (var layer in model.Layers)
        {
            var kept = 0;
            foreach (var node in layer.InboundNodes.Where(nodeSet.Contains))
            {
                reindexed[node] = kept++;
            }
        }

        JsonArray TensorRef(KerasTensor t) => new(t.Layer.Name, reindexed[t.Node], t.TensorIndex);

        // Keras 3's get_config numbers a nested functional model's calls from 1 here (its node 0 is its own graph).
        JsonArray ModelTensorRef(KerasTensor t) => new(t.Layer.Name, reindexed[t.Node] + (t.Layer is ModelLayer { Model: not Sequential } ? 1 : 0), t.TensorIndex);
        var layers = new JsonArray();
        foreach (var layer in model.Layers)
        {
            var entry = LayerEntry(layer, layer.InboundNodes.FirstOrDefault(nodeSet.Contains));
            entry["name"] = layer.Name;
            entry["inbound_nodes"] = new JsonArray(layer.InboundNodes.Where(n => nodeSet.Contains(n) && n.Inputs.Count > 0).Select(n =>
            {
                var tensors = n.Inputs.Select(input => (JsonNode)new JsonObject
                {
                    ["class_name"] = "__keras_tensor__",
                    ["config"] = new JsonObject
                    {
                        ["shape"] = ShapeJson(input),
                        ["dtype"] = input.DType.ToKerasName(),
                        ["keras_history"] = TensorRef(input),
                    },
                }).ToArray();
                // A call on a list (a merge) is one positional argument holding the list, and an initial state is a
                // keyword argument, as Keras records them.
                var positional = tensors[..(tensors.Length - n.InitialStates)];
                var kwargs = new JsonObject();
                if (n.Layer.NodeTensorNames(n) is { } names)
                {
                    // MultiHeadAttention: query and value positionally, key and attention_mask by name, as Keras' call.
                    for (var i = 2; i < names.Count; i++)
                    {
                        kwargs[names[i]] = positional[i];
                    }

                    positional = positional[..2];
                }

                if (n.InitialStates > 0)
                {
                    kwargs["initial_state"] = new JsonArray(tensors[(tensors.Length - n.InitialStates)..]);
                }

                foreach (var (key, value) in n.Layer.CallArguments())
                {
                    kwargs[key] = value?.DeepClone();
                }

                return (JsonNode)new JsonObject
                {
                    ["args"] = n.CalledOnList && n.Layer.TensorArgumentNames is null ? new JsonArray(new JsonArray(positional)) : new JsonArray(positional),
                    ["kwargs"] = kwargs,
                };
            }).ToArray());
            layers.Add(entry);
        }

        return new JsonObject
        {
            ["name"] = model.Name,
            ["trainable"] = true,
            ["layers"] = layers,
            ["input_layers"] = new JsonArray(model.Inputs.Select(t => (JsonNode)ModelTensorRef(t)).ToArray()),
            ["output_layers"] = new JsonArray(model.Outputs.Select(t => (JsonNode)ModelTensorRef(t)).ToArray()),
        };
    }

    private static JsonObject SequentialConfig(Sequential model)
    {
        var input = model.Inputs[0];
        var layers = new JsonArray { LayerEntry(input.Layer, null) };
        foreach (var layer in model.Layers)
        {
            layers.Add(LayerEntry(layer, layer.InboundNodes[0]));
        }

        return new JsonObject
        {
            ["name"] = model.Name,
            ["trainable"] = true,
            ["dtype"] = Layer.Float32Policy(),
            ["layers"] = layers,
            ["build_input_shape"] = ShapeJson(input),
        };
    }

    /// <summary>
    /// A Keras 3 serialized layer; <c>build_config</c> records the shape its first call in the model got. As Keras,
    /// only layers that build something (have weights) record it.
    /// </summary>
    private static JsonObject LayerEntry(Layer layer, Node? firstNode)
    {
        var entry = SerializeLayer(layer, null);
        if (firstNode is { Inputs.Count: > 0 } && RecordsBuild(layer))
        {
            // What Keras' get_build_config writes: one shape, the list a merge was called on, or a recurrent layer's
            // sequence and initial-state shapes.
            var shapes = firstNode.Inputs.Select(t => (JsonNode)ShapeJson(t)).ToArray();
            entry["build_config"] = layer.BuildConfigOf(firstNode, s => ShapeJson(s)) ?? (JsonNode)(firstNode.InitialStates > 0
                ? new JsonObject { ["shapes_dict"] = new JsonObject { ["sequences_shape"] = shapes[0].DeepClone(), ["initial_state_shape"] = new JsonArray(shapes[1..].Select(s => s.DeepClone()).ToArray()) } }
                : new JsonObject { ["input_shape"] = firstNode.CalledOnList ? new JsonArray(shapes) : shapes[0] });
        }

        return entry;
    }

    /// <summary>Whether Keras records how the layer was built: not for input layers, models, nor the layers Keras builds when they are made (activations, dropout, noise, pooling, Masking).</summary>
    private static bool RecordsBuild(Layer layer) => layer is not (InputLayer or ModelLayer) && !layer.BuiltAtInit;

    /// <summary>
    /// A serialized layer as Keras writes it: <c>module</c>, <c>class_name</c>, <c>config</c>,
    /// <c>registered_name</c>, and <c>build_config</c> with the input shape it was built for (a wrapper's inner layer;
    /// a model's layers get theirs from their first node).
    /// </summary>
    internal static JsonObject SerializeLayer(Layer layer, Shape? builtFor)
    {
        if (layer is ModelLayer nested)
        {
            // As Keras writes a model inside a model: the whole serialized model, with an empty compile_config.
            return Serialize(nested.Model, nested.Model.TopologyNodes, null);
        }

        var builtIn = layer.IsLibraryLayer;
        var entry = new JsonObject
        {
            ["module"] = builtIn ? "keras.layers" : null,
            ["class_name"] = layer.ClassName,
            ["config"] = layer.GetConfig(),
            ["registered_name"] = builtIn ? null : layer.ClassName,
        };
        if (builtFor is not null && RecordsBuild(layer))
        {
            entry["build_config"] = new JsonObject { ["input_shape"] = ShapeJson(builtFor) };
        }

        return entry;
    }

    /// <summary>A tensor's shape as Keras writes it, with its fixed batch size (<see cref="KerasTensor.BatchSize"/>) if any.</summary>
    private static JsonArray ShapeJson(KerasTensor tensor) => ShapeJson(tensor.Shape.With(0, tensor.BatchSize));

    private static JsonArray ShapeJson(Shape shape) =>
        new(shape.Select(d => d is int size ? (JsonNode?)JsonValue.Create(size) : null).ToArray());

    private static Model BuildFunctional(JsonObject config, bool keras2)
    {
        var entries = config["layers"] as JsonArray ?? throw new FormatException("the model config has no 'layers' list.");
        var created = new Dictionary<string, Layer>(StringComparer.Ordinal);
        var pending = new List<(Layer Layer, Queue<JsonNode?> Nodes)>();
        var offsets = new Dictionary<Layer, int>();
        var operations = new HashSet<string>(StringComparer.Ordinal);
        var integerInputs = InputsFeedingIdLayers(entries);
        try
        {
            foreach (var item in entries)
            {
                var entry = item as JsonObject ?? throw new FormatException($"every entry of 'layers' must be an object, got {item?.ToJsonString() ?? "null"}.");
                if (IsOperation(entry))
                {
                    // Keras 3 writes the ops that compute masks (NotEqual, Any, LogicalOr...) as graph entries feeding
                    // 'mask' call arguments; this library computes masks beside the values, so they are not rebuilt.
                    operations.Add(EntryName(entry));
                    continue;
                }

                var layer = CreateLayer(entry, integerInputs.Contains(EntryName(entry)), keras2);
                if (!created.TryAdd(layer.Name, layer))
                {
                    layer.Dispose();
                    throw new FormatException($"two layers are named '{layer.Name}'; layer names must be unique.");
                }

                var nodes = entry["inbound_nodes"] as JsonArray;
                if (nodes is null && layer is not InputLayer)
                {
                    throw new FormatException($"{layer.ClassName} '{layer.Name}' has no 'inbound_nodes'.");
                }

                pending.Add((layer, new Queue<JsonNode?>(nodes ?? new JsonArray())));
                offsets[layer] = SkippedNodes(entry, keras2);
            }

            CallNodes(created, pending, operations, offsets);
            var inputs = TensorList(config["input_layers"], "input_layers", created, offsets);
            var outputs = TensorList(config["output_layers"], "output_layers", created, offsets);
            var name = config["name"] is JsonValue n && n.TryGetValue<string>(out var text) ? text : null;
            return new Model(inputs, outputs, name);
        }
        catch
        {
            foreach (var layer in created.Values)
            {
                layer.Dispose();
            }

            throw;
        }
    }

    /// <summary>
    /// How many nodes a writer counted before a nested model's first call in this model (and which it did not save):
    /// Keras 3's <c>get_config</c> numbers a functional model's calls from 1 in <c>input_layers</c>/<c>output_layers</c>
    /// ("Functional models start with a pre-existing node"), a Sequential's from 0, and node arguments over the saved
    /// nodes only (from 0). Keras 2 and tf.keras 2 number every reference (inbound nodes, their keyword tensors and
    /// the model's outputs) from 1 for a model that was built on an input (<c>_should_skip_first_node</c>): a
    /// functional model, and a Sequential whose config declares its input.
    /// </summary>
    private static int SkippedNodes(JsonObject entry, bool keras2)
    {
        var className = entry["class_name"] is JsonValue c && c.TryGetValue<string>(out var name) ? name : string.Empty;
        if (className is "Functional" or "Model")
        {
            return 1;
        }

        if (className != "Sequential" || !keras2)
        {
            return 0;
        }

        var layers = entry["config"] as JsonArray ?? entry["config"]?["layers"] as JsonArray;
        return layers is { Count: > 0 } && layers[0] is JsonObject first
            && ((first["class_name"] is JsonValue f && f.TryGetValue<string>(out var firstClass) && firstClass == "InputLayer")
                || first["config"] is JsonObject firstConfig && (firstConfig.ContainsKey("batch_input_shape") || firstConfig.ContainsKey("input_shape") || firstConfig.ContainsKey("input_dim")))
            ? 1 : 0;
    }

    /// <summary>A reference's node index in this library's numbering (the layer's calls in this model, from 0).</summary>
    private static int LocalNode(Layer source, int node, bool counted, Dictionary<Layer, int> offsets, string what)
    {
        var skipped = counted ? offsets.GetValueOrDefault(source) : 0;
        return node >= skipped ? node - skipped
            : throw new FormatException($"{what} refers to node {node} of the nested model '{source.Name}', whose calls this config numbers from {skipped} (node 0 is the model's own graph).");
    }

    /// <summary>Replays the layer calls, as Keras' <c>functional_from_config</c>: a call waits until its input exists.</summary>
    private static void CallNodes(Dictionary<string, Layer> created, List<(Layer Layer, Queue<JsonNode?> Nodes)> pending, HashSet<string> operations, Dictionary<Layer, int> offsets)
    {
        while (pending.Any(p => p.Nodes.Count > 0))
        {
            var progress = false;
            (Layer Layer, (string Layer, int Node, int Tensor) Ref)? waiting = null;
            foreach (var (layer, nodes) in pending)
            {
                while (nodes.Count > 0)
                {
                    var (written, list, states, legacy) = NodeInputs(nodes.Peek(), layer);
                    var sources = written.Select(reference => created.GetValueOrDefault(reference.Layer)
                        ?? (operations.Contains(reference.Layer)
                            ? throw new NotSupportedException($"{layer.ClassName} '{layer.Name}' is called on the output of the operation '{reference.Layer}'; this library reads Keras operations only where they compute masks.")
                            : throw new FormatException($"{layer.ClassName} '{layer.Name}' is called on '{reference.Layer}', but the config has no layer of that name."))).ToArray();
                    var references = written.Select((r, i) => (r.Layer, Node: LocalNode(sources[i], r.Node, legacy, offsets, $"{layer.ClassName} '{layer.Name}'"), r.Tensor)).ToList();
                    var missing = references.Select((r, i) => (r, i)).FirstOrDefault(p => p.r.Node >= sources[p.i].InboundNodes.Count);
                    if (missing.r.Layer is not null)
                    {
                        waiting ??= (layer, missing.r);
                        break;
                    }

                    var tensors = references.Select((r, i) => OutputOf(sources[i], r.Node, r.Tensor, $"{layer.ClassName} '{layer.Name}'")).ToArray();
                    _ = states > 0 ? layer.CallWithInitialState(tensors[0], tensors[1..])
                        : list || layer is Merge ? layer.CallMulti(tensors) : layer.CallMulti(tensors[0]);
                    nodes.Dequeue();
                    progress = true;
                }
            }

            if (!progress && waiting is { } stuck)
            {
                throw new FormatException($"{stuck.Layer.ClassName} '{stuck.Layer.Name}' is called on node {stuck.Ref.Node} of '{stuck.Ref.Layer}', which is never created ('{stuck.Ref.Layer}' has {created[stuck.Ref.Layer].InboundNodes.Count} nodes).");
            }
        }
    }

    /// <summary>
    /// The inputs of a serialized node, Keras 3 (<c>{"args": [x] or [[a, b]], "kwargs": {}}</c>) or Keras 2
    /// (<c>[["a", 0, 0, {}], ["b", 0, 0, {}]]</c>), and whether the call was on a list.
    /// </summary>
    /// <remarks>Legacy is true for the Keras 2 form, whose node indices count the nodes Keras 2 skipped (<see cref="SkippedNodes"/>).</remarks>
    private static (List<(string Layer, int Node, int Tensor)> References, bool List, int States, bool Legacy) NodeInputs(JsonNode? node, Layer layer)
    {
        var what = $"{layer.ClassName} '{layer.Name}'";
        var references = new List<(string Layer, int Node, int Tensor)>();
        var list = false;
        var states = 0;
        switch (node)
        {
            case JsonObject call:
                var args = call["args"] as JsonArray ?? throw new FormatException($"{what}: an inbound node has no 'args' list: {call.ToJsonString()}.");
                if (layer.TensorArgumentNames is { } tensorNames)
                {
                    // Tensors given positionally and by name (MultiHeadAttention's query, value, key, attention_mask).
                    var kwargsMap = call["kwargs"] as JsonObject ?? new JsonObject();
                    if (args.Count > tensorNames.Count || args.Any(a => a is JsonArray))
                    {
                        throw new NotSupportedException($"{what}: an inbound node has positional arguments {args.ToJsonString()}; this layer takes the tensors {string.Join(", ", tensorNames)}.");
                    }

                    var given = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
                    for (var i = 0; i < args.Count; i++)
                    {
                        given[tensorNames[i]] = args[i];
                    }

                    foreach (var (name, tensor) in kwargsMap.Where(kv => tensorNames.Contains(kv.Key) && kv.Value is not null))
                    {
                        if (!given.TryAdd(name, tensor))
                        {
                            throw new FormatException($"{what}: an inbound node gives '{name}' both positionally and by name.");
                        }
                    }

                    CheckCallArguments(new JsonObject(kwargsMap.Where(kv => !tensorNames.Contains(kv.Key)).Select(kv => KeyValuePair.Create(kv.Key, kv.Value?.DeepClone()))), what, layer);
                    var present = tensorNames.Where(given.ContainsKey).ToArray();
                    layer.ExpectTensorArguments(present, what);
                    foreach (var name in present)
                    {
                        references.Add(Triple(KerasTensorHistory(given[name], what), what));
                    }

                    list = true;
                    break;
                }

                if (args.Count != 1)
                {
                    throw new NotSupportedException($"{what}: an inbound node has {args.Count} positional arguments ({args.ToJsonString()}); this library's layers take one input tensor or one list of tensors.");
                }

                list = args[0] is JsonArray;
                // Checked first: a string or list there made the lookups below throw a raw InvalidOperationException.
                CheckCallArguments(call["kwargs"], what, layer);
                var initialState = call["kwargs"]?["initial_state"] as JsonArray;
                foreach (var tensor in (args[0] is JsonArray many ? many : new JsonArray(args[0]?.DeepClone())).Concat(initialState ?? new JsonArray()))
                {
                    references.Add(Triple(KerasTensorHistory(tensor, what), what));
                }

                states = initialState?.Count ?? 0;
                break;
            case JsonArray legacy:
                // tf.keras 2.13+ writes the node of a layer that keeps its input's structure (TFOpLambda) called on
                // one tensor as that tensor's reference itself: ["x", 0, 0, {kwargs}].
                var entries = legacy.Count > 0 && legacy[0] is JsonValue ? new JsonArray(legacy.DeepClone()) : legacy;
                foreach (var item in entries)
                {
                    var triple = item as JsonArray ?? throw new FormatException($"{what}: an inbound node entry must be [layer, node, tensor, kwargs], got {item?.ToJsonString() ?? "null"}.");
                    references.Add(Triple(triple, what));
                    list = entries.Count > 1;
                    // Keras 2 lists a recurrent layer's initial state after its input in the same node.
                    states = layer.TakesInitialState && entries.Count > 1 ? entries.Count - 1 : 0;
                    if (layer.TensorArgumentNames is { } legacyNames && entries.Count == 1)
                    {
                        // tf.keras 2 gives the first tensor (the query) in the entry and the others as keyword arguments.
                        var legacyKwargs = (triple.Count > 3 ? triple[3] : null) as JsonObject ?? new JsonObject();
                        var present = legacyNames.Where((n, i) => i == 0 || legacyKwargs[n] is JsonArray).ToArray();
                        CheckCallArguments(new JsonObject(legacyKwargs.Where(kv => !legacyNames.Contains(kv.Key)).Select(kv => KeyValuePair.Create(kv.Key, kv.Value?.DeepClone()))), what, layer);
                        layer.ExpectTensorArguments(present, what);
                        references.AddRange(present.Skip(1).Select(n => Triple((JsonArray)legacyKwargs[n]!, what)));
                        list = true;
                    }
                    else if (layer is TFOpLambda op && entries.Count == 1)
                    {
                        // tf.keras 2 passes the op's second tensor as the keyword argument y.
                        references.Add(Triple(op.SecondTensor(triple.Count > 3 ? triple[3] : null), what));
                        list = true;
                    }
                    else
                    {
                        CheckCallArguments(triple.Count > 3 ? triple[3] : null, what, layer);
                    }
                }

                break;
            default:
                throw new FormatException($"{what}: an inbound node must be an object (Keras 3) or a list (Keras 2), got {node?.ToJsonString() ?? "null"}.");
        }

        return references.Count > 0 ? (references, list && states == 0, states, node is JsonArray) : throw new FormatException($"{what}: an inbound node has no input tensors.");
    }

    private static JsonArray KerasTensorHistory(JsonNode? tensor, string what)
    {
        var history = (tensor as JsonObject)?["config"] is JsonObject config ? config["keras_history"] as JsonArray : null;
        if ((tensor as JsonObject)?["class_name"] is not JsonValue className || !className.TryGetValue<string>(out var classText) || classText != "__keras_tensor__" || history is null)
        {
            throw new NotSupportedException($"{what}: an inbound node argument is not a Keras tensor: {tensor?.ToJsonString() ?? "null"}.");
        }

        return history;
    }

    private static void CheckCallArguments(JsonNode? kwargs, string what, Layer layer)
    {
        if (kwargs is null)
        {
            layer.ReadCallArguments(Array.Empty<KeyValuePair<string, JsonNode?>>(), what);
            return;
        }

        var map = kwargs as JsonObject ?? throw new FormatException($"{what}: call arguments must be an object, got {kwargs.ToJsonString()}.");
        // 'training' only forces a mode Fit/Predict already choose; a mask is computed here beside the values
        // (Keras writes the tensor its ops made); an initial state is read as inputs of the node; the layer reads the
        // others it takes (Attention's use_causal_mask) and refuses the rest.
        layer.ReadCallArguments(map.Where(kv => kv.Key is not ("training" or "initial_state" or "mask")).ToArray(), what);
    }

    private static (string Layer, int Node, int Tensor) Triple(JsonArray triple, string what)
    {
        if (triple.Count < 3 || triple[0] is not JsonValue name || !name.TryGetValue<string>(out var layer)
            || triple[1] is not JsonValue node || !node.TryGetValue<int>(out var nodeIndex)
            || triple[2] is not JsonValue tensor || !tensor.TryGetValue<int>(out var tensorIndex)
            || nodeIndex < 0 || tensorIndex < 0)
        {
            throw new FormatException($"{what}: expected a tensor reference [layer name, node index, tensor index], got {triple.ToJsonString()}.");
        }

        return (layer, nodeIndex, tensorIndex);
    }

    private static KerasTensor OutputOf(Layer source, int node, int tensor, string what)
    {
        if (node >= source.InboundNodes.Count)
        {
            throw new FormatException($"{what} refers to node {node} of '{source.Name}', which has {source.InboundNodes.Count} nodes.");
        }

        var outputs = source.InboundNodes[node].Outputs;
        return tensor < outputs.Count
            ? outputs[tensor]
            : throw new FormatException($"{what} refers to output {tensor} of '{source.Name}' node {node}, which has {outputs.Count} outputs.");
    }

    private static List<KerasTensor> TensorList(JsonNode? node, string key, Dictionary<string, Layer> created, Dictionary<Layer, int> offsets)
    {
        var array = node as JsonArray ?? throw new FormatException($"the model config has no '{key}' list.");
        // One reference ["x", 0, 0] (a model built on single tensors) or a list of them.
        var triples = array.Count > 0 && array[0] is JsonValue ? new List<JsonArray> { array } : array.Select(t => t as JsonArray ?? throw new FormatException($"'{key}' must hold tensor references, got {t?.ToJsonString() ?? "null"}.")).ToList();
        return triples.Select(t =>
        {
            var (layer, nodeIndex, tensor) = Triple(t, $"'{key}'");
            var source = created.GetValueOrDefault(layer) ?? throw new FormatException($"'{key}' refers to layer '{layer}', but the config has no layer of that name.");
            return OutputOf(source, LocalNode(source, nodeIndex, true, offsets, $"'{key}'"), tensor, $"'{key}'");
        }).ToList();
    }

    private static Model BuildSequential(JsonNode? config, bool keras2)
    {
        // Keras 2.1 writes the layer list itself; later versions an object with 'name' and 'layers'.
        var settings = config as JsonObject;
        var entries = (config as JsonArray ?? settings?["layers"] as JsonArray)
            ?? throw new FormatException("the Sequential config has no 'layers' list.");
        var name = settings?["name"] is JsonValue n && n.TryGetValue<string>(out var text) ? text : null;
        var items = entries.Select(e => e as JsonObject ?? throw new FormatException($"every entry of 'layers' must be an object, got {e?.ToJsonString() ?? "null"}.")).ToList();
        if (items.Count == 0)
        {
            throw new FormatException("the Sequential config has no layers.");
        }

        var model = new Sequential(name);
        try
        {
            var start = Text(items[0]["class_name"], "class_name") == "InputLayer" ? 1 : 0;
            var idsFirst = items.Count > start && LayerRegistry.Find(Text(items[start]["class_name"], "class_name")) is { TakesIntegerIds: true };
            var hasInput = start == 1;
            if (start == 1)
            {
                model.Add(CreateLayer(items[0], idsFirst, keras2));
            }
            else if (ImplicitInput(items[0], settings?["build_input_shape"], idsFirst) is { } input)
            {
                model.Add(input);
                hasInput = true;
            }

            foreach (var entry in items.Skip(start))
            {
                var layer = CreateLayer(entry, false, keras2);
                try
                {
                    if (!hasInput && layer.ImplicitInput is null)
                    {
                        // Only a layer that declares its own input (an Embedding with input_length) starts the model by itself.
                        throw new FormatException($"the first layer '{layer.Name}' of the Sequential model has no input shape (batch_input_shape, input_shape or input_dim).");
                    }

                    hasInput = true;
                    model.Add(layer);
                }
                catch
                {
                    if (!model.Layers.Contains(layer))
                    {
                        layer.Dispose();
                    }

                    throw;
                }
            }

            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The input a Keras 2 Sequential declares on its first layer (<c>batch_input_shape</c>, <c>input_shape</c>,
    /// <c>input_dim</c>) or in <c>build_input_shape</c>, with its fixed batch size; int64 when the layer takes integer
    /// ids; null when none is declared.
    /// </summary>
    private static Input? ImplicitInput(JsonObject first, JsonNode? buildInputShape, bool integerIds)
    {
        var config = first["config"] as JsonObject;
        var name = EntryName(first);
        int?[]? shape = config?["batch_input_shape"] is JsonArray batch ? SampleShape(batch.Skip(1), name)
            : config?["input_shape"] is JsonArray sample ? SampleShape(sample, name)
            : config?["input_dim"] is JsonValue dim && dim.TryGetValue<int>(out var size) ? new int?[] { size }
            : buildInputShape is JsonArray built ? SampleShape(built.Skip(1), name)
            : null;
        // A fixed batch size (tf.keras 2's batch_input_shape = (2, 5, 3), or batch_size beside input_shape) is kept, as a stateful RNN needs it.
        int? batchSize = config?["batch_input_shape"] is JsonArray withBatch ? SampleShape(withBatch.Take(1), name)[0]
            : config?["batch_size"] is JsonValue fixedBatch && fixedBatch.TryGetValue<int>(out var fixedSize) ? fixedSize
            : null;
        return shape is null ? null : new Input(shape, integerIds ? DType.Int64 : DType.Float32, $"{name}_input", batchSize);
    }

    private static int?[] SampleShape(IEnumerable<JsonNode?> dims, string layer) => dims.Select(d =>
        d is null ? (int?)null
        : d is JsonValue v && v.TryGetValue<int>(out var size) ? size
        : throw new FormatException($"the input shape of '{layer}' must hold integers or null, got {d.ToJsonString()}.")).ToArray();

    /// <summary>A layer from its serialized form (a wrapper's inner layer); the same rules as a model's layer entries.</summary>
    internal static Layer DeserializeLayer(JsonNode? entry, string what, bool keras2) =>
        CreateLayer(entry as JsonObject ?? throw new FormatException($"{what} must be a serialized layer object, got {entry?.ToJsonString() ?? "nothing"}."), false, keras2);

    /// <summary>Builds one layer; an input layer that feeds a layer taking integer ids (an Embedding) is read as int64.</summary>
    private static Layer CreateLayer(JsonObject entry, bool integerInput, bool keras2)
    {
        var className = Text(entry["class_name"], "class_name");
        var config = entry["config"] as JsonObject ?? throw new FormatException($"layer entry '{className}' has no 'config' object.");
        var name = EntryName(entry);
        if (className is "Functional" or "Model" or "Sequential")
        {
            // A model used as a layer: built from its own config, owned by the layer that wraps it.
            var (inner, _) = Deserialize(entry, keras2);
            if (inner.Name != name)
            {
                inner.Dispose();
                throw new FormatException($"the nested {className} entry '{name}' holds a model named '{inner.Name}'.");
            }

            return inner.AsOwnedLayer();
        }

        if (integerInput && className == "InputLayer" && LayerConfig.DTypeName(config["dtype"]) is null or "float32")
        {
            config = (JsonObject)config.DeepClone();
            config["dtype"] = "int64";
        }

        return LayerRegistry.Create(new LayerConfig(className, name, config, keras2));
    }

    /// <summary>The Keras 3 operations that compute masks, as legacy .h5 configs name them (without a module).</summary>
    private static readonly HashSet<string> MaskOperations = new(StringComparer.Ordinal)
    {
        "NotEqual", "Any", "All", "LogicalOr", "LogicalAnd", "ExpandDims", "OnesLike", "ZerosLike", "Cast", "BroadcastTo", "Squeeze",
    };

    /// <summary>
    /// Whether a layer entry is a Keras 3 operation rather than a layer: module <c>keras.src.ops.*</c> in
    /// <c>.keras</c> configs; in legacy <c>.h5</c> configs (no module) a mask operation's class, or an operation
    /// named as a layer class is (<see cref="KerasLayerAttribute.SharesNameWithOperation"/>), whose config has no
    /// <c>trainable</c> (the layer's always has).
    /// </summary>
    private static bool IsOperation(JsonObject entry)
    {
        if (entry["module"] is JsonValue module && module.TryGetValue<string>(out var path))
        {
            return path.StartsWith("keras.src.ops.", StringComparison.Ordinal);
        }

        var className = entry["class_name"] is JsonValue c && c.TryGetValue<string>(out var name) ? name : string.Empty;
        return MaskOperations.Contains(className)
            || (LayerRegistry.Find(className) is { SharesNameWithOperation: true } && entry["config"] is JsonObject config && !config.ContainsKey("trainable") && entry["inbound_nodes"] is JsonArray { Count: > 0 } nodes && nodes[0] is JsonObject);
    }

    private static string EntryName(JsonObject entry) =>
        entry["name"] is JsonValue top && top.TryGetValue<string>(out var name) ? name
        : entry["config"]?["name"] is JsonValue inner && inner.TryGetValue<string>(out var configName) ? configName
        : throw new FormatException($"a '{entry["class_name"]?.ToJsonString()}' layer entry has no name.");

    /// <summary>The names of layers that some layer taking integer ids (<see cref="KerasLayerAttribute.TakesIntegerIds"/>) is called on directly.</summary>
    private static HashSet<string> InputsFeedingIdLayers(JsonArray entries)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in entries.OfType<JsonObject>().Where(e => e["class_name"] is JsonValue c && c.TryGetValue<string>(out var cls) && LayerRegistry.Find(cls) is { TakesIntegerIds: true }))
        {
            foreach (var history in Histories(entry["inbound_nodes"]))
            {
                names.Add(history);
            }
        }

        return names;
    }

    /// <summary>Every layer name referenced by a list of inbound nodes, in either form.</summary>
    private static IEnumerable<string> Histories(JsonNode? node) => node switch
    {
        JsonObject obj when obj["keras_history"] is JsonArray history && history.Count > 0 && history[0] is JsonValue v && v.TryGetValue<string>(out var name) => new[] { name },
        JsonObject obj => obj.SelectMany(kv => Histories(kv.Value)),
        JsonArray array when array.Count >= 3 && array[0] is JsonValue v && v.TryGetValue<string>(out var name) && array[1] is JsonValue => new[] { name },
        JsonArray array => array.SelectMany(Histories),
        _ => Array.Empty<string>(),
    };

    private static string Text(JsonNode? node, string key) =>
        node is JsonValue value && value.TryGetValue<string>(out var text) ? text
        : throw new FormatException($"'{key}' must be a string, got {node?.ToJsonString() ?? "nothing"}.");
}
