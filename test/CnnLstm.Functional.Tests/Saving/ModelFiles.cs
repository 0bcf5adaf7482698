using KerasStyle.Models;

namespace KerasStyle.Tests.Saving;

/// <summary>Saves a model in every whole-model form the library writes and checks each one loaded back.</summary>
internal static class ModelFiles
{
    /// <summary>
    /// Saves <paramref name="model"/> as <c>.keras</c>, Keras 3 <c>.h5</c> and tf.keras 2 <c>.h5</c>, and as
    /// <c>ToJson</c> with a <c>.weights.h5</c>; loads each and runs <paramref name="check"/> on it.
    /// </summary>
    public static void CheckEveryForm(Model model, Action<Model> check)
    {
        var folder = Directory.CreateTempSubdirectory("ks-forms-").FullName;
        try
        {
            model.Save(Path.Combine(folder, "m.keras"));
            model.Save(Path.Combine(folder, "m.h5"));
            model.Save(Path.Combine(folder, "t.h5"), H5Format.TfKeras2);
            model.SaveWeights(Path.Combine(folder, "w.weights.h5"));
            foreach (var file in new[] { "m.keras", "m.h5", "t.h5" })
            {
                using var back = Model.Load(Path.Combine(folder, file));
                check(back);
            }

            using var fromJson = Model.FromJson(model.ToJson());
            fromJson.LoadWeights(Path.Combine(folder, "w.weights.h5"));
            check(fromJson);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
