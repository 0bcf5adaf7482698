using KerasStyle.Engine;

namespace KerasStyle.Tests.Engine;

/// <summary>
/// Issue 27: the library sets libgomp's spin count when it is first used, unless the user chose one or libgomp is
/// already loaded. ExamplesProgramTests runs fresh processes for the whole path (doctor's "openmp spin" line).
/// </summary>
public class OpenMpSpinTests
{
    [Test]
    public void Decide_NothingChosenAndLibGompNotLoaded_SetsTheLibrarySpinCount()
    {
        var (set, outcome) = OpenMpSpin.Decide(null, null, libGompLoaded: false);

        Assert.That(set, Is.True);
        Assert.That(outcome, Does.StartWith("GOMP_SPINCOUNT=10000, set by the library"));
    }

    [TestCase("300000", null, "left to the user's GOMP_SPINCOUNT=300000")]
    [TestCase(" ", null, "left to the user's GOMP_SPINCOUNT= ")]
    [TestCase(null, "passive", "left to the user's OMP_WAIT_POLICY=passive")]
    [TestCase("5", "active", "left to the user's GOMP_SPINCOUNT=5")]
    public void Decide_UserChose_LeavesIt(string? spinCount, string? waitPolicy, string expected)
    {
        var (set, outcome) = OpenMpSpin.Decide(spinCount, waitPolicy, libGompLoaded: false);

        Assert.That(set, Is.False);
        Assert.That(outcome, Is.EqualTo(expected));
    }

    /// <summary>An empty variable is no choice (libgomp reports it as invalid and keeps its 300000), as ThreadPolicy reads OMP_NUM_THREADS.</summary>
    [TestCase("", null)]
    [TestCase(null, "")]
    [TestCase("", "")]
    public void Decide_EmptyVariables_CountAsUnset(string? spinCount, string? waitPolicy)
    {
        var (set, outcome) = OpenMpSpin.Decide(spinCount, waitPolicy, libGompLoaded: false);

        Assert.That(set, Is.True);
        Assert.That(outcome, Does.StartWith("GOMP_SPINCOUNT=10000, set by the library"));
    }

    [Test]
    public void Decide_LibGompAlreadyLoaded_LeavesTheDefaultAndSaysWhy()
    {
        var (set, outcome) = OpenMpSpin.Decide(null, null, libGompLoaded: true);

        Assert.That(set, Is.False);
        Assert.That(outcome, Does.StartWith("left at libgomp's default (libgomp was loaded before the library was first used"));
    }

    [Test]
    public void Outcome_InThisProcess_AgreesWithTheNativeEnvironment()
    {
        Assume.That(OperatingSystem.IsLinux(), "libgomp and setenv: Linux");

        var native = OpenMpSpin.NativeVariable("GOMP_SPINCOUNT");

        if (SystemReport.OpenMpSpinSetting.StartsWith("GOMP_SPINCOUNT=10000, set by the library", StringComparison.Ordinal))
        {
            Assert.That(native, Is.EqualTo(OpenMpSpin.LibrarySpinCount));
        }
        else if (SystemReport.OpenMpSpinSetting.StartsWith("left to the user's GOMP_SPINCOUNT=", StringComparison.Ordinal))
        {
            Assert.That(SystemReport.OpenMpSpinSetting, Is.EqualTo($"left to the user's GOMP_SPINCOUNT={native}"));
        }
        else
        {
            Assert.That(SystemReport.OpenMpSpinSetting, Does.StartWith("left "), "the other outcomes leave the environment alone");
        }
    }
}
