namespace KerasStyle.Models;

/// <summary>Which Keras writes the legacy HDF5 full-model file that <see cref="Model.Save(string, H5Format)"/> writes.</summary>
public enum H5Format
{
    /// <summary>
    /// As Keras 3.16's <c>model.save("m.h5")</c>: Keras 3 configs (DTypePolicy objects, <c>batch_shape</c>, nodes as
    /// <c>{"args", "kwargs"}</c>) and Keras 3's optimizer variables (step count, learning rate, slots). Keras 3 reads
    /// it; tf.keras 2 cannot.
    /// </summary>
    Keras3,

    /// <summary>
    /// As tf.keras 2.11's <c>model.save("m.h5")</c>: tf.keras 2 configs (dtype strings, <c>batch_input_shape</c>,
    /// <c>inbound_nodes</c> lists, <c>"is_legacy_optimizer": false</c>) and tf.keras 2.11's optimizer variables
    /// (<c>iteration:0</c>, then <c>Adam/m/…</c>, <c>Adam/v/…</c>). For tf.keras 2.11 to 2.15 (TensorFlow's
    /// <c>tf.keras</c> before 2.16); Keras 3 reads its model and weights with <c>compile=False</c> (Keras 3 refuses
    /// tf.keras 2.11 optimizer configs, which carry <c>jit_compile</c> and <c>is_legacy_optimizer</c>).
    /// </summary>
    TfKeras2,
}
