"""The seed's ``mnist_cnn`` script, as a whole process: launch -> test accuracy >= target.

This is the classic Keras example (keras-team/keras ``examples/mnist_cnn.py``) as written:
Conv32 3x3 -> Conv64 3x3 -> MaxPool -> Dropout .25 -> Dense128 -> Dropout .5 -> softmax,
Adadelta with learning rate 1.0 (Keras 2's default, which the example relied on), categorical
cross-entropy, ``model.fit(batch_size=128, validation_data=(x_test, y_test))``, so the test
accuracy is known after every epoch. Two changes, both in its favour: the data come from the
bundled MNIST files (no download), and the process exits as soon as an epoch's test accuracy
reaches the target instead of running all 12 epochs.

It prints one JSON line: ``{"reached_at_epoch": ..., "seconds_to_target": ..., "accuracies": [...]}``
where ``seconds_to_target`` counts from the start of the interpreter (``time.perf_counter`` at
the top of this file is taken after Python itself started; ``bench_training.py`` times the
whole process from outside).

Usage::

    python bench/seed_mnist_cnn.py [--target 0.99] [--max-epochs 12]
"""

import time

T0 = time.perf_counter()

import argparse  # noqa: E402
import gzip  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
MNIST = Path(__file__).resolve().parent.parent / "resources" / "mnist"


def _idx(name: str, offset: int) -> np.ndarray:
    with gzip.open(MNIST / name, "rb") as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--target", type=float, default=0.99)
    ap.add_argument("--max-epochs", type=int, default=12)
    args = ap.parse_args()

    import keras
    from keras import layers

    x_train = _idx("train-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28, 1).astype("float32") / 255
    y_train = keras.utils.to_categorical(_idx("train-labels-idx1-ubyte.gz", 8), 10)
    x_test = _idx("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28, 1).astype("float32") / 255
    y_test = keras.utils.to_categorical(_idx("t10k-labels-idx1-ubyte.gz", 8), 10)

    model = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.Conv2D(64, (3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Dropout(0.25),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(loss=keras.losses.categorical_crossentropy,
                  optimizer=keras.optimizers.Adadelta(learning_rate=1.0), metrics=["accuracy"])
    result = {"reached_at_epoch": None, "seconds_to_target": None, "accuracies": [],
              "epoch_seconds": []}

    class UntilTarget(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            acc = float(logs["val_accuracy"])
            result["accuracies"].append(acc)
            result["epoch_seconds"].append(time.perf_counter() - self.t)
            if acc >= args.target:
                result["reached_at_epoch"] = epoch + 1
                result["seconds_to_target"] = time.perf_counter() - T0
                self.model.stop_training = True

    model.fit(x_train, y_train, batch_size=128, epochs=args.max_epochs, verbose=0,
              validation_data=(x_test, y_test), callbacks=[UntilTarget()])
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
