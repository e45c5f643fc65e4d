"""Project-local data loading (NOT the Hugging Face `datasets` package)."""
import pandas as pd
from sklearn.datasets import load_wine

import config


def load_training_data() -> tuple[pd.DataFrame, pd.Series]:
    """Bundled wine data set (ships with scikit-learn, no download)."""
    bunch = load_wine(as_frame=True)
    X = bunch.data.rename(columns=lambda c: c.replace("/", "_"))
    y = bunch.target
    if config.DROP_COLUMNS:
        X = X.drop(columns=list(config.DROP_COLUMNS))
    return X, y
