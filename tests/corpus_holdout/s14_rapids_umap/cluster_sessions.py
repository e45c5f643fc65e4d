"""GPU clustering of clickstream session embeddings with RAPIDS (cuDF + cuML).

~40M sessions: cuDF for the feature aggregation, cuML UMAP + HDBSCAN for clustering.
"""
import time

import cudf
import cupy as cp
from cuml.manifold import UMAP
from cuml.cluster import HDBSCAN
from cuml.preprocessing import StandardScaler
from snowflake.snowpark.context import get_active_session

FEATURES = ["n_events", "n_pages", "dur_s", "n_search", "n_cart", "n_checkout",
            "mobile", "hour_sin", "hour_cos", "bounce"]


def session_features(events: cudf.DataFrame) -> cudf.DataFrame:
    events["is_search"] = (events["event_type"] == "search").astype("int8")
    events["is_cart"] = (events["event_type"] == "add_to_cart").astype("int8")
    events["is_checkout"] = (events["event_type"] == "checkout").astype("int8")
    g = events.groupby("session_id").agg({
        "event_ts": ["min", "max", "count"], "page_id": "nunique", "is_search": "sum",
        "is_cart": "sum", "is_checkout": "sum", "is_mobile": "max"})
    g.columns = ["ts_min", "ts_max", "n_events", "n_pages", "n_search", "n_cart", "n_checkout", "mobile"]
    g["dur_s"] = (g["ts_max"] - g["ts_min"]).dt.total_seconds()
    hour = g["ts_min"].dt.hour.astype("float32")
    g["hour_sin"] = cp.sin(2 * cp.pi * hour.values / 24)
    g["hour_cos"] = cp.cos(2 * cp.pi * hour.values / 24)
    g["bounce"] = (g["n_events"] == 1).astype("int8")
    return g.reset_index()


def main():
    session = get_active_session()
    t0 = time.time()
    pdf = session.table("WEB.CLICKSTREAM.EVENTS_30D").to_pandas()
    pdf.columns = [c.lower() for c in pdf.columns]
    events = cudf.from_pandas(pdf)
    del pdf
    feats = session_features(events)
    X = StandardScaler().fit_transform(feats[FEATURES].astype("float32"))
    print(f"features {X.shape} in {time.time() - t0:.0f}s")

    emb = UMAP(n_components=8, n_neighbors=30, min_dist=0.0, random_state=0).fit_transform(X)
    labels = HDBSCAN(min_cluster_size=5000, min_samples=50).fit_predict(emb)
    feats["cluster"] = labels
    summary = feats.groupby("cluster")[FEATURES].mean()
    summary["size"] = feats.groupby("cluster").size()
    print(summary.sort_values("size", ascending=False).to_pandas())

    out = feats[["session_id", "cluster"]].to_pandas()
    out.columns = ["SESSION_ID", "CLUSTER"]
    session.write_pandas(out, "SESSION_CLUSTERS", database="WEB", schema="SEGMENTS",
                         auto_create_table=True, overwrite=True)


if __name__ == "__main__":
    main()
