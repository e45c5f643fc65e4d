"""Fashion-MNIST MLP with Keras, forced onto the CPU.

CUDA_VISIBLE_DEVICES is cleared *before* TensorFlow is imported so TF never
initialises a GPU context (we share the box with another GPU job).
"""
import os

os.environ["CUDA_VISIBLE_DEVICES"] = "-1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse  # noqa: E402

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402


def build(hidden: int, dropout: float) -> tf.keras.Model:
    model = tf.keras.Sequential([
        tf.keras.layers.Input((28, 28)),
        tf.keras.layers.Rescaling(1 / 255.0),
        tf.keras.layers.Flatten(),
        tf.keras.layers.Dense(hidden, activation="relu"),
        tf.keras.layers.Dropout(dropout),
        tf.keras.layers.Dense(hidden // 2, activation="relu"),
        tf.keras.layers.Dense(10),
    ])
    model.compile(optimizer=tf.keras.optimizers.Adam(1e-3),
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--dropout", type=float, default=0.2)
    ap.add_argument("--output-dir", default="fashion_mlp")
    args = ap.parse_args()

    assert not tf.config.list_physical_devices("GPU"), "GPU should be hidden"
    (x_tr, y_tr), (x_te, y_te) = tf.keras.datasets.fashion_mnist.load_data()
    model = build(args.hidden, args.dropout)
    model.fit(x_tr, y_tr, validation_split=0.1, epochs=args.epochs, batch_size=256,
              callbacks=[tf.keras.callbacks.EarlyStopping(patience=3, restore_best_weights=True)])
    loss, acc = model.evaluate(x_te, y_te, verbose=0)
    print(f"test accuracy {acc:.4f}")
    os.makedirs(args.output_dir, exist_ok=True)
    model.save(os.path.join(args.output_dir, "model.keras"))
    np.save(os.path.join(args.output_dir, "test_logits.npy"), model.predict(x_te[:100]))


if __name__ == "__main__":
    main()
