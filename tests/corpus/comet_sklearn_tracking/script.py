"""Gradient boosting on the breast-cancer set with Comet experiment tracking.

comet_ml must be imported before sklearn for auto-logging to hook in.
COMET_API_KEY / COMET_WORKSPACE come from the environment.
"""
import comet_ml  # noqa: F401  (must be first)

import argparse

import numpy as np
from comet_ml import Experiment
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--project", default="breast-cancer-gbm")
    ap.add_argument("--n-estimators", type=int, default=300)
    ap.add_argument("--max-depth", type=int, default=3)
    ap.add_argument("--learning-rate", type=float, default=0.05)
    args = ap.parse_args()

    exp = Experiment(project_name=args.project, auto_metric_logging=True, auto_param_logging=True)
    exp.log_parameters(vars(args))

    X, y = load_breast_cancer(return_X_y=True)
    clf = GradientBoostingClassifier(n_estimators=args.n_estimators, max_depth=args.max_depth,
                                     learning_rate=args.learning_rate, random_state=0)
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    proba = cross_val_predict(clf, X, y, cv=cv, method="predict_proba")[:, 1]
    pred = (proba > 0.5).astype(int)
    metrics = {
        "accuracy": accuracy_score(y, pred),
        "f1": f1_score(y, pred),
        "roc_auc": roc_auc_score(y, proba),
    }
    exp.log_metrics(metrics)
    exp.log_confusion_matrix(y.tolist(), pred.tolist(), labels=["benign", "malignant"])
    clf.fit(X, y)
    top = np.argsort(clf.feature_importances_)[::-1][:10]
    exp.log_other("top_features", [int(i) for i in top])
    exp.end()
    print(metrics)
    return metrics


if __name__ == "__main__":
    __return__ = main()
