"""Monthly SKU-level demand forecasting: auto-ARIMA baseline + global LightGBM, best-of per series."""
import argparse
import logging

import pandas as pd

from pipeline.io import read_history, write_forecasts
from pipeline.features import make_calendar, make_lags
from pipeline import models

log = logging.getLogger("forecast")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--horizon", type=int, default=6)
    ap.add_argument("--holdout", type=int, default=3)
    ap.add_argument("--table", default="SUPPLY.PLANNING.MONTHLY_DEMAND")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    hist = read_history(args.table)
    feats = make_lags(make_calendar(hist), lags=(1, 2, 3, 6, 12))
    cutoff = hist["month"].max() - pd.DateOffset(months=args.holdout)

    arima_bt = models.arima_backtest(hist, cutoff, args.holdout)
    gbm_bt = models.gbm_backtest(feats, cutoff, args.holdout)
    choice = models.pick_best(arima_bt, gbm_bt)
    log.info("model choice: %s", choice["model"].value_counts().to_dict())

    fc = models.forecast(hist, feats, choice, args.horizon)
    write_forecasts(fc, "SUPPLY.PLANNING.DEMAND_FORECAST")


if __name__ == "__main__":
    main()
