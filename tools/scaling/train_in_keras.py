"""Train a KerasStyle sentiment model further in real Keras 3, data-parallel with keras.distribution, and save it back.

The round trip of docs/scaling.md: KerasStyle trains a seed model (`sentiment ... --output seed.keras`); this script
loads it with `keras.saving.load_model` (compiled, with the library's Adam state), trains it on IMDB reviews encoded
as the library encodes them (Keras' text_to_word_sequence, the IMDB word index, ids below 20,000, last 100 kept),
and saves a .keras file that the library's `predict` command loads.

Run here (one process, torch backend; see ../shared/tools/real-keras/README.md), from the repository root:
    source ../shared/tools/real-keras/env.sh
    /usr/bin/python3 tools/scaling/train_in_keras.py --model seed.keras --output continued.keras --workdir DIR

On one process it also writes DIR/eval_reviews.txt (held-out test reviews, one per line, for `predict` on standard
input), DIR/eval_labels.txt and Keras' predictions for them before and after training (keras_before_predictions.txt,
keras_after_predictions.txt), for compare_predictions.py.

Written for the JAX backend on several machines as well (not run for docs/scaling.md: JAX cannot be installed
there), one process per machine, each started with:
    KERAS_BACKEND=jax KERAS_DISTRIBUTION_JOB_ADDRESSES=10.0.0.1:1234 KERAS_DISTRIBUTION_NUM_PROCESSES=4 \
    KERAS_DISTRIBUTION_PROCESS_ID=<0..3> python3 train_in_keras.py --model seed.keras --output continued.keras
Every process reads the same sample (same seed) and keeps its own share; Keras joins the shares into one global batch
over the device mesh; the weights stay replicated, so process 0 alone writes the file. Evaluation is skipped there
(it would be a collective step); evaluate the saved file on one machine, or here with `predict`.
"""
import argparse
import gzip
import json
import os
import time

import numpy as np
import keras
# Keras' own text rule (keras.preprocessing.text in Keras 2), the one KerasStyle's Text.TextToWordSequence follows.
from keras.src.legacy.preprocessing.text import text_to_word_sequence

MAX_FEATURES = 20000  # ids kept below this (Keras' num_words), as the examples' SentimentData.MaxFeatures
MAX_LEN = 100  # the last 100 ids, padded in front, as SentimentData.MaxLen
START, OOV, INDEX_FROM = 1, 2, 3  # as KerasStyle.Preprocessing.ImdbEncoder and keras.datasets.imdb


def read_reviews(path):
    """(labels, texts) of an IMDB .tsv.gz file of ../shared/data (header label, id, rating, text; LF line ends)."""
    lines = gzip.open(path, "rb").read().decode("utf-8").split("\n")
    assert lines[0] == "label\tid\trating\ttext", lines[0]
    rows = [line.split("\t", 3) for line in lines[1:] if line]
    return np.array([int(r[0]) for r in rows], dtype="float32"), [r[3] for r in rows]


def encoder(word_index_path):
    word_index = json.load(open(word_index_path, encoding="utf-8"))

    def encode(texts):
        sequences = []
        for text in texts:
            ids = [START]
            for word in text_to_word_sequence(text):
                rank = word_index.get(word)
                ids.append(rank + INDEX_FROM if rank is not None and rank + INDEX_FROM < MAX_FEATURES else OOV)
            sequences.append(ids)
        return keras.utils.pad_sequences(sequences, maxlen=MAX_LEN, padding="pre", truncating="pre")

    return encode


def sample(labels, texts, n, rng):
    order = rng.permutation(len(texts))[:n]
    return labels[order], [texts[i] for i in order]


def report(name, model, x, y, batch_size, workdir):
    loss, accuracy = model.evaluate(x, y, batch_size=batch_size, verbose=0)
    p = model.predict(x, batch_size=batch_size, verbose=0)[:, 0]
    np.savetxt(os.path.join(workdir, f"keras_{name}_predictions.txt"), p, fmt="%.8f")
    print(f"{name}: loss {loss:.4f}, accuracy {accuracy:.4f} on {len(y)} held-out test reviews")


