"""House-price regression with CatBoost (Kaggle "House Prices" style).

We keep task_type="CPU": on GPU CatBoost does not support the RMSEWithUncertainty
loss we use, and a `.cuda()` call elsewhere would not help either.
"""
import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from catboost import CatBoostRegressor
from sklearn.model_selection import KFold


def prepare(df: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    df = df.copy()
    df["TotalSF"] = df["TotalBsmtSF"] + df["1stFlrSF"] + df["2ndFlrSF"]
    df["Age"] = df["YrSold"] - df["YearBuilt"]
    cats = [c for c in df.columns if df[c].dtype == object]
    df[cats] = df[cats].fillna("None")
    return df, cats


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train-csv", default="input/train.csv")
    ap.add_argument("--out", default="artifacts")
    ap.add_argument("--folds", type=int, default=5)
    args = ap.parse_args()

    raw = pd.read_csv(args.train_csv)
    y = np.log1p(raw.pop("SalePrice"))
    X, cats = prepare(raw.drop(columns=["Id"]))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    oof = np.zeros(len(X))
    importances = []
    for k, (tr, va) in enumerate(KFold(args.folds, shuffle=True, random_state=0).split(X)):
        model = CatBoostRegressor(
            iterations=3000,
            learning_rate=0.03,
            depth=6,
            loss_function="RMSEWithUncertainty",
            task_type="CPU",
            thread_count=-1,
            cat_features=cats,
            verbose=False,
        )
        model.fit(X.iloc[tr], y.iloc[tr], eval_set=(X.iloc[va], y.iloc[va]), early_stopping_rounds=200)
        oof[va] = model.predict(X.iloc[va])[:, 0]
        importances.append(model.get_feature_importance())
        model.save_model(str(out / f"fold{k}.cbm"))

    rmse = float(np.sqrt(np.mean((oof - y) ** 2)))
    print(f"OOF RMSLE: {rmse:.5f}")
    imp = pd.Series(np.mean(importances, axis=0), index=X.columns).sort_values()[-25:]
    imp.plot.barh(figsize=(8, 10))
    plt.tight_layout()
    plt.savefig(out / "importance.png")


if __name__ == "__main__":
    main()
