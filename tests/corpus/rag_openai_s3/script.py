"""Minimal RAG evaluation: embed policy documents from S3, answer questions with OpenAI.

Pipeline:
  1. list and download markdown docs from s3://<bucket>/<prefix>
  2. chunk with tiktoken token counts, embed with text-embedding-3-small
  3. for each eval question retrieve top-k chunks (cosine) and ask gpt-4o-mini
"""
import argparse
import json
import os

import boto3
import numpy as np
import pandas as pd
import tiktoken
from dotenv import load_dotenv
from openai import OpenAI

load_dotenv()  # OPENAI_API_KEY, AWS_* for local runs

ENC = tiktoken.get_encoding("cl100k_base")


def fetch_docs(bucket: str, prefix: str) -> dict[str, str]:
    s3 = boto3.client("s3", region_name=os.environ.get("AWS_REGION", "us-west-2"))
    docs = {}
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            if obj["Key"].endswith(".md"):
                body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
                docs[obj["Key"]] = body.decode("utf-8")
    return docs


def chunk(text: str, max_tokens: int = 400, overlap: int = 50) -> list[str]:
    toks = ENC.encode(text)
    step = max_tokens - overlap
    return [ENC.decode(toks[i:i + max_tokens]) for i in range(0, max(len(toks), 1), step)]


def embed(client: OpenAI, texts: list[str]) -> np.ndarray:
    vecs = []
    for i in range(0, len(texts), 128):
        resp = client.embeddings.create(model="text-embedding-3-small", input=texts[i:i + 128])
        vecs.extend(d.embedding for d in resp.data)
    arr = np.asarray(vecs, dtype="float32")
    return arr / np.linalg.norm(arr, axis=1, keepdims=True)


def answer(client: OpenAI, question: str, context: list[str]) -> str:
    msg = "Answer using only the context.\n\n" + "\n---\n".join(context) + f"\n\nQuestion: {question}"
    resp = client.chat.completions.create(model="gpt-4o-mini", temperature=0,
                                          messages=[{"role": "user", "content": msg}])
    return resp.choices[0].message.content


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bucket", default="acme-policies")
    ap.add_argument("--prefix", default="handbook/")
    ap.add_argument("--questions", default="eval_questions.csv")
    ap.add_argument("--top-k", type=int, default=4)
    args = ap.parse_args()

    client = OpenAI()
    docs = fetch_docs(args.bucket, args.prefix)
    chunks = [c for text in docs.values() for c in chunk(text)]
    matrix = embed(client, chunks)

    qs = pd.read_csv(args.questions)
    answers = []
    for q in qs["question"]:
        qv = embed(client, [q])[0]
        top = np.argsort(matrix @ qv)[::-1][: args.top_k]
        answers.append(answer(client, q, [chunks[i] for i in top]))
    qs["answer"] = answers
    qs.to_csv("rag_answers.csv", index=False)
    print(json.dumps({"docs": len(docs), "chunks": len(chunks), "questions": len(qs)}))


if __name__ == "__main__":
    main()
