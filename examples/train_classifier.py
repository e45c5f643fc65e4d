"""Train a random-forest classifier on a synthetic dataset and save it: the main mljobs demo job.

Runs on CPU in a few seconds with scikit-learn only; the data is generated in the script (no downloads).
As an ML Job, the metrics dict assigned to `__return__` is the job's result.

    python examples/train_classifier.py --output-dir /tmp/model --n-estimators 100
"""

from __future__ import annotations

import argparse
import json
import pickle
import time
from pathlib import Path

from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score
from sklearn.model_selection import train_test_split


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", default="outputs", help="folder for model.pkl and metrics.json")
    parser.add_argument("--n-estimators", type=int, default=100, help="number of trees")
    parser.add_argument("--n-samples", type=int, default=5000, help="rows of synthetic data")
    parser.add_argument("--seed", type=int, default=42)
    return parser.parse_args(argv)


def make_data(n_samples: int, seed: int):
    features, labels = make_classification(
        n_samples=n_samples,
        n_features=20,
        n_informative=8,
        n_redundant=4,
        class_sep=1.2,
        random_state=seed,
    )
    return train_test_split(features, labels, test_size=0.2, random_state=seed, stratify=labels)


def train(args: argparse.Namespace) -> dict:
    x_train, x_test, y_train, y_test = make_data(args.n_samples, args.seed)
    model = RandomForestClassifier(n_estimators=args.n_estimators, n_jobs=-1, random_state=args.seed)
    started = time.perf_counter()
    model.fit(x_train, y_train)
    fit_seconds = time.perf_counter() - started

    predicted = model.predict(x_test)
    probabilities = model.predict_proba(x_test)[:, 1]
    metrics = {
        "accuracy": round(float(accuracy_score(y_test, predicted)), 4),
        "f1": round(float(f1_score(y_test, predicted)), 4),
        "roc_auc": round(float(roc_auc_score(y_test, probabilities)), 4),
        "n_estimators": args.n_estimators,
        "train_rows": int(len(y_train)),
        "fit_seconds": round(fit_seconds, 3),
    }

    output_dir = Path(args.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    with open(output_dir / "model.pkl", "wb") as fh:
        pickle.dump(model, fh)
    (output_dir / "metrics.json").write_text(json.dumps(metrics, indent=2))
    metrics["model_path"] = str(output_dir / "model.pkl")
    return metrics


def main(argv: list[str] | None = None) -> dict:
    metrics = train(parse_args(argv))
    print(json.dumps(metrics, indent=2))
    return metrics


if __name__ == "__main__":
    __return__ = main()
