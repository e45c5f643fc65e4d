"""Anomaly detection on IoT telemetry stored in Azure Blob Storage.

Auth uses DefaultAzureCredential (service principal env vars in CI).
"""
import argparse
import io

import pandas as pd
from azure.identity import DefaultAzureCredential
from azure.storage.blob import BlobServiceClient
from sklearn.ensemble import IsolationForest
from sklearn.preprocessing import RobustScaler

ACCOUNT_URL = "https://contosoiotml.blob.core.windows.net"
CONTAINER = "telemetry"


def read_blobs(svc: BlobServiceClient, prefix: str) -> pd.DataFrame:
    container = svc.get_container_client(CONTAINER)
    frames = []
    for props in container.list_blobs(name_starts_with=prefix):
        if props.name.endswith(".csv"):
            data = container.download_blob(props.name).readall()
            frames.append(pd.read_csv(io.BytesIO(data), parse_dates=["timestamp"]))
    return pd.concat(frames, ignore_index=True)


def features(df: pd.DataFrame) -> pd.DataFrame:
    df = df.sort_values(["device_id", "timestamp"])
    g = df.groupby("device_id")
    for col in ("temperature", "vibration", "current"):
        df[f"{col}_z"] = (df[col] - g[col].transform("mean")) / (g[col].transform("std") + 1e-6)
        df[f"{col}_diff"] = g[col].diff().fillna(0)
    return df


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--prefix", default="2024/06/")
    ap.add_argument("--contamination", type=float, default=0.01)
    args = ap.parse_args()

    svc = BlobServiceClient(account_url=ACCOUNT_URL, credential=DefaultAzureCredential())
    df = features(read_blobs(svc, args.prefix))
    cols = [c for c in df.columns if c.endswith(("_z", "_diff"))]
    X = RobustScaler().fit_transform(df[cols])
    iso = IsolationForest(n_estimators=400, contamination=args.contamination, random_state=0, n_jobs=-1)
    df["anomaly"] = iso.fit_predict(X) == -1
    df["score"] = -iso.score_samples(X)

    out = df[df["anomaly"]][["device_id", "timestamp", "score"] + cols]
    blob = svc.get_blob_client(CONTAINER, f"anomalies/{args.prefix.strip('/').replace('/', '-')}.csv")
    blob.upload_blob(out.to_csv(index=False), overwrite=True)
    print(f"{len(out)} anomalies out of {len(df)} readings")


if __name__ == "__main__":
    main()
