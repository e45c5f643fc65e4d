"""Daily data-quality gate for the feature tables feeding the churn model.

Validates schemas with pandera, checks freshness/volume/drift, and posts a
summary to Slack. Exits non-zero if any blocking check fails.
"""
import datetime as dt
import os
import sys
from typing import Callable

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera import Check
import requests
from scipy.stats import ks_2samp
from snowflake.snowpark.context import get_active_session

SLACK_WEBHOOK = os.environ.get("SLACK_WEBHOOK", "https://hooks.slack.com/services/T000/B000/XXXX")

customer_schema = pa.DataFrameSchema({
    "CUSTOMER_ID": pa.Column(str, unique=True),
    "TENURE_DAYS": pa.Column(int, Check.ge(0)),
    "ARPU_30D": pa.Column(float, Check.in_range(0, 10_000), nullable=True),
    "PLAN": pa.Column(str, Check.isin(["basic", "plus", "pro", "enterprise"])),
    "CHURNED": pa.Column(int, Check.isin([0, 1])),
}, strict=False, coerce=True)


def check_freshness(session, table, ts_col, max_age_h=26):
    latest = session.sql(f"select max({ts_col}) from {table}").collect()[0][0]
    age = (dt.datetime.utcnow() - latest).total_seconds() / 3600
    return age <= max_age_h, f"{table} freshness {age:.1f}h"


def check_volume(session, table, date_col, tol=0.3):
    df = session.sql(f"""select {date_col}::date d, count(*) n from {table}
                         where {date_col} >= dateadd(day, -15, current_date()) group by 1 order by 1""").to_pandas()
    today, hist = df["N"].iloc[-1], df["N"].iloc[:-1]
    ok = abs(today - hist.median()) <= tol * hist.median()
    return ok, f"{table} volume {today} vs median {hist.median():.0f}"


def check_drift(cur: pd.DataFrame, ref: pd.DataFrame, cols, alpha=0.01):
    msgs, ok = [], True
    for c in cols:
        stat, p = ks_2samp(cur[c].dropna(), ref[c].dropna())
        if p < alpha:
            ok = False
            msgs.append(f"{c}: KS={stat:.3f} p={p:.1e}")
    return ok, "drift " + (", ".join(msgs) if msgs else "none")


def notify(results):
    lines = [("✅" if ok else "❌") + " " + msg for ok, msg in results]
    try:
        requests.post(SLACK_WEBHOOK, json={"text": "*Churn feature DQ*\n" + "\n".join(lines)}, timeout=10)
    except requests.RequestException as exc:
        print(f"slack post failed: {exc}", file=sys.stderr)


def main() -> int:
    session = get_active_session()
    checks: list[Callable[[], tuple[bool, str]]] = [
        lambda: check_freshness(session, "ML.FEATURES.CUSTOMER_DAILY", "UPDATED_AT"),
        lambda: check_volume(session, "ML.FEATURES.CUSTOMER_DAILY", "UPDATED_AT"),
    ]
    results = [c() for c in checks]

    cur = session.table("ML.FEATURES.CUSTOMER_DAILY").sample(n=200_000).to_pandas()
    try:
        customer_schema.validate(cur, lazy=True)
        results.append((True, "schema ok"))
    except pa.errors.SchemaErrors as err:
        results.append((False, f"schema: {len(err.failure_cases)} failures"))
    ref = session.table("ML.FEATURES.CUSTOMER_REFERENCE").sample(n=200_000).to_pandas()
    results.append(check_drift(cur, ref, ["TENURE_DAYS", "ARPU_30D"]))

    notify(results)
    return 0 if all(ok for ok, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
