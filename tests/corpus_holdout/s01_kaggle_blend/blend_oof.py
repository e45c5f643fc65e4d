"""Out-of-fold blend of LightGBM and CatBoost for a tabular regression comp.

Pulls the training frame from Snowflake, builds a few aggregate features,
runs 5-fold CV for both models and writes the blended OOF + test preds back.
"""
import argparse
import gc
import logging
import warnings

import numpy as np
import pandas as pd
import lightgbm as lgb
from catboost import CatBoostRegressor, Pool
from sklearn.model_selection import GroupKFold
from sklearn.metrics import mean_squared_error
from snowflake.snowpark.context import get_active_session

try:
    import optuna  # only used with --tune
    HAS_OPTUNA = True
except ImportError:
    optuna = None
    HAS_OPTUNA = False

warnings.filterwarnings("ignore")
log = logging.getLogger("blend")

CAT_COLS = ["store_nbr", "family", "city", "state", "store_type"]
TARGET = "sales"


def add_features(df: pd.DataFrame) -> pd.DataFrame:
    df = df.sort_values(["store_nbr", "family", "date"]).copy()
    grp = df.groupby(["store_nbr", "family"])[TARGET]
    for lag in (7, 14, 28):
        df[f"lag_{lag}"] = grp.shift(lag)
    for win in (7, 28):
        df[f"roll_mean_{win}"] = grp.transform(lambda s: s.shift(1).rolling(win).mean())
    df["dow"] = df["date"].dt.dayofweek
    df["month"] = df["date"].dt.month
    df["payday"] = ((df["date"].dt.day == 15) | df["date"].dt.is_month_end).astype(int)
    for c in CAT_COLS:
        df[c] = df[c].astype("category")
    return df


def rmsle(y, p):
    return np.sqrt(mean_squared_error(np.log1p(y), np.log1p(np.clip(p, 0, None))))


def lgb_params(trial=None):
    base = dict(objective="tweedie", learning_rate=0.03, num_leaves=127,
                min_data_in_leaf=60, feature_fraction=0.8, bagging_fraction=0.8,
                bagging_freq=1, verbose=-1)
    if trial is not None:
        base["num_leaves"] = trial.suggest_int("num_leaves", 31, 255)
        base["min_data_in_leaf"] = trial.suggest_int("min_data_in_leaf", 20, 200)
    return base


def run_cv(train, test, feats, params, n_folds=5):
    oof_lgb = np.zeros(len(train))
    oof_cb = np.zeros(len(train))
    pred = np.zeros(len(test))
    folds = GroupKFold(n_splits=n_folds)
    for k, (tr, va) in enumerate(folds.split(train, groups=train["date"].dt.isocalendar().week)):
        xtr, xva = train.iloc[tr][feats], train.iloc[va][feats]
        ytr, yva = train.iloc[tr][TARGET], train.iloc[va][TARGET]
        booster = lgb.train(params, lgb.Dataset(xtr, ytr), 3000,
                            valid_sets=[lgb.Dataset(xva, yva)],
                            callbacks=[lgb.early_stopping(100), lgb.log_evaluation(0)])
        oof_lgb[va] = booster.predict(xva)
        cb = CatBoostRegressor(iterations=3000, learning_rate=0.05, depth=8,
                               loss_function="Tweedie:variance_power=1.5",
                               verbose=0, thread_count=-1)
        cb.fit(Pool(xtr, ytr, cat_features=CAT_COLS), eval_set=Pool(xva, yva, cat_features=CAT_COLS),
               early_stopping_rounds=100)
        oof_cb[va] = cb.predict(xva)
        pred += 0.5 * (booster.predict(test[feats]) + cb.predict(test[feats])) / n_folds
        log.info("fold %d lgb=%.4f cb=%.4f", k, rmsle(yva, oof_lgb[va]), rmsle(yva, oof_cb[va]))
        del booster, cb
        gc.collect()
    return oof_lgb, oof_cb, pred


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train-table", default="KAGGLE.FAVORITA.TRAIN")
    ap.add_argument("--test-table", default="KAGGLE.FAVORITA.TEST")
    ap.add_argument("--tune", action="store_true")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO)

    session = get_active_session()
    full = pd.concat([
        session.table(args.train_table).to_pandas().assign(is_test=0),
        session.table(args.test_table).to_pandas().assign(is_test=1),
    ])
    full.columns = [c.lower() for c in full.columns]
    full["date"] = pd.to_datetime(full["date"])
    full = add_features(full)
    train, test = full[full.is_test == 0].dropna(subset=["lag_28"]), full[full.is_test == 1]
    feats = [c for c in train.columns if c not in (TARGET, "date", "is_test", "id")]

    params = lgb_params()
    if args.tune and HAS_OPTUNA:
        study = optuna.create_study(direction="minimize")
        study.optimize(lambda t: rmsle(train[TARGET], run_cv(train, test, feats, lgb_params(t), 3)[0]), n_trials=20)
        params.update(study.best_params)

    oof_lgb, oof_cb, pred = run_cv(train, test, feats, params)
    best_w = min(np.linspace(0, 1, 21), key=lambda w: rmsle(train[TARGET], w * oof_lgb + (1 - w) * oof_cb))
    log.info("blend weight %.2f -> %.4f", best_w, rmsle(train[TARGET], best_w * oof_lgb + (1 - best_w) * oof_cb))
    out = pd.DataFrame({"ID": test["id"].values, "SALES": np.clip(pred, 0, None)})
    session.write_pandas(out, "FAVORITA_SUBMISSION", auto_create_table=True, overwrite=True)


if __name__ == "__main__":
    main()
