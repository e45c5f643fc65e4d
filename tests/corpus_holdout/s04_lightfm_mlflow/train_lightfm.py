"""Hybrid recommender (LightFM WARP) over Snowflake interaction logs.

Tracks params/metrics to the team MLflow server.
"""
import os
from dataclasses import dataclass, asdict

import mlflow
import numpy as np
import pandas as pd
import scipy.sparse as sp
from lightfm import LightFM
from lightfm.data import Dataset
from lightfm.evaluation import precision_at_k, auc_score
from snowflake.snowpark import Session

MLFLOW_URI = "https://mlflow.platform.acme-corp.com"


@dataclass
class Config:
    no_components: int = 64
    loss: str = "warp"
    learning_rate: float = 0.05
    item_alpha: float = 1e-6
    epochs: int = 30
    threads: int = os.cpu_count() or 4
    k: int = 10


def load(session):
    inter = session.sql("""
        select user_id, item_id, count(*) as n
        from ANALYTICS.EVENTS.PRODUCT_VIEWS
        where event_ts > dateadd(day, -90, current_timestamp())
        group by 1, 2
    """).to_pandas()
    items = session.table("ANALYTICS.CATALOG.ITEMS").select("ITEM_ID", "CATEGORY", "BRAND").to_pandas()
    inter.columns = [c.lower() for c in inter.columns]
    items.columns = [c.lower() for c in items.columns]
    return inter, items


def build(inter, items):
    ds = Dataset()
    feats = [f"cat:{c}" for c in items.category.unique()] + [f"brand:{b}" for b in items.brand.unique()]
    ds.fit(inter.user_id.unique(), items.item_id.unique(), item_features=feats)
    interactions, weights = ds.build_interactions(
        (u, i, np.log1p(n)) for u, i, n in inter.itertuples(index=False))
    item_feats = ds.build_item_features(
        (r.item_id, [f"cat:{r.category}", f"brand:{r.brand}"]) for r in items.itertuples())
    return ds, interactions.tocsr(), weights.tocsr(), item_feats


def split(m, frac=0.2, seed=0):
    rng = np.random.default_rng(seed)
    m = m.tocoo()
    mask = rng.random(m.nnz) < frac
    train = sp.coo_matrix((m.data[~mask], (m.row[~mask], m.col[~mask])), shape=m.shape)
    test = sp.coo_matrix((m.data[mask], (m.row[mask], m.col[mask])), shape=m.shape)
    return train.tocsr(), test.tocsr()


def main():
    cfg = Config()
    session = Session.builder.getOrCreate()
    inter, items = load(session)
    ds, interactions, weights, item_feats = build(inter, items)
    train, test = split(interactions)
    w_train = weights.multiply(train > 0).tocsr()

    mlflow.set_tracking_uri(MLFLOW_URI)
    mlflow.set_experiment("recsys-lightfm")
    with mlflow.start_run():
        mlflow.log_params(asdict(cfg))
        model = LightFM(no_components=cfg.no_components, loss=cfg.loss,
                        learning_rate=cfg.learning_rate, item_alpha=cfg.item_alpha)
        for epoch in range(cfg.epochs):
            model.fit_partial(train, sample_weight=w_train, item_features=item_feats,
                              epochs=1, num_threads=cfg.threads)
            if epoch % 5 == 4:
                p = precision_at_k(model, test, train_interactions=train, item_features=item_feats,
                                   k=cfg.k, num_threads=cfg.threads).mean()
                mlflow.log_metric(f"precision_at_{cfg.k}", float(p), step=epoch)
        auc = auc_score(model, test, train_interactions=train, item_features=item_feats,
                        num_threads=cfg.threads).mean()
        mlflow.log_metric("auc", float(auc))

        _, item_emb = model.get_item_representations(item_feats)
        emb = pd.DataFrame(item_emb, index=list(ds.mapping()[2].keys()))
        emb.columns = [f"E{i}" for i in emb.columns]
        session.write_pandas(emb.reset_index(names="ITEM_ID"), "ITEM_EMBEDDINGS",
                             auto_create_table=True, overwrite=True)


if __name__ == "__main__":
    main()
