"""Compare KerasStyle's `predict` output with Keras' predictions on the same reviews (docs/scaling.md).

    /usr/bin/python3 tools/scaling/compare_predictions.py --labels DIR/eval_labels.txt \
        --keras DIR/keras_after_predictions.txt --library DIR/library_continued.tsv

`--library` is what `predict` printed for the reviews of DIR/eval_reviews.txt (probability, label, preview; one line per
review, in order); `--keras` is what train_in_keras.py wrote. `predict` prints 4 decimals, so agreement shows as a
largest difference of at most 5e-5 and as the library's values being Keras' rounded to 4 decimals. Needs only numpy.
"""
import argparse

import numpy as np


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", required=True)
    parser.add_argument("--keras", required=True)
    parser.add_argument("--library", required=True)
    args = parser.parse_args()
    labels = np.loadtxt(args.labels)
    keras_p = np.loadtxt(args.keras)
    with open(args.library, encoding="utf-8") as f:
        library_p = np.array([float(line.split("\t", 1)[0]) for line in f if line.strip()])
    if not len(labels) == len(keras_p) == len(library_p):
        raise SystemExit(f"counts differ: {len(labels)} labels, {len(keras_p)} Keras, {len(library_p)} library")

    difference = np.abs(keras_p - library_p)
    print(f"{len(labels)} reviews; largest |Keras - library| {difference.max():.2e} (library printed 4 decimals)")
    print(f"reviews where the library's value is not Keras' rounded to 4 decimals: "
          f"{int(np.sum(np.abs(np.round(keras_p, 4) - library_p) > 1e-9))}")
    for name, p in (("Keras", keras_p), ("library", library_p)):
        print(f"{name:8s} accuracy {np.mean((p > 0.5) == (labels == 1)):.4f}")
    print(f"labels that differ: {int(np.sum((keras_p > 0.5) != (library_p > 0.5)))}")


if __name__ == "__main__":
    main()
