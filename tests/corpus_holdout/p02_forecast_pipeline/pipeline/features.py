import numpy as np
import pandas as pd


def make_calendar(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    df["m"] = df["month"].dt.month
    df["m_sin"] = np.sin(2 * np.pi * df["m"] / 12)
    df["m_cos"] = np.cos(2 * np.pi * df["m"] / 12)
    df["t"] = (df["month"].dt.year - 2015) * 12 + df["m"]
    return df


def make_lags(df: pd.DataFrame, lags=(1, 2, 3, 12)) -> pd.DataFrame:
    df = df.copy()
    g = df.groupby("sku")["qty"]
    for lag in lags:
        df[f"lag_{lag}"] = g.shift(lag)
    df["roll3"] = g.transform(lambda s: s.shift(1).rolling(3).mean())
    df["roll12"] = g.transform(lambda s: s.shift(1).rolling(12).mean())
    df["yoy"] = df["lag_12"] / df["roll12"].replace(0, np.nan)
    return df
