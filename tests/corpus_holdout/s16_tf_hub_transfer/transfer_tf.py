"""Two-tower transfer learning: EfficientNet image features + a TF-Hub text encoder.

Classifies marketplace listings (photo + title) into 40 categories.
"""
import argparse
import os

import numpy as np
import tensorflow as tf
import tensorflow_hub as hub
from tensorflow import keras
from tensorflow.keras import layers

AUTOTUNE = tf.data.AUTOTUNE
TEXT_ENCODER = "https://tfhub.dev/google/universal-sentence-encoder/4"
IMG = 260


def parse_example(rec):
    feats = tf.io.parse_single_example(rec, {
        "image": tf.io.FixedLenFeature([], tf.string),
        "title": tf.io.FixedLenFeature([], tf.string),
        "label": tf.io.FixedLenFeature([], tf.int64),
    })
    img = tf.image.resize(tf.io.decode_jpeg(feats["image"], channels=3), (IMG, IMG))
    return {"image": img, "title": feats["title"]}, feats["label"]


def make_ds(pattern, batch, training):
    files = tf.data.Dataset.list_files(pattern, shuffle=training)
    ds = files.interleave(tf.data.TFRecordDataset, num_parallel_calls=AUTOTUNE, deterministic=not training)
    ds = ds.map(parse_example, num_parallel_calls=AUTOTUNE)
    if training:
        ds = ds.shuffle(10_000)
    return ds.batch(batch).prefetch(AUTOTUNE)


def build_model(n_classes):
    img_in = keras.Input((IMG, IMG, 3), name="image")
    txt_in = keras.Input((), dtype=tf.string, name="title")
    aug = keras.Sequential([layers.RandomFlip("horizontal"), layers.RandomRotation(0.05)])
    backbone = keras.applications.EfficientNetB2(include_top=False, weights="imagenet", pooling="avg")
    backbone.trainable = False
    x_img = backbone(aug(img_in), training=False)
    x_txt = hub.KerasLayer(TEXT_ENCODER, trainable=False)(txt_in)
    x = layers.Concatenate()([x_img, x_txt])
    x = layers.Dropout(0.3)(layers.Dense(512, activation="gelu")(x))
    out = layers.Dense(n_classes, activation="softmax", dtype="float32")(x)
    return keras.Model([img_in, txt_in], out), backbone


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/mnt/data/listings")
    ap.add_argument("--classes", type=int, default=40)
    ap.add_argument("--batch", type=int, default=128)
    args = ap.parse_args()

    gpus = tf.config.list_physical_devices("GPU")
    for g in gpus:
        tf.config.experimental.set_memory_growth(g, True)
    keras.mixed_precision.set_global_policy("mixed_float16")
    strategy = tf.distribute.MirroredStrategy()

    train = make_ds(os.path.join(args.data, "train-*.tfrec"), args.batch, True)
    val = make_ds(os.path.join(args.data, "val-*.tfrec"), args.batch, False)
    with strategy.scope():
        model, backbone = build_model(args.classes)
        model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(train, validation_data=val, epochs=5)

    with strategy.scope():
        backbone.trainable = True
        for layer in backbone.layers[:-60]:
            layer.trainable = False
        model.compile(keras.optimizers.Adam(2e-5), "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(train, validation_data=val, epochs=10,
              callbacks=[keras.callbacks.EarlyStopping(patience=2, restore_best_weights=True)])
    model.save("listing_classifier.keras")
    print("val acc", np.round(model.evaluate(val, return_dict=True)["accuracy"], 4))


if __name__ == "__main__":
    main()
