using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KerasStyle.Examples.Bench;

/// <summary>
/// The sentiment model with self-attention (<c>sentiment --architecture attention</c>) hand-written in TorchSharp:
/// the seed's front (nn.Embedding, dropout, nn.Conv1d, ReLU, max_pool1d 4), nn.LSTM(64, 70) keeping every step's
/// output, dot-product self-attention as Keras' Attention computes it (scores = h·hᵀ, softmax over the last axis, the
/// weighted sum of h), the mean over time, nn.Linear(70, 1), sigmoid; torch.optim.Adam, BCELoss.
/// </summary>
internal sealed class HandWrittenAttention : HandWrittenModel
{
    private readonly Embedding embedding;
    private readonly Dropout dropout;
    private readonly Conv1d conv;
    private readonly TorchSharp.Modules.LSTM lstm;
    private readonly Linear dense;

    public HandWrittenAttention()
        : base(nameof(HandWrittenAttention))
    {
        embedding = nn.Embedding(20000, 128);
        dropout = nn.Dropout(0.25);
        conv = nn.Conv1d(128, 64, 5);
        lstm = nn.LSTM(64, 70, batchFirst: true);
        dense = nn.Linear(70, 1);
        Initialize();
    }

    protected override Loss<Tensor, Tensor, Tensor> Loss { get; } = nn.BCELoss();

    public override Tensor forward(Tensor tokens)
    {
        var x = dropout.call(embedding.call(tokens)).transpose(1, 2);
        x = nn.functional.max_pool1d(nn.functional.relu(conv.call(x)), 4).transpose(1, 2);
        var (sequence, _, _) = lstm.call(x);
        var weights = matmul(sequence, sequence.transpose(1, 2)).softmax(-1);
        return dense.call(matmul(weights, sequence).mean(new long[] { 1 })).sigmoid();
    }
}
