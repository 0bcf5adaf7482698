using TorchSharp;
using static TorchSharp.torch;

namespace KerasStyle.Examples.Bench;

/// <summary>
/// The usual hand-written TorchSharp training and inference loop around a module's <c>forward</c>:
/// torch.optim.Adam, a loss module, one DisposeScope per step, no_grad for inference.
/// </summary>
internal abstract class HandWrittenModel : nn.Module<Tensor, Tensor>
{
    private optim.Optimizer? optimizer;

    protected HandWrittenModel(string name)
        : base(name)
    {
    }

    /// <summary>The loss between output and target.</summary>
    protected abstract Loss<Tensor, Tensor, Tensor> Loss { get; }

    /// <summary>Registers the submodules and creates Adam over their parameters; call at the end of the constructor.</summary>
    protected void Initialize()
    {
        RegisterComponents();
        optimizer = optim.Adam(parameters(), lr: 1e-3);
    }

    /// <summary>One optimizer step on a batch; returns the loss.</summary>
    public float TrainStep(Tensor x, Tensor y)
    {
        using var scope = NewDisposeScope();
        train();
        optimizer!.zero_grad();
        var value = Loss.call(call(x), y);
        value.backward();
        optimizer.step();
        return value.item<float>();
    }

    /// <summary>Forward pass in evaluation mode without autograd (libtorch's inference kernels).</summary>
    public Tensor Infer(Tensor x)
    {
        eval();
        using var noGrad = no_grad();
        return call(x);
    }

    /// <summary>
    /// Forward pass in evaluation mode with autograd on, detached: libtorch's training kernels, the correct path a
    /// careful user would take where the inference kernels are wrong (oneDNN's LSTM on AMD Zen 5).
    /// </summary>
    public Tensor InferWithAutograd(Tensor x)
    {
        eval();
        using var grad = enable_grad();
        return call(x).detach();
    }
}
