"""Model pipeline definition."""
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from .features import make_features  # noqa: F401  (re-exported for train.py)

FEATURES = ["TENURE_DAYS", "ORDERS_90D", "AOV", "RETURN_RATE", "LOG_REVENUE"]


def build_pipeline(max_iter: int = 500) -> Pipeline:
    return Pipeline([
        ("scale", StandardScaler()),
        ("hgb", HistGradientBoostingRegressor(loss="poisson", max_iter=max_iter, learning_rate=0.05)),
    ])
