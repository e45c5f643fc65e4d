"""Monthly energy-demand forecasts with SARIMAX; input and output live in S3.

Input : s3://<bucket>/<key> CSV with columns month,region,demand_mwh
Output: s3://<bucket>/forecasts/<run_id>.csv
"""
import argparse
import io
import itertools
import uuid

import boto3
import numpy as np
import pandas as pd
from statsmodels.tsa.statespace.sarimax import SARIMAX


def read_csv_s3(s3, bucket: str, key: str) -> pd.DataFrame:
    obj = s3.get_object(Bucket=bucket, Key=key)
    return pd.read_csv(io.BytesIO(obj["Body"].read()), parse_dates=["month"])


def write_csv_s3(s3, df: pd.DataFrame, bucket: str, key: str) -> None:
    buf = io.StringIO()
    df.to_csv(buf, index=False)
    s3.put_object(Bucket=bucket, Key=key, Body=buf.getvalue().encode())


def best_order(y: pd.Series) -> tuple:
    """Tiny AIC grid search over (p,d,q)x(P,D,Q,12)."""
    best, best_aic = None, np.inf
    for p, q, P, Q in itertools.product(range(3), range(3), range(2), range(2)):
        try:
            res = SARIMAX(y, order=(p, 1, q), seasonal_order=(P, 1, Q, 12),
                          enforce_stationarity=False, enforce_invertibility=False).fit(disp=False)
        except (ValueError, np.linalg.LinAlgError):
            continue
        if res.aic < best_aic:
            best, best_aic = ((p, 1, q), (P, 1, Q, 12)), res.aic
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bucket", default="energy-analytics-prod")
    ap.add_argument("--key", default="curated/monthly_demand.csv")
    ap.add_argument("--horizon", type=int, default=18)
    args = ap.parse_args()

    s3 = boto3.client("s3")
    df = read_csv_s3(s3, args.bucket, args.key)
    rows = []
    for region, grp in df.groupby("region"):
        y = grp.set_index("month")["demand_mwh"].asfreq("MS").interpolate()
        order, seasonal = best_order(y)
        res = SARIMAX(y, order=order, seasonal_order=seasonal).fit(disp=False)
        fc = res.get_forecast(args.horizon)
        ci = fc.conf_int(alpha=0.1)
        for ts, mean in fc.predicted_mean.items():
            rows.append({"region": region, "month": ts.date(), "forecast": mean,
                         "lo90": ci.loc[ts].iloc[0], "hi90": ci.loc[ts].iloc[1], "order": str(order)})
    run_id = uuid.uuid4().hex[:8]
    write_csv_s3(s3, pd.DataFrame(rows), args.bucket, f"forecasts/{run_id}.csv")
    print("wrote", len(rows), "rows, run", run_id)


if __name__ == "__main__":
    main()
