using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Saving;
using KerasStyle.Training.Optimizers;

namespace KerasStyle.Tests.Saving;

/// <summary>
/// Optimizer state from a file is checked before anything is assigned: a NaN learning rate was found only after every
/// weight had been replaced (and the error did not name the file); a negative iteration count loaded silently and the
/// next Fit turned every weight into NaN.
/// </summary>
public class OptimizerStateLoadTests
{
    [TestCase("iterations", "(iterations) is -5")]
    [TestCase("learning_rate", "(learning_rate) is NaN")]
    [TestCase("slot", "must be finite")]
    [TestCase("velocity", "a velocity 0 or more")]
    public void LoadWeights_BadOptimizerState_ThrowsNamingTheFileAndChangesNothing(string fault, string expected)
    {
        var directory = Directory.CreateTempSubdirectory("ks-optimizer-").FullName;
        try
        {
            var path = Path.Combine(directory, "bad.weights.h5");
            using (var source = Trained(seed: 1))
            {
                var good = source.Optimizer!.ExportState(Trainable(source));
                var bad = fault switch
                {
                    "iterations" => good with { Iterations = -5 },
                    "learning_rate" => good with { LearningRate = double.NaN },
                    "velocity" => good with { Slots = good.Slots!.Select((slots, i) => i == 0 ? new[] { slots[0], With(slots[1], -1f) } : slots).ToArray() },
                    _ => good with { Slots = good.Slots!.Select((slots, i) => i == 0 ? new[] { With(slots[0], float.NaN), slots[1] } : slots).ToArray() },
                };
                Keras3WeightsH5.Save(path, source.Layers, () => bad);
            }

            using var target = Trained(seed: 2);
            var weights = target.GetWeights().SelectMany(w => w.Data).ToArray();
            var iterations = target.Optimizer!.Iterations;
            var error = Assert.Throws<KerasFileException>(() => target.LoadWeights(path));
            Assert.That(error!.Message, Does.StartWith($"'{path}'").And.Contain(expected));
            Assert.That(target.GetWeights().SelectMany(w => w.Data), Is.EqualTo(weights), "no weight was replaced");
            Assert.That(target.Optimizer.Iterations, Is.EqualTo(iterations), "the optimizer state is untouched");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static Model Trained(int seed)
    {
        Backend.ClearSession();
        Utils.SetRandomSeed(seed);
        var input = new Input(new[] { 3 });
        var model = new Model(input, new Dense(1).Call(new Dense(4, activation: "tanh").Call(input)));
        model.Compile(new Adam(), "mse");
        model.TrainOnBatch(new float[,] { { 1, 2, 3 }, { 0, 1, 0 } }, new float[,] { { 1 }, { 0 } });
        return model;
    }

    private static LayerWeight[] Trainable(Model model) => model.Layers.Where(l => l.Trainable).SelectMany(l => l.Weights).ToArray();

    private static WeightArray With(WeightArray slot, float value)
    {
        var data = slot.Data.ToArray();
        data[^1] = value;
        return new WeightArray(slot.Shape.ToArray(), data);
    }
}
