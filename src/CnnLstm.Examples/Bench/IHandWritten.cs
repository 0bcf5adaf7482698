using static TorchSharp.torch;

namespace KerasStyle.Examples.Bench;

/// <summary>A hand-written TorchSharp model: one optimizer step, and inference.</summary>
internal interface IHandWritten : IDisposable
{
    float TrainStep(Tensor x, Tensor y);

    Tensor Infer(Tensor x);
}
