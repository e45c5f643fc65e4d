import pandas as pd
from snowflake.snowpark import Session

_session = None


def session() -> Session:
    global _session
    if _session is None:
        _session = Session.builder.getOrCreate()
    return _session


def read_history(table: str) -> pd.DataFrame:
    df = session().table(table).to_pandas()
    df.columns = [c.lower() for c in df.columns]
    df["month"] = pd.to_datetime(df["month"])
    return df.sort_values(["sku", "month"]).reset_index(drop=True)


def write_forecasts(df: pd.DataFrame, fq_table: str) -> None:
    db, schema, table = fq_table.split(".")
    out = df.copy()
    out.columns = [c.upper() for c in out.columns]
    session().write_pandas(out, table, database=db, schema=schema, auto_create_table=True, overwrite=True)
