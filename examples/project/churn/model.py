"""Model training for the churn example (XGBoost on CPU)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split
from xgboost import XGBClassifier

from .features import build_features  # noqa: F401  (re-exported for callers)

FEATURES = ["tenure_years", "charges_per_month", "support_calls"]


def train_model(frame: pd.DataFrame, output_dir: Path) -> dict:
    x_train, x_test, y_train, y_test = train_test_split(frame[FEATURES], frame["churned"], test_size=0.25,
                                                        random_state=0)
    model = XGBClassifier(n_estimators=50, max_depth=3, tree_method="hist")
    model.fit(x_train, y_train)
    metrics = {"accuracy": float(model.score(x_test, y_test))}
    output_dir.mkdir(parents=True, exist_ok=True)
    model.save_model(output_dir / "model.json")
    (output_dir / "metrics.json").write_text(json.dumps(metrics))
    return metrics
