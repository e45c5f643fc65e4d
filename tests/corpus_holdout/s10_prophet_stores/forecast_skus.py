"""Per-store weekly demand forecasts with Prophet, fanned out with joblib.

A SARIMAX fallback is used for series too short for Prophet.
"""
import logging
import warnings
from functools import partial

import holidays
import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from prophet import Prophet
from statsmodels.tsa.statespace.sarimax import SARIMAX
from snowflake.snowpark.context import get_active_session

warnings.simplefilter("ignore")
logging.getLogger("cmdstanpy").setLevel(logging.WARNING)
HORIZON = 12
MIN_PROPHET_WEEKS = 52


def holiday_frame(years):
    us = holidays.country_holidays("US", years=years)
    return pd.DataFrame({"holiday": list(us.values()), "ds": pd.to_datetime(list(us.keys())),
                         "lower_window": -3, "upper_window": 1})


def fit_one(key, g, hol):
    g = g.sort_values("ds")
    if len(g) >= MIN_PROPHET_WEEKS:
        m = Prophet(weekly_seasonality=False, yearly_seasonality=10, holidays=hol,
                    seasonality_mode="multiplicative", interval_width=0.8)
        m.add_regressor("promo")
        m.fit(g[["ds", "y", "promo"]])
        fut = m.make_future_dataframe(HORIZON, freq="W-SUN", include_history=False)
        fut["promo"] = 0
        fc = m.predict(fut)[["ds", "yhat", "yhat_lower", "yhat_upper"]]
        method = "prophet"
    else:
        res = SARIMAX(g["y"].values, order=(1, 1, 1), seasonal_order=(0, 0, 0, 0)).fit(disp=False)
        f = res.get_forecast(HORIZON)
        ci = f.conf_int(alpha=0.2)
        fc = pd.DataFrame({"ds": pd.date_range(g["ds"].max(), periods=HORIZON + 1, freq="W-SUN")[1:],
                           "yhat": f.predicted_mean, "yhat_lower": ci[:, 0], "yhat_upper": ci[:, 1]})
        method = "sarimax"
    fc["store_id"], fc["sku"] = key
    fc["method"] = method
    fc[["yhat", "yhat_lower", "yhat_upper"]] = fc[["yhat", "yhat_lower", "yhat_upper"]].clip(lower=0)
    return fc


def main():
    session = get_active_session()
    df = session.sql("""
        select store_id, sku, date_trunc('week', sold_at) as ds, sum(qty) as y, max(on_promo)::int as promo
        from RETAIL.SALES.LINE_ITEMS group by 1, 2, 3
    """).to_pandas()
    df.columns = [c.lower() for c in df.columns]
    df["ds"] = pd.to_datetime(df["ds"])
    hol = holiday_frame(range(df.ds.dt.year.min(), df.ds.dt.year.max() + 2))

    groups = list(df.groupby(["store_id", "sku"]))
    out = Parallel(n_jobs=-1, batch_size=8)(delayed(partial(fit_one, hol=hol))(k, g) for k, g in groups)
    fc = pd.concat(out, ignore_index=True)
    print(fc.groupby("method").size())
    fc.columns = [c.upper() for c in fc.columns]
    session.write_pandas(fc, "WEEKLY_FORECAST", database="RETAIL", schema="FORECASTS",
                         auto_create_table=True, overwrite=True)


if __name__ == "__main__":
    main()
