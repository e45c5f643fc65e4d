"""Feature engineering for the churn example."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def build_features(csv_path: Path) -> pd.DataFrame:
    frame = pd.read_csv(csv_path)
    frame["tenure_years"] = frame["tenure_months"] / 12
    frame["charges_per_month"] = frame["total_charges"] / frame["tenure_months"].clip(lower=1)
    return frame
