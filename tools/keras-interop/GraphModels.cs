using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;

namespace KerasStyle.Tools.KerasInterop;

/// <summary>
/// The graphs that are not chains (issue 13), as tools/keras-fixtures builds them in Keras: written here for Keras to
/// load (Program.cs), and built by the tests (compiled into the test project too), so both use one definition.
/// </summary>
internal static class GraphModels
{
    /// <summary>Every merge layer and option over inputs a (4, 3), b (4, 3), c (3,); one output each (merges.py).</summary>
    public static Model Merges()
    {
        var a = new Input(shape: (4, 3), name: "a");
        var b = new Input(shape: (4, 3), name: "b");
        var c = new Input(shape: 3, name: "c");
        var outputs = new[]
        {
            new Concatenate(name: "concatenate").Call(a, b),
            new Concatenate(axis: 1, name: "concatenate_axis1").Call(a, b),
            new Add(name: "add").Call(a, b, a),
            new Subtract(name: "subtract").Call(a, b),
            new Multiply(name: "multiply").Call(a, c),
            new Average(name: "average").Call(a, b),
            new Maximum(name: "maximum").Call(a, b),
            new Minimum(name: "minimum").Call(a, b),
            new Dot(2, name: "dot").Call(a, b),
            new Dot((1, 1), normalize: true, name: "dot_normalized").Call(a, b),
        };
        return new Model(new KerasTensor[] { a, b, c }, outputs, "merges");
    }

    /// <summary>A functional encoder called on a and b (shared weights) and a Sequential head inside (nested.py).</summary>
    public static Model Siamese()
    {
        var x = new Input(shape: (4, 3), name: "sequence");
        var h = new LSTM(5, name: "lstm").Call(new Conv1D(4, 2, activation: "relu", name: "conv1d").Call(x));
        var encoder = new Model(x, new Dense(3, activation: "tanh", name: "code").Call(h), "encoder");
        var head = new Sequential(name: "head");
        head.Add(new Input(shape: 6));
        head.Add(new Dense(4, activation: "relu", name: "hidden"));
        head.Add(new Dense(1, name: "score"));
        var a = new Input(shape: (4, 3), name: "a");
        var b = new Input(shape: (4, 3), name: "b");
        var (ea, eb) = (encoder.Call(a), encoder.Call(b));
        var joined = new Concatenate(name: "joined").Call(new Subtract(name: "difference").Call(ea, eb), ea);
        return new Model(new KerasTensor[] { a, b }, head.Call(joined), "siamese");
    }

    /// <summary>An LSTM encoder whose states start an LSTM decoder (seq2seq.py).</summary>
    public static Model Seq2Seq()
    {
        var source = new Input(shape: (5, 3), name: "source");
        var target = new Input(shape: (4, 2), name: "target");
        var encoded = new LSTM(6, returnState: true, name: "encoder").CallMulti(source);
        var decoded = new LSTM(6, returnSequences: true, name: "decoder").Call(target, initialState: new[] { encoded[1], encoded[2] });
        return new Model(new[] { source, target }, new Dense(2, name: "out").Call(decoded), "seq2seq");
    }

    /// <summary>
    /// Embedding masks, Masking, a mask kept by Dense and merged masks over padded inputs (masks.py); with
    /// <paramref name="masked"/> false the same model without any mask.
    /// </summary>
    public static Model Masks(bool masked = true)
    {
        var tokens = new Input(shape: 6, dtype: DType.Int32, name: "tokens");
        var tokens2 = new Input(shape: 6, dtype: DType.Int32, name: "tokens2");
        var series = new Input(shape: (6, 2), name: "series");
        var e = new Embedding(20, 4, name: "embedding", maskZero: masked).Call(tokens);
        var e2 = new Embedding(20, 4, name: "embedding2", maskZero: masked).Call(tokens2);
        var steps = new LSTM(5, returnSequences: true, name: "steps").Call(e);
        var last = new LSTM(3, name: "last").Call(steps);
        var s = new LSTM(4, name: "masked_series").Call(masked ? new Masking(0.0, name: "masking").Call(series) : series);
        var perStep = new Dense(3, name: "per_step").Call(e);
        var either = new LSTM(2, name: "or_mask").Call(new Add(name: "sum").Call(e, e2));
        var score = new Dense(1, name: "score").Call(new Concatenate(name: "joined").Call(last, s, either));
        return new Model(new[] { tokens, tokens2, series }, new[] { score, perStep, steps }, "masks");
    }

    /// <summary>
    /// The public RNN of a cell: RNN(LSTMCell) with sequences, then RNN(StackedRNNCells([GRUCell, SimpleRNNCell])),
    /// then Dense (issue 21; what Keras 3.16 makes of the library's files of these layers).
    /// </summary>
    public static Model RnnCells()
    {
        var x = new Input(shape: (5, 3), name: "series");
        var steps = new RNN(new LSTMCell(4, name: "lstm_cell"), returnSequences: true, name: "rnn_lstm").Call(x);
        var stacked = new StackedRNNCells(new RecurrentCell[] { new GRUCell(3, name: "gru_cell"), new SimpleRNNCell(2, name: "simple_rnn_cell") }, name: "stacked");
        var last = new RNN(stacked, name: "rnn_stacked").Call(steps);
        return new Model(x, new Dense(1, name: "score").Call(last), "rnn_cells");
    }

    /// <summary>Bidirectional(RNN(GRUCell(reset_after=False))) over (5, 3) with sequences, then Dense (issue 21).</summary>
    public static Model BidirectionalCell()
    {
        var x = new Input(shape: (5, 3), name: "series");
        var both = new Bidirectional(new RNN(new GRUCell(3, resetAfter: false, name: "gru_cell"), returnSequences: true, name: "rnn_gru"), name: "bidirectional").Call(x);
        return new Model(x, new Dense(2, name: "out").Call(both), "bidirectional_cell");
    }
}