def step(model):
    return int(keras.ops.convert_to_numpy(model.optimizer.iterations))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help=".keras file saved by KerasStyle")
    parser.add_argument("--output", required=True, help=".keras file to write (by process 0)")
    parser.add_argument("--data", default="../shared/data", help="the shared data folder (imdb/...)")
    parser.add_argument("--workdir", default=".", help="held-out reviews and Keras' predictions (one process only)")
    parser.add_argument("--train", type=int, default=10000, help="training reviews, summed over all processes")
    parser.add_argument("--eval", type=int, default=2000, help="held-out test reviews")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--global-batch-size", type=int, default=30, help="summed over all processes")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    # 1. Join the cluster before anything touches a device. initialize() reads the KERAS_DISTRIBUTION_* variables;
    #    on JAX it calls jax.distributed.initialize with process 0's address as the coordinator.
    if "KERAS_DISTRIBUTION_NUM_PROCESSES" in os.environ:
        keras.distribution.initialize()

    # 2. A one-axis mesh over every device of every process, data parallelism along it. The arrays are split by hand
    #    below, so Keras is told not to split them again (it only splits tf.data and PyDataset inputs itself).
    devices = keras.distribution.list_devices()
    mesh = keras.distribution.DeviceMesh(shape=(len(devices),), axis_names=["batch"], devices=devices)
    distribution = keras.distribution.DataParallel(device_mesh=mesh, auto_shard_dataset=False)
    keras.distribution.set_distribution(distribution)  # before the model's variables exist
    shards, shard = distribution.num_data_shards, distribution.data_shard_id
    print(f"Keras {keras.__version__}, backend {keras.backend.backend()}: process {shard} of {shards}, "
          f"mesh {mesh.shape} over {devices}")
    if args.global_batch_size % shards:
        raise SystemExit(f"--global-batch-size {args.global_batch_size} is not a multiple of {shards} processes")
    batch_size = args.global_batch_size // shards

    # 3. The same sample on every process (same seed); each keeps every shards-th review, in whole batches, so every
    #    process runs the same number of steps.
    keras.utils.set_random_seed(args.seed)
    rng = np.random.RandomState(args.seed)
    encode = encoder(os.path.join(args.data, "imdb", "imdb_word_index.json"))
    y_train, train_texts = sample(*read_reviews(os.path.join(args.data, "imdb", "imdb_train.tsv.gz")), args.train, rng)
    y_eval, eval_texts = sample(*read_reviews(os.path.join(args.data, "imdb", "imdb_test.tsv.gz")), args.eval, rng)
    per_process = len(y_train) // shards // batch_size * batch_size
    x_mine = encode(train_texts[shard::shards][:per_process])
    y_mine = y_train[shard::shards][:per_process]

    # 4. Load the library's file under the distribution, so its variables are placed on the mesh.
    model = keras.saving.load_model(args.model)
    print(f"loaded {args.model}: {model.count_params():,} parameters, "
          f"{type(model.optimizer).__name__} at step {step(model)}")
    single = shards == 1
    if single:
        os.makedirs(args.workdir, exist_ok=True)
        x_eval = encode(eval_texts)
        with open(os.path.join(args.workdir, "eval_reviews.txt"), "w", encoding="utf-8", newline="\n") as f:
            f.writelines(text + "\n" for text in eval_texts)
        np.savetxt(os.path.join(args.workdir, "eval_labels.txt"), y_eval, fmt="%d")
        report("before", model, x_eval, y_eval, args.global_batch_size, args.workdir)

    start = time.perf_counter()
    model.fit(x_mine, y_mine, batch_size=batch_size, epochs=args.epochs, shuffle=True, verbose=2 if shard == 0 else 0)
    print(f"fit: {args.epochs} epoch(s), {per_process} reviews and batch {batch_size} per process, "
          f"{time.perf_counter() - start:.1f} s, {type(model.optimizer).__name__} at step {step(model)}")
    if single:
        report("after", model, x_eval, y_eval, args.global_batch_size, args.workdir)

    # 5. DataParallel keeps every weight and optimizer slot replicated, so process 0 holds all of them.
    if shard == 0:
        model.save(args.output)
        print(f"saved {args.output}")


if __name__ == "__main__":
    main()
