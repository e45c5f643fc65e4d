"""Extract MFCC/chroma features from audio clips in S3 and fit a genre classifier."""
import io
import os
import sys
from concurrent.futures import ThreadPoolExecutor

import boto3
import joblib
import librosa
import numpy as np
import pandas as pd
import soundfile as sf
from sklearn.ensemble import ExtraTreesClassifier
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.metrics import classification_report
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

BUCKET = os.environ.get("AUDIO_BUCKET", "acme-audio-lake")
PREFIX = "gtzan/wav/"
SR = 22050


def list_keys(s3):
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=BUCKET, Prefix=PREFIX):
        for obj in page.get("Contents", []):
            if obj["Key"].endswith(".wav"):
                yield obj["Key"]


def load_clip(s3, key):
    body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    y, sr = sf.read(io.BytesIO(body), dtype="float32", always_2d=False)
    if y.ndim > 1:
        y = y.mean(axis=1)
    if sr != SR:
        y = librosa.resample(y, orig_sr=sr, target_sr=SR)
    return y


def featurize(y):
    mfcc = librosa.feature.mfcc(y=y, sr=SR, n_mfcc=20)
    chroma = librosa.feature.chroma_stft(y=y, sr=SR)
    contrast = librosa.feature.spectral_contrast(y=y, sr=SR)
    zcr = librosa.feature.zero_crossing_rate(y)
    tempo, _ = librosa.beat.beat_track(y=y, sr=SR)
    parts = [mfcc, chroma, contrast, zcr]
    stats = [np.concatenate([p.mean(axis=1), p.std(axis=1)]) for p in parts]
    return np.concatenate(stats + [np.atleast_1d(tempo)])


def process(key):
    s3 = boto3.client("s3")
    y = load_clip(s3, key)
    genre = key[len(PREFIX):].split("/")[0]
    return genre, featurize(y)


def main(out_path="genre_model.joblib"):
    keys = list(list_keys(boto3.client("s3")))
    print(f"{len(keys)} clips", file=sys.stderr)
    with ThreadPoolExecutor(max_workers=16) as pool:
        rows = list(pool.map(process, keys))
    labels = np.array([g for g, _ in rows])
    X = np.vstack([f for _, f in rows])
    pd.DataFrame(X).assign(genre=labels).to_parquet("features.parquet")

    clf = make_pipeline(StandardScaler(), ExtraTreesClassifier(n_estimators=600, n_jobs=-1, random_state=0))
    pred = cross_val_predict(clf, X, labels, cv=StratifiedKFold(5, shuffle=True, random_state=0))
    print(classification_report(labels, pred))
    clf.fit(X, labels)
    joblib.dump(clf, out_path)


if __name__ == "__main__":
    main(*sys.argv[1:])
