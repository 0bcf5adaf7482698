namespace KerasStyle.Tests;

/// <summary>
/// Runs libtorch with one intra-op thread for the whole test run. The test models are tiny, and on a shared 2-core
/// machine libtorch's default thread pool spends most of its time waiting for busy cores (an LSTM(4) training step
/// measured 100 ms with 2 threads under load against 3 ms with 1).
/// </summary>
[SetUpFixture]
public sealed class TestSetup
{
    [OneTimeSetUp]
    public void UseOneTorchThread() => TorchSharp.torch.set_num_threads(1);
}
