"""Per-store daily sales forecasts with Prophet, read from and written to Snowflake.

One Prophet model per store (few hundred stores), 90-day horizon, holidays
from Prophet's built-in country calendar. Seasonal decomposition diagnostics
come from statsmodels.
"""
import argparse
import logging
import warnings

import pandas as pd
from prophet import Prophet
from snowflake.snowpark import Session
from statsmodels.tsa.seasonal import STL

warnings.filterwarnings("ignore", category=FutureWarning)
logging.getLogger("cmdstanpy").setLevel(logging.WARNING)


def fit_store(history: pd.DataFrame, horizon: int) -> pd.DataFrame:
    m = Prophet(weekly_seasonality=True, yearly_seasonality=True, daily_seasonality=False,
                seasonality_mode="multiplicative", interval_width=0.9)
    m.add_country_holidays(country_name="US")
    m.fit(history.rename(columns={"SALES_DATE": "ds", "SALES": "y"}))
    future = m.make_future_dataframe(periods=horizon)
    fc = m.predict(future)[["ds", "yhat", "yhat_lower", "yhat_upper"]]
    return fc[fc["ds"] > history["SALES_DATE"].max()]


def seasonality_strength(series: pd.Series) -> float:
    res = STL(series, period=7, robust=True).fit()
    return float(max(0.0, 1 - res.resid.var() / (res.seasonal + res.resid).var()))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", default="RETAIL.SALES.DAILY_STORE_SALES")
    ap.add_argument("--target", default="FORECASTS")
    ap.add_argument("--horizon", type=int, default=90)
    ap.add_argument("--max-stores", type=int, default=0)
    args = ap.parse_args()

    session = Session.builder.getOrCreate()
    sales = session.table(args.source).select("STORE_ID", "SALES_DATE", "SALES").to_pandas()
    sales["SALES_DATE"] = pd.to_datetime(sales["SALES_DATE"])
    stores = sorted(sales["STORE_ID"].unique())
    if args.max_stores:
        stores = stores[: args.max_stores]

    frames, strengths = [], {}
    for store in stores:
        hist = sales[sales["STORE_ID"] == store].sort_values("SALES_DATE")
        strengths[store] = seasonality_strength(hist.set_index("SALES_DATE")["SALES"].asfreq("D").fillna(0))
        fc = fit_store(hist, args.horizon)
        fc.insert(0, "STORE_ID", store)
        frames.append(fc)
    out = pd.concat(frames, ignore_index=True).rename(columns=str.upper)
    session.write_pandas(out, args.target, auto_create_table=True, overwrite=True)
    return {"stores": len(stores), "rows": len(out),
            "median_weekly_strength": float(pd.Series(strengths).median())}


if __name__ == "__main__":
    __return__ = main()
