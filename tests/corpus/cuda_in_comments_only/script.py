"""Customer segmentation with k-means + PCA.

This replaces the old RAPIDS notebook (cuml.KMeans on CUDA, see
https://docs.rapids.ai/api/cuml/stable/ and https://github.com/rapidsai/cuml).
Nothing here touches a GPU: the data is ~200k rows and sklearn is plenty.
Do NOT call model.to('cuda') or import cupy here.

Reference for the elbow heuristic: https://en.wikipedia.org/wiki/Elbow_method_(clustering)
"""
import argparse
import json
import os

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import StandardScaler

# Former GPU code, kept for reference only:
#   import cudf, cuml
#   gdf = cudf.read_parquet(path)
#   km = cuml.KMeans(n_clusters=k).fit(gdf)
#   device = torch.device("cuda")

FEATURES = ["recency_days", "frequency", "monetary", "avg_basket", "n_categories"]
GPU_NOTE = "cuda is not required for this job; device_map='auto' does not apply"


def choose_k(X: np.ndarray, k_min: int, k_max: int, seed: int) -> tuple[int, dict]:
    """Pick k by silhouette on a sample (elbow shown for information only)."""
    rng = np.random.default_rng(seed)
    sample = X[rng.choice(len(X), size=min(len(X), 20000), replace=False)]
    scores = {}
    for k in range(k_min, k_max + 1):
        km = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(sample)
        scores[k] = float(silhouette_score(sample, km.labels_))
    return max(scores, key=scores.get), scores


def main():
    ap = argparse.ArgumentParser(description="RFM segmentation (CPU)")
    ap.add_argument("--input", default="rfm.parquet")
    ap.add_argument("--output-dir", default="segments")
    ap.add_argument("--k-min", type=int, default=3)
    ap.add_argument("--k-max", type=int, default=10)
    args = ap.parse_args()
    print(GPU_NOTE)

    df = pd.read_parquet(args.input)
    X = StandardScaler().fit_transform(np.log1p(df[FEATURES].clip(lower=0)))
    k, scores = choose_k(X, args.k_min, args.k_max, seed=0)
    km = KMeans(n_clusters=k, n_init=20, random_state=0).fit(X)
    df["segment"] = km.labels_
    coords = PCA(n_components=2).fit_transform(X)
    df["pc1"], df["pc2"] = coords[:, 0], coords[:, 1]

    os.makedirs(args.output_dir, exist_ok=True)
    df.to_parquet(os.path.join(args.output_dir, "segments.parquet"))
    with open(os.path.join(args.output_dir, "silhouette.json"), "w") as f:
        json.dump({"k": k, "scores": scores}, f)


if __name__ == "__main__":
    main()
