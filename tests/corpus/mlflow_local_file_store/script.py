"""Elastic-net baseline with MLflow autologging to a *local* file store.

The run is logged under ./mlruns (file: URI), which is later copied to the
job's output stage; no tracking server is contacted.
"""
import argparse
import os
import shutil

import mlflow
import mlflow.sklearn
import numpy as np
import pandas as pd
from sklearn.datasets import load_diabetes
from sklearn.linear_model import ElasticNetCV
from sklearn.metrics import mean_squared_error, r2_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

LOCAL_STORE = "file:./mlruns"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--degree", type=int, default=2)
    ap.add_argument("--output-dir", default=os.environ.get("MLRS_STAGE_RESULT_PATH", "./output"))
    args = ap.parse_args()

    mlflow.set_tracking_uri(LOCAL_STORE)
    mlflow.set_experiment("diabetes-elasticnet")
    mlflow.sklearn.autolog(log_models=True)

    X, y = load_diabetes(return_X_y=True, as_frame=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, random_state=3)
    model = make_pipeline(
        PolynomialFeatures(args.degree, include_bias=False),
        StandardScaler(),
        ElasticNetCV(l1_ratio=[0.1, 0.5, 0.9, 1.0], cv=5, n_alphas=50, max_iter=20000),
    )
    with mlflow.start_run() as run:
        model.fit(X_tr, y_tr)
        pred = model.predict(X_te)
        rmse = float(np.sqrt(mean_squared_error(y_te, pred)))
        r2 = float(r2_score(y_te, pred))
        mlflow.log_metrics({"test_rmse": rmse, "test_r2": r2})
        coefs = pd.Series(model[-1].coef_, index=model[0].get_feature_names_out(X.columns))
        mlflow.log_text(coefs[coefs != 0].sort_values().to_string(), "nonzero_coefs.txt")
        print(f"run {run.info.run_id}: rmse={rmse:.2f} r2={r2:.3f}")

    os.makedirs(args.output_dir, exist_ok=True)
    shutil.copytree("mlruns", os.path.join(args.output_dir, "mlruns"), dirs_exist_ok=True)
    return {"rmse": rmse, "r2": r2}


if __name__ == "__main__":
    __return__ = main()
