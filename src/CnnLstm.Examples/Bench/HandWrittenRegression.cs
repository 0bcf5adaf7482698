using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KerasStyle.Examples.Bench;

/// <summary>The seed's regression model hand-written in TorchSharp (Dropout, Conv1d k=1, pool 1, LSTM 70, Linear).</summary>
internal sealed class HandWrittenRegression : nn.Module<Tensor, Tensor>, IHandWritten
{
    private readonly Dropout dropout;
    private readonly Conv1d conv;
    private readonly TorchSharp.Modules.LSTM lstm;
    private readonly Linear dense;
    private readonly optim.Optimizer optimizer;
    private readonly Loss<Tensor, Tensor, Tensor> loss = nn.MSELoss();

    public HandWrittenRegression()
        : base(nameof(HandWrittenRegression))
    {
        dropout = nn.Dropout(0.25);
        conv = nn.Conv1d(3, 10, 1);
        lstm = nn.LSTM(10, 70, batchFirst: true);
        dense = nn.Linear(70, 1);
        RegisterComponents();
        optimizer = optim.Adam(parameters(), lr: 1e-3);
    }

    public override Tensor forward(Tensor input)
    {
        var x = conv.call(dropout.call(input).transpose(1, 2));
        x = nn.functional.max_pool1d(x, 1).transpose(1, 2);
        var (_, h, _) = lstm.call(x);
        return dense.call(h[0]);
    }

    public float TrainStep(Tensor x, Tensor y)
    {
        using var scope = NewDisposeScope();
        train();
        optimizer.zero_grad();
        var value = loss.call(call(x), y);
        value.backward();
        optimizer.step();
        return value.item<float>();
    }

    public Tensor Infer(Tensor x)
    {
        eval();
        using var noGrad = no_grad();
        return call(x);
    }
}
