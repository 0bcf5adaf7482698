using KerasStyle.Layers;
using KerasStyle.Models;

namespace KerasStyle.Saving;

/// <summary>
/// The text layers' vocabularies in files, where Keras 3.16 puts them: a learned vocabulary (one given to the
/// constructor is in the config) goes to <c>assets/&lt;layer path&gt;/vocabulary.txt</c> of a <c>.keras</c> archive
/// (index_lookup.py's <c>save_assets</c>: one term a line, mask and OOV tokens first), the layer path being
/// saving_lib's, as for the weights: <c>layers/&lt;snake_case class name&gt;</c> made unique by a counter
/// (<c>layers/text_vectorization</c>, <c>layers/string_lookup_1</c>; Keras does not use layer names there; nested
/// models: <c>layers/functional/layers/&lt;inner&gt;</c>); a TextVectorization also writes it for its inner lookup at
/// <c>.../_lookup_layer/vocabulary.txt</c>, as Keras' walk of the layer's attributes does. Files written by earlier
/// versions of this library at <c>assets/layers/&lt;layer name&gt;/</c> are read too. With <c>tf_idf</c> the idf
/// weights are in the weights file (<see cref="Keras3WeightsH5"/>), read before the vocabulary, as Keras'
/// <c>load_own_variables</c> runs before <c>load_assets</c>. A legacy <c>.h5</c> holds no such file: a layer whose
/// config declares a vocabulary (<c>vocabulary_size</c>) but holds none is refused when loaded, naming the layer.
/// </summary>
internal static class VocabularyAssets
{
    private const string FileName = "vocabulary.txt";
    private const long MaxBytes = 256L << 20;

    /// <summary>The asset files of every text layer of the model.</summary>
    public static IReadOnlyList<(string Path, string Text)> Collect(Model model)
    {
        var result = new List<(string, string)>();
        foreach (var (path, _, layer) in Walk(model.Layers, "layers/", "layers/"))
        {
            var (lookup, inner) = Lookup(layer);
            if (lookup is null)
            {
                continue;
            }

            // Keras' save_own_variables runs first (and fails on a tf_idf layer without idf weights).
            _ = lookup.OwnIdfWeights(layer);
            if (lookup.AssetVocabulary() is { } text)
            {
                result.Add(($"{path}/{FileName}", text));
                if (inner)
                {
                    result.Add(($"{path}/_lookup_layer/{FileName}", text));
                }
            }
        }

        return result;
    }

    /// <summary>
    /// Refuses to write a legacy .h5 of a model with a learned vocabulary: that format keeps configs and variables
    /// only, so the file would load without the vocabulary (Keras 3 writes such a file; this library refuses to read it).
    /// </summary>
    public static void RefuseLegacyH5(Model model, string path)
    {
        foreach (var (_, _, layer) in Walk(model.Layers, "layers/", "layers/"))
        {
            if (Lookup(layer).Lookup?.AssetVocabulary() is not null)
            {
                throw new NotSupportedException($"Save: '{path}': {layer.ClassName} '{layer.Name}' has a learned vocabulary, which the legacy .h5 format cannot hold (Keras keeps it in a lookup table, not a variable, and writes it only to a .keras archive's assets); save as .keras, or pass the vocabulary to the layer's constructor so that its config carries it.");
            }
        }
    }

    /// <summary>
    /// Keras' <c>load_assets</c>: each text layer without a vocabulary in its config reads its vocabulary.txt (at its
    /// Keras path, else its inner lookup's, else the layer-name path earlier versions of this library wrote).
    /// </summary>
    public static void Load(Model model, KerasArchive.Reader archive, string file)
    {
        foreach (var (path, namePath, layer) in Walk(model.Layers, "layers/", "layers/"))
        {
            var (lookup, inner) = Lookup(layer);
            if (lookup is null)
            {
                continue;
            }

            var text = archive.ReadAsset($"{path}/{FileName}", MaxBytes)
                ?? (inner ? archive.ReadAsset($"{path}/_lookup_layer/{FileName}", MaxBytes) : null)
                ?? (namePath != path ? archive.ReadAsset($"{namePath}/{FileName}", MaxBytes) : null);
            if (text is not null)
            {
                lookup.LoadAssetVocabulary(text, layer, file, $"{path}/{(inner ? "_lookup_layer/" : string.Empty)}vars/idf_weights");
            }
        }
    }

