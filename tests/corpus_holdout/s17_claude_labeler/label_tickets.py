"""Weak-label support tickets with Claude, then train a cheap TF-IDF classifier on the labels.

The labeling instructions live next to this script in label_prompt.txt.
"""
import json
import os
import random
import time
from pathlib import Path

import anthropic
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import classification_report
from sklearn.model_selection import train_test_split
from snowflake.snowpark.context import get_active_session

HERE = Path(__file__).resolve().parent
PROMPT = (HERE / "label_prompt.txt").read_text()
LABELS = ["billing", "bug", "feature_request", "account_access", "shipping", "other"]
MODEL = os.environ.get("CLAUDE_MODEL", "claude-3-5-haiku-latest")


def label_one(client: anthropic.Anthropic, text: str, retries: int = 5) -> str:
    for attempt in range(retries):
        try:
            msg = client.messages.create(
                model=MODEL, max_tokens=50, temperature=0, system=PROMPT,
                messages=[{"role": "user", "content": text[:4000]}])
            out = json.loads(msg.content[0].text)
            return out["label"] if out.get("label") in LABELS else "other"
        except anthropic.RateLimitError:
            time.sleep(2 ** attempt + random.random())
        except (json.JSONDecodeError, KeyError, IndexError):
            return "other"
    return "other"


def main(n_label: int = 3000):
    session = get_active_session()
    df = session.table("SUPPORT.RAW.TICKETS").select("TICKET_ID", "BODY").to_pandas()
    client = anthropic.Anthropic()
    sample = df.sample(min(n_label, len(df)), random_state=1).copy()
    sample["LABEL"] = [label_one(client, t) for t in sample["BODY"].fillna("")]
    session.write_pandas(sample[["TICKET_ID", "LABEL"]], "TICKET_WEAK_LABELS", auto_create_table=True, overwrite=True)

    xtr, xte, ytr, yte = train_test_split(sample["BODY"].fillna(""), sample["LABEL"], test_size=0.2,
                                          stratify=sample["LABEL"], random_state=1)
    vec = TfidfVectorizer(ngram_range=(1, 2), min_df=3, sublinear_tf=True, max_features=200_000)
    clf = LogisticRegression(max_iter=2000, C=4.0, class_weight="balanced")
    clf.fit(vec.fit_transform(xtr), ytr)
    print(classification_report(yte, clf.predict(vec.transform(xte))))

    df["PRED"] = clf.predict(vec.transform(df["BODY"].fillna("")))
    session.write_pandas(df[["TICKET_ID", "PRED"]], "TICKET_PREDICTED_LABELS", auto_create_table=True, overwrite=True)


if __name__ == "__main__":
    main()
