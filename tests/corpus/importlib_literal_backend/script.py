"""Benchmark gradient-boosting backends on the same tabular task.

Backends are loaded lazily with importlib so the script starts fast; the
module names are fixed string literals.
"""
import argparse
import importlib
import time

import numpy as np
import pandas as pd
from sklearn.datasets import make_classification
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split


def load_backends():
    """Import each backend by its literal module name."""
    cb = importlib.import_module("catboost")
    lgbm = importlib.import_module("lightgbm")
    return {
        "catboost": lambda: cb.CatBoostClassifier(iterations=500, depth=6, verbose=False, thread_count=-1),
        "lightgbm": lambda: lgbm.LGBMClassifier(n_estimators=500, num_leaves=63, verbose=-1),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--features", type=int, default=60)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    X, y = make_classification(n_samples=args.rows, n_features=args.features, n_informative=25,
                               weights=[0.9, 0.1], random_state=0)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=0)
    rows = []
    for name, factory in load_backends().items():
        for r in range(args.repeats):
            model = factory()
            t0 = time.perf_counter()
            model.fit(X_tr, y_tr)
            fit_s = time.perf_counter() - t0
            auc = roc_auc_score(y_te, model.predict_proba(X_te)[:, 1])
            rows.append({"backend": name, "repeat": r, "fit_s": fit_s, "auc": auc})
            print(rows[-1])
    np.set_printoptions(precision=4)
    table = pd.DataFrame(rows).groupby("backend").agg(fit_s=("fit_s", "median"), auc=("auc", "mean"))
    print(table.to_string())
    return table.reset_index().to_dict(orient="records")


if __name__ == "__main__":
    __return__ = main()
