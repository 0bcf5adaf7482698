using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KerasStyle.Examples.Bench;

/// <summary>
/// The bidirectional sentiment model hand-written in TorchSharp: the seed's front (nn.Embedding, dropout, nn.Conv1d,
/// ReLU, max_pool1d 4), nn.LSTM(64, 70, bidirectional), both last states concatenated, nn.Linear(140, 1), sigmoid;
/// torch.optim.Adam, BCELoss.
/// </summary>
internal sealed class HandWrittenBidirectional : HandWrittenModel
{
    private readonly Embedding embedding;
    private readonly Dropout dropout;
    private readonly Conv1d conv;
    private readonly TorchSharp.Modules.LSTM lstm;
    private readonly Linear dense;

    public HandWrittenBidirectional()
        : base(nameof(HandWrittenBidirectional))
    {
        embedding = nn.Embedding(20000, 128);
        dropout = nn.Dropout(0.25);
        conv = nn.Conv1d(128, 64, 5);
        lstm = nn.LSTM(64, 70, batchFirst: true, bidirectional: true);
        dense = nn.Linear(140, 1);
        Initialize();
    }

    protected override Loss<Tensor, Tensor, Tensor> Loss { get; } = nn.BCELoss();

    public override Tensor forward(Tensor tokens)
    {
        var x = dropout.call(embedding.call(tokens)).transpose(1, 2);
        x = nn.functional.max_pool1d(nn.functional.relu(conv.call(x)), 4).transpose(1, 2);
        var (_, h, _) = lstm.call(x);
        return dense.call(cat(new[] { h[0], h[1] }, 1)).sigmoid();
    }
}