    /// <summary>
    /// Checks the vocabularies a caller gives to <c>Model.Load</c> (by layer name) before the file is read: string,
    /// long or int arrays, no null entries.
    /// </summary>
    /// <exception cref="ArgumentException">A null or empty name, a null array, an array of another element type or holding null.</exception>
    public static void CheckGiven(IReadOnlyDictionary<string, Array>? vocabularies)
    {
        foreach (var (name, terms) in vocabularies ?? new Dictionary<string, Array>())
        {
            if (string.IsNullOrEmpty(name) || terms is null)
            {
                throw new ArgumentException("Load: vocabularies map layer names to terms; a name or an array is null or empty.", nameof(vocabularies));
            }

            if (terms is not (string[] or long[] or int[]) || (terms is string[] strings && strings.Contains(null)))
            {
                throw new ArgumentException($"Load: the vocabulary for layer '{name}' is a {terms.GetType().Name}; give string[] (TextVectorization, StringLookup) or long[] / int[] (IntegerLookup), without null terms.", nameof(vocabularies));
            }
        }
    }

    /// <summary>Sets the vocabularies given to <c>Model.Load</c> on the text layers whose file lacks them (Keras: <c>set_vocabulary</c> after <c>load_model</c>).</summary>
    /// <exception cref="ArgumentException">A name that is no text layer of the model, or a vocabulary that does not fit (see <see cref="IndexLookup.SetMissingVocabulary"/>).</exception>
    public static void ApplyGiven(Model model, IReadOnlyDictionary<string, Array>? vocabularies)
    {
        if (vocabularies is null || vocabularies.Count == 0)
        {
            return;
        }

        var textLayers = Walk(model.Layers, "layers/", "layers/").Select(item => item.Layer).Where(l => Lookup(l).Lookup is not null).ToArray();
        foreach (var (name, terms) in vocabularies)
        {
            var layer = textLayers.FirstOrDefault(l => l.Name == name)
                ?? throw new ArgumentException($"Load: a vocabulary was given for layer '{name}', which is not a text layer of this model; its text layers are {(textLayers.Length == 0 ? "none" : string.Join(", ", textLayers.Select(l => $"{l.ClassName} '{l.Name}'")))}.", nameof(vocabularies));
            Lookup(layer).Lookup!.SetMissingVocabulary(terms, layer);
        }
    }

    /// <summary>Refuses a loaded model whose text layer declares a vocabulary that the file does not hold (see the class summary).</summary>
    public static void CheckLoaded(Model model, string path)
    {
        foreach (var (_, _, layer) in Walk(model.Layers, "layers/", "layers/"))
        {
            var why = layer switch
            {
                TextVectorization text => text.MissingVocabulary(),
                IndexLookup lookup => lookup.MissingVocabulary(),
                _ => null,
            };
            if (why is not null)
            {
                throw new KerasFileException(path, why);
            }
        }
    }

    /// <summary>The lookup of a text layer (a TextVectorization's inner one, Inner true), or null.</summary>
    internal static (IndexLookup? Lookup, bool Inner) Lookup(Layer layer) => layer switch
    {
        TextVectorization text => (text.Lookup, true),
        IndexLookup lookup => (lookup, false),
        _ => (null, false),
    };

    /// <summary>Each layer with its Keras saving path (see the class summary) and the layer-name path earlier versions wrote.</summary>
    private static IEnumerable<(string Path, string NamePath, Layer Layer)> Walk(IReadOnlyList<Layer> layers, string prefix, string namePrefix)
    {
        foreach (var (layer, keras) in Keras3WeightsH5.Paths(layers))
        {
            var path = prefix + keras;
            var namePath = namePrefix + layer.Name;
            yield return (path, namePath, layer);
            if (layer is ModelLayer nested)
            {
                foreach (var item in Walk(nested.Model.Layers, path + "/layers/", namePath + "/layers/"))
                {
                    yield return item;
                }
            }
        }
    }
}
