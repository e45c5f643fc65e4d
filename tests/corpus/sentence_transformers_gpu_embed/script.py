"""Embed product descriptions with a sentence-transformers model on the GPU
and write the vectors back to Snowflake as VECTOR-ready arrays.
"""
import argparse
import logging

import numpy as np
import pandas as pd
from sentence_transformers import SentenceTransformer
from snowflake.snowpark import Session

log = logging.getLogger("embed")

MAX_CHARS = 2000


def build_text(batch: pd.DataFrame) -> list[str]:
    """Title + description, whitespace-collapsed and truncated (the model sees 256 tokens anyway)."""
    text = batch["TITLE"].fillna("") + ". " + batch["DESCRIPTION"].fillna("")
    text = text.str.replace(r"\s+", " ", regex=True).str.strip().str.slice(0, MAX_CHARS)
    return text.tolist()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", default="CATALOG.PUBLIC.PRODUCTS")
    ap.add_argument("--target", default="PRODUCT_EMBEDDINGS")
    ap.add_argument("--model", default="sentence-transformers/all-MiniLM-L6-v2")
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--chunk-rows", type=int, default=100_000)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO)

    session = Session.builder.getOrCreate()
    model = SentenceTransformer(args.model, device="cuda")
    model.half()  # fp16 inference
    dim = model.get_sentence_embedding_dimension()

    df = session.table(args.source).select("PRODUCT_ID", "TITLE", "DESCRIPTION")
    total = 0
    for i, batch in enumerate(df.to_pandas_batches()):
        texts = build_text(batch)
        vecs = model.encode(texts, batch_size=args.batch_size, normalize_embeddings=True,
                            convert_to_numpy=True, show_progress_bar=False)
        out = pd.DataFrame({"PRODUCT_ID": batch["PRODUCT_ID"].to_numpy(),
                            "EMBEDDING": [v.astype(np.float32).tolist() for v in vecs]})
        session.write_pandas(out, args.target, auto_create_table=True, overwrite=(i == 0))
        total += len(out)
        log.info("chunk %d: %d rows (dim=%d)", i, len(out), dim)
    return {"rows": total, "dim": dim}


if __name__ == "__main__":
    __return__ = main()
