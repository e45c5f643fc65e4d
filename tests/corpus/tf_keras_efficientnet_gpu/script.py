"""Transfer learning with Keras EfficientNetB0 on a folder of images.

Uses MirroredStrategy across all local GPUs and mixed precision.
The image folder is expected at --data-dir (one sub-folder per class).
"""
import argparse
import os

import tensorflow as tf
from tensorflow import keras


def datasets(data_dir: str, img: int, batch: int):
    common = dict(image_size=(img, img), batch_size=batch, seed=123, validation_split=0.2)
    train = keras.utils.image_dataset_from_directory(data_dir, subset="training", **common)
    val = keras.utils.image_dataset_from_directory(data_dir, subset="validation", **common)
    n_classes = len(train.class_names)
    autotune = tf.data.AUTOTUNE
    return train.prefetch(autotune), val.prefetch(autotune), n_classes


def build(n_classes: int, img: int) -> keras.Model:
    base = keras.applications.EfficientNetB0(include_top=False, weights="imagenet", input_shape=(img, img, 3))
    base.trainable = False
    aug = keras.Sequential([keras.layers.RandomFlip("horizontal"), keras.layers.RandomRotation(0.1)])
    inputs = keras.Input((img, img, 3))
    x = base(aug(inputs), training=False)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(0.3)(x)
    outputs = keras.layers.Dense(n_classes, activation="softmax", dtype="float32")(x)
    return keras.Model(inputs, outputs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", default="images/")
    ap.add_argument("--img", type=int, default=224)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--output-dir", default="export")
    args = ap.parse_args()

    gpus = tf.config.list_physical_devices("GPU")
    for g in gpus:
        tf.config.experimental.set_memory_growth(g, True)
    keras.mixed_precision.set_global_policy("mixed_float16")
    strategy = tf.distribute.MirroredStrategy()
    print("replicas:", strategy.num_replicas_in_sync, "gpus:", gpus)

    train, val, n_classes = datasets(args.data_dir, args.img, args.batch * strategy.num_replicas_in_sync)
    with strategy.scope():
        model = build(n_classes, args.img)
        model.compile(optimizer=keras.optimizers.Adam(1e-3),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(train, validation_data=val, epochs=args.epochs,
              callbacks=[keras.callbacks.EarlyStopping(patience=3, restore_best_weights=True)])
    os.makedirs(args.output_dir, exist_ok=True)
    model.save(os.path.join(args.output_dir, "effnet.keras"))


if __name__ == "__main__":
    main()
