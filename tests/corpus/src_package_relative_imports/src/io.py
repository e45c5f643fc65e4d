"""Snowflake I/O helpers (module name shadows the stdlib `io` only inside `src`)."""
import pandas as pd
from snowflake.snowpark import Session


def load_table(session: Session, name: str, columns: list[str]) -> pd.DataFrame:
    return session.table(name).select(*columns).to_pandas()


def save_predictions(session: Session, df: pd.DataFrame, name: str) -> None:
    session.write_pandas(df, name, auto_create_table=True, overwrite=True)
