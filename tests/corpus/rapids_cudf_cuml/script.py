"""GPU end-to-end: cuDF feature engineering + cuML random forest.

Reads hourly taxi trips from S3 parquet straight into GPU memory, builds
simple temporal features and trains a cuML RandomForestRegressor on fares.
"""
import argparse
import time

import cudf
import cupy as cp
from cuml.ensemble import RandomForestRegressor
from cuml.metrics import mean_squared_error
from cuml.model_selection import train_test_split

S3_PATH = "s3://nyc-tlc-mirror/trip-data/yellow_tripdata_2023-*.parquet"


def load(path: str, limit: int | None) -> cudf.DataFrame:
    cols = ["tpep_pickup_datetime", "passenger_count", "trip_distance",
            "PULocationID", "DOLocationID", "fare_amount"]
    df = cudf.read_parquet(path, columns=cols, storage_options={"anon": True})
    if limit:
        df = df.head(limit)
    df = df[(df.fare_amount > 0) & (df.fare_amount < 500) & (df.trip_distance > 0)]
    ts = df["tpep_pickup_datetime"]
    df["hour"] = ts.dt.hour.astype("int8")
    df["dow"] = ts.dt.weekday.astype("int8")
    df["month"] = ts.dt.month.astype("int8")
    return df.drop(columns=["tpep_pickup_datetime"]).dropna().astype("float32")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--path", default=S3_PATH)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--trees", type=int, default=200)
    args = ap.parse_args()

    t0 = time.time()
    df = load(args.path, args.limit)
    y = df.pop("fare_amount")
    X_tr, X_te, y_tr, y_te = train_test_split(df, y, test_size=0.2, random_state=0)
    print(f"loaded {len(df):,} rows in {time.time() - t0:.1f}s")

    model = RandomForestRegressor(n_estimators=args.trees, max_depth=16, n_bins=128, n_streams=4)
    model.fit(X_tr, y_tr)
    pred = model.predict(X_te)
    rmse = float(cp.sqrt(mean_squared_error(y_te, pred)))
    print(f"RMSE {rmse:.3f} (total {time.time() - t0:.1f}s)")
    return {"rmse": rmse}


if __name__ == "__main__":
    __return__ = main()
