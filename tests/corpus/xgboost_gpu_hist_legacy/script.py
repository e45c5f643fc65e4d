"""Higgs-style binary classification with the XGBoost sklearn API.

Written for XGBoost 1.x: GPU training is requested with the (now deprecated)
tree_method="gpu_hist" and predictor="gpu_predictor".
"""
import argparse
import pickle

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from xgboost import XGBClassifier


def load(path: str, nrows: int | None) -> tuple[pd.DataFrame, np.ndarray]:
    df = pd.read_csv(path, header=None, nrows=nrows)
    y = df.pop(0).to_numpy(dtype=np.int32)
    df.columns = [f"f{i}" for i in range(df.shape[1])]
    return df, y


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", default="HIGGS.csv.gz")
    ap.add_argument("--nrows", type=int, default=None)
    ap.add_argument("--n-estimators", type=int, default=3000)
    ap.add_argument("--model-path", default="higgs_xgb.pkl")
    args = ap.parse_args()

    X, y = load(args.csv, args.nrows)
    X_tr, X_va, y_tr, y_va = train_test_split(X, y, test_size=0.05, random_state=0)
    clf = XGBClassifier(
        n_estimators=args.n_estimators,
        max_depth=10,
        learning_rate=0.1,
        subsample=0.9,
        colsample_bytree=0.8,
        tree_method="gpu_hist",
        predictor="gpu_predictor",
        gpu_id=0,
        eval_metric="auc",
        early_stopping_rounds=50,
    )
    clf.fit(X_tr, y_tr, eval_set=[(X_va, y_va)], verbose=100)
    auc = roc_auc_score(y_va, clf.predict_proba(X_va)[:, 1])
    print(f"validation AUC {auc:.5f} at {clf.best_iteration} trees")
    with open(args.model_path, "wb") as fh:
        pickle.dump(clf, fh)


if __name__ == "__main__":
    main()
