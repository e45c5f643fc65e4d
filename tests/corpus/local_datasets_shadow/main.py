"""Wine-class model selection with nested CV.

Local modules intentionally use names of popular PyPI packages:
`datasets` (Hugging Face), `utils`, `config`.
"""
import argparse

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import config
import datasets
from utils import dump_json, save_pickle

CANDIDATES = {
    "logreg": (make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)),
               {"logisticregression__C": [0.01, 0.1, 1, 10]}),
    "rf": (RandomForestClassifier(random_state=config.SEED),
           {"n_estimators": [200, 500], "max_depth": [None, 6]}),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--metrics", default="metrics.json")
    args = ap.parse_args()

    X, y = datasets.load_training_data()
    outer = StratifiedKFold(config.N_SPLITS, shuffle=True, random_state=config.SEED)
    results = {}
    for name, (est, grid) in CANDIDATES.items():
        search = GridSearchCV(est, grid, cv=3, n_jobs=-1)
        scores = cross_val_score(search, X, y, cv=outer)
        results[name] = {"mean": float(np.mean(scores)), "std": float(np.std(scores))}
        print(name, results[name])
    best_name = max(results, key=lambda k: results[k]["mean"])
    est, grid = CANDIDATES[best_name]
    final = GridSearchCV(est, grid, cv=3, n_jobs=-1).fit(X, y)
    save_pickle(final.best_estimator_, config.MODEL_PATH)
    dump_json({"best": best_name, "cv": results}, args.metrics)


if __name__ == "__main__":
    main()
