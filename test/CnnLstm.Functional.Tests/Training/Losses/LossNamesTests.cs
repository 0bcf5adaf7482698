using KerasStyle.Training.Losses;

namespace KerasStyle.Tests.Training.Losses;

public class LossNamesTests
{
    [TestCase("binary_crossentropy", typeof(BinaryCrossentropy))]
    [TestCase("mse", typeof(MeanSquaredError))]
    [TestCase("mean_squared_error", typeof(MeanSquaredError))]
    [TestCase("mae", typeof(MeanAbsoluteError))]
    [TestCase("mean_absolute_error", typeof(MeanAbsoluteError))]
    [TestCase("categorical_crossentropy", typeof(CategoricalCrossentropy))]
    [TestCase("sparse_categorical_crossentropy", typeof(SparseCategoricalCrossentropy))]
    public void Create_KerasName_GivesThatLoss(string name, Type type)
    {
        Assert.That(LossNames.Create(name), Is.TypeOf(type));
    }

    [Test]
    public void Create_UnknownName_ListsTheKnownOnes()
    {
        var e = Assert.Throws<ArgumentException>(() => LossNames.Create("dice"));
        Assert.That(e!.ParamName, Is.EqualTo("loss"));
        Assert.That(e.Message, Does.Contain("'dice'").And.Contain(string.Join(", ", LossNames.Known)));
    }
}
