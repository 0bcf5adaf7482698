using KerasStyle.Graph;
using KerasStyle.Layers;

namespace KerasStyle.Models;

/// <summary>The two CNN-LSTM models of the seed tutorial, with its hyperparameters as defaults.</summary>
public static class CnnLstmModels
{
    /// <summary>
    /// The IMDB sentiment model over token ids, as a Sequential model: Embedding(maxFeatures, embeddingSize,
    /// inputLength: maxLen), Dropout, Conv1D(filters, kernelSize, relu), MaxPooling1D(poolSize), LSTM(lstmUnits),
    /// Dense(1), Activation(sigmoid). With the defaults it has 2,638,895 parameters.
    /// </summary>
    /// <param name="maxFeatures">Vocabulary size (token ids in [0, maxFeatures)).</param>
    /// <param name="maxLen">Tokens per review.</param>
    /// <param name="embeddingSize">Size of each word vector.</param>
    /// <param name="dropoutRate">Dropout after the embedding.</param>
    /// <param name="filters">Convolution filters.</param>
    /// <param name="kernelSize">Convolution window.</param>
    /// <param name="poolSize">Max-pooling window.</param>
    /// <param name="lstmUnits">LSTM units.</param>
    public static Sequential Sentiment(int maxFeatures = 20000, int maxLen = 100, int embeddingSize = 128,
        double dropoutRate = 0.25, int filters = 64, int kernelSize = 5, int poolSize = 4, int lstmUnits = 70)
    {
        var model = new Sequential();
        model.Add(new Embedding(maxFeatures, embeddingSize, inputLength: maxLen));
        AddSentimentHead(model, dropoutRate, filters, kernelSize, poolSize, lstmUnits);
        return model;
    }

    /// <summary>
    /// The sentiment model over ready feature sequences (the seed's <c>Input(shape=(100, 128))</c> variant, no
    /// Embedding). With the defaults it has 78,895 parameters.
    /// </summary>
    /// <param name="steps">Sequence length.</param>
    /// <param name="features">Features per step.</param>
    /// <param name="dropoutRate">Dropout on the input.</param>
    /// <param name="filters">Convolution filters.</param>
    /// <param name="kernelSize">Convolution window.</param>
    /// <param name="poolSize">Max-pooling window.</param>
    /// <param name="lstmUnits">LSTM units.</param>
    public static Sequential SentimentFromFeatures(int steps = 100, int features = 128, double dropoutRate = 0.25,
        int filters = 64, int kernelSize = 5, int poolSize = 4, int lstmUnits = 70)
    {
        var model = new Sequential();
        model.Add(new Input(new[] { steps, features }));
        AddSentimentHead(model, dropoutRate, filters, kernelSize, poolSize, lstmUnits);
        return model;
    }

    /// <summary>
    /// The time-series regression model as a functional model: Input(timesteps, features), Dropout,
    /// Conv1D(filters, kernelSize), MaxPooling1D(poolSize), LSTM(lstmUnits), Dense(1, linear). With the defaults
    /// (1 x 3 input) it has 22,791 parameters.
    /// </summary>
    /// <remarks>
    /// The seed writes <c>MaxPooling1D(pool_length=4)</c> here, but the sequence has one step, and pooling 4 steps out
    /// of 1 gives length 0 (real Keras refuses it too). The default pool size is therefore 1, which keeps the seed's
    /// printed summary <c>(None, 1, 10)</c>.
    /// </remarks>
    /// <param name="timesteps">Steps per sample (the seed uses 1).</param>
    /// <param name="features">Features per step (the seed uses 3 lagged values).</param>
    /// <param name="dropoutRate">Dropout on the input.</param>
    /// <param name="filters">Convolution filters.</param>
    /// <param name="kernelSize">Convolution window.</param>
    /// <param name="poolSize">Max-pooling window; 1 by default, see remarks.</param>
    /// <param name="lstmUnits">LSTM units.</param>
    public static Model Regression(int timesteps = 1, int features = 3, double dropoutRate = 0.25, int filters = 10,
        int kernelSize = 1, int poolSize = 1, int lstmUnits = 70)
    {
        var inputs = new Input(new[] { timesteps, features });
        var x = new Dropout(dropoutRate).Call(inputs);
        x = new Conv1D(filters: filters, kernelSize: kernelSize, strides: 1, padding: "valid", dilationRate: 1).Call(x);
        x = new MaxPooling1D(poolSize: poolSize).Call(x);
        x = new LSTM(units: lstmUnits).Call(x);
        var outputs = new Dense(1, activation: "linear").Call(x);
        return new Model(inputs, outputs);
    }

    private static void AddSentimentHead(Sequential model, double dropoutRate, int filters, int kernelSize, int poolSize, int lstmUnits)
    {
        model.Add(new Dropout(dropoutRate));
        model.Add(new Conv1D(filters, kernelSize, padding: "valid", activation: "relu", strides: 1));
        model.Add(new MaxPooling1D(poolSize: poolSize));
        model.Add(new LSTM(lstmUnits));
        model.Add(new Dense(1));
        model.Add(new Activation("sigmoid"));
    }
}
