"""Daily clickstream aggregation: GCS parquet -> polars/duckdb -> GCS.

Downloads yesterday's partition from a GCS bucket, sessionises events with
polars, computes funnel metrics with duckdb SQL and uploads the result.
"""
import argparse
import datetime as dt
import os
import tempfile

import duckdb
import polars as pl
import pyarrow.parquet as pq
from google.cloud import storage

SESSION_GAP = 30 * 60  # seconds


def download_partition(client: storage.Client, bucket: str, day: str, dest: str) -> list[str]:
    paths = []
    for blob in client.list_blobs(bucket, prefix=f"events/dt={day}/"):
        if blob.name.endswith(".parquet"):
            local = os.path.join(dest, os.path.basename(blob.name))
            blob.download_to_filename(local)
            paths.append(local)
    return paths


def sessionise(df: pl.DataFrame) -> pl.DataFrame:
    return (
        df.sort(["user_id", "ts"])
        .with_columns(gap=(pl.col("ts") - pl.col("ts").shift(1).over("user_id")).dt.total_seconds())
        .with_columns(new_session=(pl.col("gap").is_null() | (pl.col("gap") > SESSION_GAP)).cast(pl.Int32))
        .with_columns(session_idx=pl.col("new_session").cum_sum().over("user_id"))
    )


FUNNEL_SQL = """
SELECT date_trunc('hour', ts) AS hour,
       count(DISTINCT user_id || '-' || session_idx) AS sessions,
       count(*) FILTER (WHERE event = 'add_to_cart') AS add_to_cart,
       count(*) FILTER (WHERE event = 'purchase') AS purchases
FROM events GROUP BY 1 ORDER BY 1
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bucket", default="acme-clickstream")
    ap.add_argument("--day", default=str(dt.date.today() - dt.timedelta(days=1)))
    args = ap.parse_args()

    client = storage.Client()
    with tempfile.TemporaryDirectory() as tmp:
        files = download_partition(client, args.bucket, args.day, tmp)
        events = sessionise(pl.concat([pl.read_parquet(f) for f in files]))
        con = duckdb.connect()
        con.register("events", events.to_arrow())
        funnel = con.execute(FUNNEL_SQL).arrow()
        out = os.path.join(tmp, "funnel.parquet")
        pq.write_table(funnel, out)
        client.bucket(args.bucket).blob(f"aggregates/funnel/dt={args.day}/funnel.parquet").upload_from_filename(out)
    print(f"{args.day}: {funnel.num_rows} hourly rows from {len(files)} files")


if __name__ == "__main__":
    main()
