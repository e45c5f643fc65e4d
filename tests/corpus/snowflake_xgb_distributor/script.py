"""Distributed XGBoost over a Snowflake table with the Snowflake ML distributors.

Uses the Container Runtime's XGBEstimator, which shards the data with a
DataConnector and trains across all nodes of the multi-node ML Job.
"""
import argparse

from snowflake.ml.data.data_connector import DataConnector
from snowflake.ml.modeling.distributors.xgboost import XGBEstimator, XGBScalingConfig
from snowflake.snowpark import Session
from snowflake.snowpark import functions as F

FEATURES = ["TENURE", "MONTHLY_SPEND", "N_SESSIONS_30D", "N_TICKETS_90D", "DISCOUNT_RATE", "REGION_IDX"]
LABEL = "CHURNED"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--table", default="ML.CHURN.TRAINING_SET")
    ap.add_argument("--workers", type=int, default=-1, help="-1 = one per available node")
    ap.add_argument("--rounds", type=int, default=500)
    args = ap.parse_args()

    session = Session.builder.getOrCreate()
    df = session.table(args.table).select(*FEATURES, F.col(LABEL).cast("int").alias(LABEL))
    train_df, test_df = df.random_split([0.9, 0.1], seed=7)

    params = {
        "objective": "binary:logistic",
        "eval_metric": "auc",
        "tree_method": "hist",
        "max_depth": 7,
        "eta": 0.1,
    }
    scaling = XGBScalingConfig(num_workers=args.workers, num_cpu_per_worker=-1, use_gpu=False)
    estimator = XGBEstimator(n_estimators=args.rounds, params=params, scaling_config=scaling)

    train_dc = DataConnector.from_dataframe(train_df)
    booster = estimator.fit(train_dc, input_cols=FEATURES, label_col=LABEL)

    test_pd = test_df.to_pandas()
    import xgboost as xgb  # only for scoring the returned booster locally

    preds = booster.predict(xgb.DMatrix(test_pd[FEATURES]))
    from sklearn.metrics import roc_auc_score

    auc = roc_auc_score(test_pd[LABEL], preds)
    print(f"test AUC: {auc:.4f}")
    return {"test_auc": float(auc), "rows_train": train_df.count()}


if __name__ == "__main__":
    __return__ = main()
