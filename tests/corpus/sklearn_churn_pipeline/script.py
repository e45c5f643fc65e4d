"""Train a churn classifier with a scikit-learn pipeline.

Reads a local CSV export of the customer table, builds a ColumnTransformer
(one-hot for categoricals, scaling for numerics), fits a gradient boosting
model and pickles the fitted pipeline to ./models/model.pkl.

Usage:
    python script.py --data data/churn.csv --test-size 0.2
"""
import argparse
import json
import logging
import os
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.metrics import classification_report, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

log = logging.getLogger("churn")

CATEGORICAL = ["plan", "region", "payment_method", "contract"]
NUMERIC = ["tenure_months", "monthly_charges", "total_charges", "support_calls"]
TARGET = "churned"


def load(path: str) -> pd.DataFrame:
    """Load the exported CSV and coerce dtypes."""
    df = pd.read_csv(path)
    df["total_charges"] = pd.to_numeric(df["total_charges"], errors="coerce")
    df[TARGET] = df[TARGET].astype(int)
    return df


def build_pipeline(learning_rate: float) -> Pipeline:
    numeric = Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())])
    categorical = Pipeline(
        [
            ("impute", SimpleImputer(strategy="most_frequent")),
            ("onehot", OneHotEncoder(handle_unknown="ignore")),
        ]
    )
    pre = ColumnTransformer([("num", numeric, NUMERIC), ("cat", categorical, CATEGORICAL)])
    clf = HistGradientBoostingClassifier(learning_rate=learning_rate, max_iter=300, random_state=7)
    return Pipeline([("pre", pre), ("clf", clf)])


def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", default="data/churn.csv")
    parser.add_argument("--test-size", type=float, default=0.2)
    parser.add_argument("--learning-rate", type=float, default=0.05)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)

    df = load(args.data)
    X, y = df[CATEGORICAL + NUMERIC], df[TARGET]
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=args.test_size, stratify=y, random_state=7
    )
    pipe = build_pipeline(args.learning_rate)
    pipe.fit(X_train, y_train)

    proba = pipe.predict_proba(X_test)[:, 1]
    auc = roc_auc_score(y_test, proba)
    log.info("AUC=%.4f", auc)
    print(classification_report(y_test, (proba > 0.5).astype(int)))

    # Hard-coded output location (the job would lose this unless redirected).
    os.makedirs("./models", exist_ok=True)
    joblib.dump(pipe, "./models/model.pkl")
    metrics = {"auc": float(auc), "positives": int(np.sum(y_test))}
    Path("./models/metrics.json").write_text(json.dumps(metrics))
    return metrics


if __name__ == "__main__":
    main()
