"""Feature helpers for the LightGBM ranker."""
import numpy as np
import pandas as pd


def add_ratios(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    df["ctr"] = df["clicks"] / df["impressions"].clip(lower=1)
    df["cvr"] = df["orders"] / df["clicks"].clip(lower=1)
    df["log_price"] = np.log1p(df["price"])
    return df


def group_sizes(df: pd.DataFrame, key: str) -> np.ndarray:
    return df.groupby(key, sort=False).size().to_numpy()
