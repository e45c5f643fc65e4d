"""Offline RAG evaluation: retrieval recall@k and answer exact-match on an internal QA set."""
import argparse
import json
import statistics

from rag.retriever import DenseRetriever
from rag.generator import answer
from rag.metrics import recall_at_k, normalized_em
from snowflake.snowpark.context import get_active_session


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--limit", type=int, default=300)
    ap.add_argument("--model", default="gpt-4o-mini")
    args = ap.parse_args()

    session = get_active_session()
    docs = session.table("KB.PUBLIC.CHUNKS").select("CHUNK_ID", "TEXT").to_pandas()
    qa = session.table("KB.EVAL.QA_PAIRS").limit(args.limit).to_pandas()

    retriever = DenseRetriever(docs["CHUNK_ID"].tolist(), docs["TEXT"].tolist())
    recalls, ems = [], []
    for row in qa.itertuples():
        hits = retriever.search(row.QUESTION, k=args.k)
        recalls.append(recall_at_k([h.id for h in hits], json.loads(row.GOLD_CHUNK_IDS), args.k))
        pred = answer(row.QUESTION, [h.text for h in hits], model=args.model)
        ems.append(normalized_em(pred, row.ANSWER))
    print(f"recall@{args.k}: {statistics.mean(recalls):.3f}  EM: {statistics.mean(ems):.3f}  n={len(qa)}")


if __name__ == "__main__":
    main()
