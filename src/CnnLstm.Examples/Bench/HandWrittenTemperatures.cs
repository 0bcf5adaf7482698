using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KerasStyle.Examples.Bench;

/// <summary>
/// The temperatures example's TimeDistributed CNN-LSTM hand-written in TorchSharp: the 4 weeks folded into the batch
/// for nn.Conv1d (1 to 64 channels, kernel 3), ReLU, max_pool1d 2, flattened per week, nn.LSTM(128, 50) over the
/// weeks, nn.Linear(50, 1); torch.optim.Adam, MSELoss.
/// </summary>
internal sealed class HandWrittenTemperatures : HandWrittenModel
{
    private readonly Conv1d conv;
    private readonly TorchSharp.Modules.LSTM lstm;
    private readonly Linear dense;

    public HandWrittenTemperatures()
        : base(nameof(HandWrittenTemperatures))
    {
        conv = nn.Conv1d(1, 64, 3);
        lstm = nn.LSTM(128, 50, batchFirst: true);
        dense = nn.Linear(50, 1);
        Initialize();
    }

    protected override Loss<Tensor, Tensor, Tensor> Loss { get; } = nn.MSELoss();

    public override Tensor forward(Tensor weeks)
    {
        var (batch, count, days) = (weeks.shape[0], weeks.shape[1], weeks.shape[2]);
        var x = weeks.reshape(batch * count, days, 1).transpose(1, 2);
        x = nn.functional.max_pool1d(nn.functional.relu(conv.call(x)), 2).transpose(1, 2);
        var (_, h, _) = lstm.call(x.reshape(batch, count, -1));
        return dense.call(h[0]);
    }
}
