"""Fraud model: XGBoost trained with the native API on a Snowflake table.

The booster parameters live in a dict loaded from defaults + CLI overrides;
GPU training is selected there (``device``), not through any torch call.
"""
import argparse
import logging

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.metrics import average_precision_score
from sklearn.model_selection import train_test_split
from snowflake.snowpark import Session

logger = logging.getLogger(__name__)

DEFAULT_PARAMS = {
    "objective": "binary:logistic",
    "eval_metric": ["aucpr", "logloss"],
    "tree_method": "hist",
    "device": "cuda",
    "max_depth": 8,
    "eta": 0.05,
    "subsample": 0.8,
    "colsample_bytree": 0.7,
    "max_bin": 256,
}

FEATURES = [
    "AMOUNT", "HOUR_OF_DAY", "MERCHANT_RISK", "CARD_AGE_DAYS",
    "TXN_COUNT_1H", "TXN_COUNT_24H", "AVG_AMOUNT_7D", "DISTANCE_FROM_HOME",
]


def read_training_frame(session: Session, table: str, limit: int | None) -> pd.DataFrame:
    """Pull the feature table into pandas (fits in memory for this model)."""
    df = session.table(table).select(FEATURES + ["IS_FRAUD"])
    if limit:
        df = df.limit(limit)
    return df.to_pandas()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--table", default="ML.FRAUD.TRANSACTIONS_FEATURES")
    p.add_argument("--rounds", type=int, default=2000)
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--max-depth", type=int, default=None)
    args = p.parse_args()

    params = dict(DEFAULT_PARAMS)
    if args.max_depth:
        params["max_depth"] = args.max_depth

    session = Session.builder.getOrCreate()
    pdf = read_training_frame(session, args.table, args.limit)
    y = pdf.pop("IS_FRAUD").astype(np.int32)
    X_tr, X_va, y_tr, y_va = train_test_split(pdf, y, test_size=0.1, stratify=y, random_state=0)

    # scale_pos_weight for the heavy class imbalance
    params["scale_pos_weight"] = float((y_tr == 0).sum() / max((y_tr == 1).sum(), 1))

    dtrain = xgb.DMatrix(X_tr, label=y_tr)
    dvalid = xgb.DMatrix(X_va, label=y_va)
    booster = xgb.train(
        params,
        dtrain,
        num_boost_round=args.rounds,
        evals=[(dtrain, "train"), (dvalid, "valid")],
        early_stopping_rounds=100,
        verbose_eval=100,
    )
    preds = booster.predict(dvalid, iteration_range=(0, booster.best_iteration + 1))
    ap = average_precision_score(y_va, preds)
    logger.info("average precision %.4f", ap)
    booster.save_model("fraud_xgb.json")
    return {"average_precision": ap, "best_iteration": booster.best_iteration}


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    __return__ = main()
