"""CatBoost multiclass model for product categorisation, trained on GPU.

Data comes from a Snowflake table; text features are handled natively by
CatBoost (text_features=...), which on GPU supports BoW + NaiveBayes.
"""
import argparse
import logging

import numpy as np
import pandas as pd
from catboost import CatBoostClassifier, Pool
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split
from snowflake.snowpark import Session

log = logging.getLogger("catboost_gpu")

CAT_COLS = ["BRAND", "SELLER_ID", "COUNTRY"]
TEXT_COLS = ["TITLE"]
NUM_COLS = ["PRICE", "WEIGHT_G", "N_IMAGES"]


def load_frame(session: Session, table: str) -> pd.DataFrame:
    df = session.table(table).to_pandas()
    for c in CAT_COLS:
        df[c] = df[c].fillna("UNK").astype(str)
    df["TITLE"] = df["TITLE"].fillna("")
    return df


def train(df: pd.DataFrame, iterations: int, depth: int) -> tuple[CatBoostClassifier, float]:
    X = df[CAT_COLS + TEXT_COLS + NUM_COLS]
    y = df["CATEGORY"]
    X_tr, X_va, y_tr, y_va = train_test_split(X, y, test_size=0.15, random_state=1, stratify=y)
    train_pool = Pool(X_tr, y_tr, cat_features=CAT_COLS, text_features=TEXT_COLS)
    valid_pool = Pool(X_va, y_va, cat_features=CAT_COLS, text_features=TEXT_COLS)
    model = CatBoostClassifier(
        loss_function="MultiClass",
        iterations=iterations,
        depth=depth,
        learning_rate=0.08,
        task_type="GPU",
        devices="0",
        border_count=128,
        od_type="Iter",
        od_wait=200,
        verbose=200,
    )
    model.fit(train_pool, eval_set=valid_pool, use_best_model=True)
    pred = np.asarray(model.predict(valid_pool)).ravel()
    return model, f1_score(y_va, pred, average="macro")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--table", default="RETAIL.CATALOG.PRODUCTS_LABELED")
    ap.add_argument("--iterations", type=int, default=5000)
    ap.add_argument("--depth", type=int, default=8)
    ap.add_argument("--model-path", default="catboost_products.cbm")
    args = ap.parse_args()

    session = Session.builder.getOrCreate()
    df = load_frame(session, args.table)
    log.info("loaded %d rows", len(df))
    model, f1 = train(df, args.iterations, args.depth)
    log.info("macro F1 = %.4f", f1)
    model.save_model(args.model_path)
    return {"macro_f1": f1}


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    __return__ = main()
