"""Benchmark HistGradientBoosting on the OpenML 'adult' census data and explain with SHAP."""
import argparse
import json
import time

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import shap
from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.datasets import fetch_openml
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.inspection import permutation_importance
from sklearn.metrics import roc_auc_score, log_loss
from sklearn.model_selection import RandomizedSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OrdinalEncoder


def build_pipeline():
    pre = make_column_transformer(
        (OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-1),
         make_column_selector(dtype_include="category")),
        remainder="passthrough", verbose_feature_names_out=False,
    )
    clf = HistGradientBoostingClassifier(categorical_features="from_dtype", early_stopping=True, random_state=0)
    return make_pipeline(pre, clf)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n-iter", type=int, default=40)
    ap.add_argument("--out", default="adult_report")
    args = ap.parse_args()

    X, y = fetch_openml("adult", version=2, as_frame=True, return_X_y=True, parser="auto")
    y = (y == ">50K").astype(int)
    for c in X.select_dtypes("category"):
        X[c] = X[c].cat.add_categories("missing").fillna("missing")
    Xtr, Xte, ytr, yte = train_test_split(X, y, stratify=y, test_size=0.25, random_state=0)

    search = RandomizedSearchCV(
        build_pipeline(),
        {"histgradientboostingclassifier__learning_rate": np.logspace(-2.5, -0.5, 20),
         "histgradientboostingclassifier__max_leaf_nodes": [15, 31, 63, 127],
         "histgradientboostingclassifier__l2_regularization": np.logspace(-4, 1, 10),
         "histgradientboostingclassifier__min_samples_leaf": [10, 20, 50, 100]},
        n_iter=args.n_iter, scoring="roc_auc", cv=5, n_jobs=-1, random_state=0)
    t0 = time.time()
    search.fit(Xtr, ytr)
    model = search.best_estimator_
    p = model.predict_proba(Xte)[:, 1]
    metrics = {"auc": roc_auc_score(yte, p), "logloss": log_loss(yte, p), "fit_s": time.time() - t0,
               "params": {k.split("__")[1]: float(v) for k, v in search.best_params_.items()}}
    print(json.dumps(metrics, indent=2))

    pre, clf = model[0], model[-1]
    Xs = pd.DataFrame(pre.transform(Xte.sample(2000, random_state=0)), columns=pre.get_feature_names_out())
    explainer = shap.TreeExplainer(clf)
    sv = explainer(Xs)
    shap.plots.beeswarm(sv, max_display=15, show=False)
    plt.tight_layout()
    plt.savefig(f"{args.out}_shap.png", dpi=150)

    perm = permutation_importance(model, Xte, yte, n_repeats=5, scoring="roc_auc", n_jobs=-1, random_state=0)
    pd.Series(perm.importances_mean, index=Xte.columns).sort_values().to_csv(f"{args.out}_perm.csv")


if __name__ == "__main__":
    main()
