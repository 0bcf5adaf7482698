using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KerasStyle.Examples.Bench;

/// <summary>The seed's regression model hand-written in TorchSharp (Dropout, Conv1d k=1, pool 1, LSTM 70, Linear).</summary>
internal sealed class HandWrittenRegression : HandWrittenModel
{
    private readonly Dropout dropout;
    private readonly Conv1d conv;
    private readonly TorchSharp.Modules.LSTM lstm;
    private readonly Linear dense;

    public HandWrittenRegression()
        : base(nameof(HandWrittenRegression))
    {
        dropout = nn.Dropout(0.25);
        conv = nn.Conv1d(3, 10, 1);
        lstm = nn.LSTM(10, 70, batchFirst: true);
        dense = nn.Linear(70, 1);
        Initialize();
    }

    protected override Loss<Tensor, Tensor, Tensor> Loss { get; } = nn.MSELoss();

    public override Tensor forward(Tensor input)
    {
        var x = conv.call(dropout.call(input).transpose(1, 2));
        x = nn.functional.max_pool1d(x, 1).transpose(1, 2);
        var (_, h, _) = lstm.call(x);
        return dense.call(h[0]);
    }
}
