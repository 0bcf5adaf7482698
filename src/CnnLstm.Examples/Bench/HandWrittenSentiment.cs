using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KerasStyle.Examples.Bench;

/// <summary>
/// The seed's sentiment model as a careful user would write it directly in TorchSharp: nn.Embedding, nn.Conv1d,
/// nn.LSTM, nn.Linear, torch.optim.Adam, BCELoss, one DisposeScope per batch.
/// </summary>
internal sealed class HandWrittenSentiment : HandWrittenModel
{
    private readonly Embedding embedding;
    private readonly Dropout dropout;
    private readonly Conv1d conv;
    private readonly TorchSharp.Modules.LSTM lstm;
    private readonly Linear dense;

    public HandWrittenSentiment(int maxFeatures = 20000, int embeddingSize = 128, int filters = 64, int kernelSize = 5, int lstmUnits = 70)
        : base(nameof(HandWrittenSentiment))
    {
        embedding = nn.Embedding(maxFeatures, embeddingSize);
        dropout = nn.Dropout(0.25);
        conv = nn.Conv1d(embeddingSize, filters, kernelSize);
        lstm = nn.LSTM(filters, lstmUnits, batchFirst: true);
        dense = nn.Linear(lstmUnits, 1);
        Initialize();
    }

    protected override Loss<Tensor, Tensor, Tensor> Loss { get; } = nn.BCELoss();

    public override Tensor forward(Tensor tokens)
    {
        var x = dropout.call(embedding.call(tokens)).transpose(1, 2);
        x = nn.functional.max_pool1d(nn.functional.relu(conv.call(x)), 4).transpose(1, 2);
        var (_, h, _) = lstm.call(x);
        return dense.call(h[0]).sigmoid();
    }
}
