"""Nightly batch scoring of product reviews with a RoBERTa sentiment model.

Reads unscored reviews in chunks from Snowflake, runs fp16 inference, appends results.
"""
import os
import time

import numpy as np
import pandas as pd
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer
from snowflake.snowpark import Session
from snowflake.snowpark import functions as F

MODEL_ID = "cardiffnlp/twitter-roberta-base-sentiment-latest"
CHUNK = 50_000
BATCH = 256
MAX_LEN = 256


def load_model():
    tok = AutoTokenizer.from_pretrained(MODEL_ID)
    model = AutoModelForSequenceClassification.from_pretrained(MODEL_ID)
    model = model.half().cuda().eval()
    return tok, model


@torch.inference_mode()
def score(texts, tok, model):
    probs = []
    for i in range(0, len(texts), BATCH):
        enc = tok(texts[i:i + BATCH], truncation=True, max_length=MAX_LEN,
                  padding=True, return_tensors="pt").to("cuda")
        logits = model(**enc).logits.float()
        probs.append(torch.softmax(logits, dim=-1).cpu().numpy())
    return np.concatenate(probs) if probs else np.empty((0, 3))


def main():
    session = Session.builder.getOrCreate()
    tok, model = load_model()
    labels = [model.config.id2label[i].upper() for i in range(model.config.num_labels)]

    pending = (session.table("REVIEWS.RAW.PRODUCT_REVIEWS")
               .join(session.table("REVIEWS.SCORED.SENTIMENT"), on="REVIEW_ID", how="leftanti")
               .select("REVIEW_ID", F.col("REVIEW_TEXT")))
    total = 0
    t0 = time.time()
    for batch_df in pending.to_pandas_batches():
        for start in range(0, len(batch_df), CHUNK):
            part = batch_df.iloc[start:start + CHUNK]
            p = score(part["REVIEW_TEXT"].fillna("").tolist(), tok, model)
            out = pd.DataFrame(p, columns=[f"P_{l}" for l in labels])
            out.insert(0, "REVIEW_ID", part["REVIEW_ID"].values)
            out["LABEL"] = np.array(labels)[p.argmax(1)]
            out["MODEL"] = MODEL_ID
            session.write_pandas(out, "SENTIMENT", database="REVIEWS", schema="SCORED")
            total += len(out)
    print(f"scored {total} reviews in {time.time() - t0:.0f}s on {torch.cuda.get_device_name(0)}")


if __name__ == "__main__":
    main()
