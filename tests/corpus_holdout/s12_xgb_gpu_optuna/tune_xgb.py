"""Optuna search over XGBoost hyper-parameters on the GPU.

Training data is a partitioned parquet dataset in GCS (read with gcsfs).
"""
import argparse
import json

import gcsfs
import numpy as np
import optuna
import pandas as pd
import xgboost as xgb
from optuna.integration import XGBoostPruningCallback
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

GCS_PATH = "gs://acme-ml-datasets/fraud/v7/"


def load(fs: gcsfs.GCSFileSystem, max_files=None) -> pd.DataFrame:
    files = sorted(f for f in fs.ls(GCS_PATH) if f.endswith(".parquet"))[:max_files]
    frames = []
    for f in files:
        with fs.open(f, "rb") as fh:
            frames.append(pd.read_parquet(fh))
    return pd.concat(frames, ignore_index=True)


def objective(trial, dtrain, dvalid, yvalid):
    params = {
        "objective": "binary:logistic",
        "eval_metric": "aucpr",
        "device": "cuda",
        "tree_method": "hist",
        "max_depth": trial.suggest_int("max_depth", 4, 12),
        "min_child_weight": trial.suggest_float("min_child_weight", 1, 50, log=True),
        "eta": trial.suggest_float("eta", 0.01, 0.3, log=True),
        "subsample": trial.suggest_float("subsample", 0.5, 1.0),
        "colsample_bytree": trial.suggest_float("colsample_bytree", 0.4, 1.0),
        "lambda": trial.suggest_float("lambda", 1e-3, 10, log=True),
        "max_bin": trial.suggest_categorical("max_bin", [256, 512, 1024]),
        "scale_pos_weight": trial.suggest_float("scale_pos_weight", 1, 50, log=True),
    }
    prune = XGBoostPruningCallback(trial, "valid-aucpr")
    bst = xgb.train(params, dtrain, num_boost_round=4000, evals=[(dvalid, "valid")],
                    early_stopping_rounds=200, callbacks=[prune], verbose_eval=False)
    trial.set_user_attr("best_iteration", bst.best_iteration)
    return roc_auc_score(yvalid, bst.predict(dvalid, iteration_range=(0, bst.best_iteration + 1)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=100)
    ap.add_argument("--max-files", type=int, default=None)
    args = ap.parse_args()

    fs = gcsfs.GCSFileSystem(project="acme-ml")
    df = load(fs, args.max_files)
    y = df.pop("is_fraud").to_numpy()
    X = df.select_dtypes(include=[np.number])
    xtr, xva, ytr, yva = train_test_split(X, y, test_size=0.2, stratify=y, random_state=7)
    dtrain = xgb.QuantileDMatrix(xtr, ytr)
    dvalid = xgb.QuantileDMatrix(xva, yva, ref=dtrain)

    study = optuna.create_study(direction="maximize", pruner=optuna.pruners.HyperbandPruner())
    study.optimize(lambda t: objective(t, dtrain, dvalid, yva), n_trials=args.trials, gc_after_trial=True)
    best = {**study.best_params, "best_iteration": study.best_trial.user_attrs["best_iteration"],
            "auc": study.best_value}
    print(json.dumps(best, indent=2))
    with fs.open(GCS_PATH + "best_params.json", "w") as fh:
        json.dump(best, fh)


if __name__ == "__main__":
    main()
