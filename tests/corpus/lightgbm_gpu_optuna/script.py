"""Optuna search over LightGBM hyper-parameters, training on the GPU.

LightGBM's GPU learner is selected with ``device="gpu"`` in the params.
"""
import argparse
import json

import lightgbm as lgb
import numpy as np
import optuna
import pandas as pd
from sklearn.metrics import log_loss
from sklearn.model_selection import StratifiedKFold


def objective_factory(X: pd.DataFrame, y: np.ndarray, n_folds: int):
    def objective(trial: optuna.Trial) -> float:
        params = {
            "objective": "binary",
            "metric": "binary_logloss",
            "device": "gpu",
            "gpu_platform_id": 0,
            "gpu_device_id": 0,
            "max_bin": 63,
            "verbosity": -1,
            "learning_rate": trial.suggest_float("learning_rate", 1e-3, 0.2, log=True),
            "num_leaves": trial.suggest_int("num_leaves", 16, 512, log=True),
            "min_child_samples": trial.suggest_int("min_child_samples", 5, 200),
            "feature_fraction": trial.suggest_float("feature_fraction", 0.4, 1.0),
            "bagging_fraction": trial.suggest_float("bagging_fraction", 0.4, 1.0),
            "bagging_freq": 1,
            "lambda_l2": trial.suggest_float("lambda_l2", 1e-8, 10.0, log=True),
        }
        losses = []
        skf = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=trial.number)
        for tr, va in skf.split(X, y):
            dtr = lgb.Dataset(X.iloc[tr], y[tr])
            dva = lgb.Dataset(X.iloc[va], y[va], reference=dtr)
            booster = lgb.train(params, dtr, num_boost_round=2000, valid_sets=[dva],
                                callbacks=[lgb.early_stopping(100, verbose=False)])
            losses.append(log_loss(y[va], booster.predict(X.iloc[va])))
        return float(np.mean(losses))

    return objective


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--train", default="train.parquet", help="local parquet with a 'target' column")
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--output", default="best_params.json")
    args = parser.parse_args()

    df = pd.read_parquet(args.train)
    y = df.pop("target").to_numpy()
    study = optuna.create_study(direction="minimize",
                                sampler=optuna.samplers.TPESampler(seed=13))
    study.optimize(objective_factory(df, y, args.folds), n_trials=args.trials)
    print("best", study.best_value, study.best_params)
    with open(args.output, "w") as fh:
        json.dump({"value": study.best_value, "params": study.best_params}, fh, indent=2)


if __name__ == "__main__":
    main()
