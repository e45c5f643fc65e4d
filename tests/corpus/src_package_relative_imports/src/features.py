"""Feature building for the LTV model."""
import numpy as np
import pandas as pd

from .io import load_table

RAW_COLUMNS = ["CUSTOMER_ID", "FIRST_ORDER_DATE", "ORDERS_90D", "REVENUE_90D", "RETURNS_90D", "LTV_365D"]


def make_features(session, table: str) -> pd.DataFrame:
    df = load_table(session, table, RAW_COLUMNS)
    df["TENURE_DAYS"] = (pd.Timestamp.today() - pd.to_datetime(df["FIRST_ORDER_DATE"])).dt.days
    df["AOV"] = df["REVENUE_90D"] / df["ORDERS_90D"].clip(lower=1)
    df["RETURN_RATE"] = df["RETURNS_90D"] / df["ORDERS_90D"].clip(lower=1)
    df["LOG_REVENUE"] = np.log1p(df["REVENUE_90D"])
    return df
