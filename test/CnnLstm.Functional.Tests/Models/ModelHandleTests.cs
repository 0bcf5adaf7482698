using KerasStyle.Models;
using TorchSharp;

namespace KerasStyle.Tests.Models;

/// <summary>Creating and disposing a model left 4 live tensor objects behind each time (issue 12, item 8).</summary>
public class ModelHandleTests
{
    [TestCase("regression")]
    [TestCase("sentiment")]
    public void CreateAndDispose_ManyTimes_LeavesNoLiveTensors(string name)
    {
        Model Build() => name == "regression" ? CnnLstmModels.Regression() : CnnLstmModels.Sentiment(maxFeatures: 200);
        Build().Dispose(); // warm-up: kernel checks and first-use caches
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (var i = 0; i < 50; i++)
        {
            Backend.ClearSession();
            Build().Dispose();
        }

        GC.Collect();
        GC.WaitForPendingFinalizers();
        Assert.That(DisposeScopeManager.Statistics.ThreadTotalLiveCount, Is.EqualTo(live));
    }

    [Test]
    public void LoadAndDispose_ManyTimes_LeavesNoLiveTensors()
    {
        var path = Path.Combine(Path.GetTempPath(), $"ks-handles-{Guid.NewGuid():N}.keras");
        try
        {
            using (var model = CnnLstmModels.Regression())
            {
                model.Compile("adam", "mse");
                model.Save(path);
            }

            Model.Load(path).Dispose();
            GC.Collect();
            GC.WaitForPendingFinalizers();
            var live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
            for (var i = 0; i < 30; i++)
            {
                Backend.ClearSession();
                Model.Load(path).Dispose();
            }

            GC.Collect();
            GC.WaitForPendingFinalizers();
            Assert.That(DisposeScopeManager.Statistics.ThreadTotalLiveCount, Is.EqualTo(live));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
