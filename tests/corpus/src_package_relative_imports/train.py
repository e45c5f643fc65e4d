"""Customer lifetime-value model; code lives in the local `src` package."""
import argparse

from sklearn.metrics import mean_absolute_error
from sklearn.model_selection import train_test_split
from snowflake.snowpark import Session

from src.io import save_predictions
from src.pipeline import FEATURES, build_pipeline, make_features


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--table", default="CRM.MARTS.CUSTOMER_90D")
    ap.add_argument("--predictions", default="LTV_PREDICTIONS")
    args = ap.parse_args()

    session = Session.builder.getOrCreate()
    df = make_features(session, args.table)
    X, y = df[FEATURES], df["LTV_365D"]
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, random_state=0)
    pipe = build_pipeline().fit(X_tr, y_tr)
    mae = mean_absolute_error(y_te, pipe.predict(X_te))
    df["LTV_PRED"] = pipe.predict(X)
    save_predictions(session, df[["CUSTOMER_ID", "LTV_PRED"]], args.predictions)
    return {"mae": float(mae)}


if __name__ == "__main__":
    __return__ = main()
