"""Nightly sentiment scoring of support tickets with a small HF pipeline.

The model is tiny (DistilBERT SST-2) and volume is ~50k rows/night, so the
pipeline runs on CPU. (To use a GPU one would pass device=0 -- we don't.)
"""
import argparse
import logging
from datetime import date

import pandas as pd
from snowflake.snowpark import Session
from transformers import pipeline

LOG = logging.getLogger("ticket_sentiment")
MODEL_ID = "distilbert/distilbert-base-uncased-finetuned-sst-2-english"


def batched(seq, size):
    for i in range(0, len(seq), size):
        yield seq[i:i + size]


def score(texts: list[str], batch_size: int) -> pd.DataFrame:
    clf = pipeline("sentiment-analysis", model=MODEL_ID, truncation=True, max_length=256)
    rows = []
    for chunk in batched(texts, batch_size):
        for out in clf(chunk, batch_size=batch_size):
            rows.append({"LABEL": out["label"], "SCORE": float(out["score"])})
    return pd.DataFrame(rows)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", default="SUPPORT.RAW.TICKETS")
    ap.add_argument("--target", default="SUPPORT.ANALYTICS.TICKET_SENTIMENT")
    ap.add_argument("--day", default=str(date.today()))
    ap.add_argument("--batch-size", type=int, default=64)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO)

    session = Session.builder.getOrCreate()
    tickets = (
        session.table(args.source)
        .filter(f"TO_DATE(CREATED_AT) = '{args.day}'")
        .select("TICKET_ID", "BODY")
        .to_pandas()
    )
    LOG.info("scoring %d tickets", len(tickets))
    scores = score(tickets["BODY"].fillna("").tolist(), args.batch_size)
    result = pd.concat([tickets[["TICKET_ID"]].reset_index(drop=True), scores], axis=1)
    result["SCORED_ON"] = args.day
    session.write_pandas(result, args.target.split(".")[-1],
                         database=args.target.split(".")[0], schema=args.target.split(".")[1],
                         auto_create_table=True, overwrite=False)
    return {"rows": len(result), "negative_share": float((result["LABEL"] == "NEGATIVE").mean())}


if __name__ == "__main__":
    __return__ = main()
