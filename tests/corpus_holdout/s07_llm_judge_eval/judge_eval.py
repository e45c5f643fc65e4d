"""LLM-as-a-judge evaluation of a summarization model's outputs.

Loads reference articles from the Hub, candidate summaries from Snowflake,
asks an OpenAI model to grade faithfulness, writes scores back.
"""
import argparse
import json
import os
import re
from concurrent.futures import ThreadPoolExecutor, as_completed

import pandas as pd
from datasets import load_dataset
from openai import OpenAI
from tenacity import retry, stop_after_attempt, wait_random_exponential
from tqdm import tqdm
from snowflake.snowpark.context import get_active_session

JUDGE_PROMPT = """You are grading a summary for faithfulness to its source article.
Article:
{article}

Summary:
{summary}

Return JSON: {{"faithfulness": 1-5, "coverage": 1-5, "hallucinations": [list of unsupported claims]}}"""

client = OpenAI(api_key=os.environ["OPENAI_API_KEY"])


@retry(wait=wait_random_exponential(min=1, max=60), stop=stop_after_attempt(6))
def judge(article: str, summary: str, model: str) -> dict:
    resp = client.chat.completions.create(
        model=model,
        temperature=0,
        response_format={"type": "json_object"},
        messages=[{"role": "user", "content": JUDGE_PROMPT.format(article=article[:12000], summary=summary)}],
    )
    text = resp.choices[0].message.content
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        m = re.search(r"\{.*\}", text, re.S)
        return json.loads(m.group(0)) if m else {"faithfulness": None, "coverage": None, "hallucinations": []}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run-id", required=True)
    ap.add_argument("--judge-model", default="gpt-4o-mini")
    ap.add_argument("--limit", type=int, default=500)
    ap.add_argument("--workers", type=int, default=16)
    args = ap.parse_args()

    refs = load_dataset("abisee/cnn_dailymail", "3.0.0", split="test").to_pandas()
    refs = refs.set_index("id")["article"]

    session = get_active_session()
    cands = session.table("EVAL.SUMMARIZATION.CANDIDATES").filter(f"RUN_ID = '{args.run_id}'").limit(args.limit).to_pandas()

    results = []
    with ThreadPoolExecutor(args.workers) as pool:
        futs = {pool.submit(judge, refs[r.DOC_ID], r.SUMMARY, args.judge_model): r.DOC_ID
                for r in cands.itertuples() if r.DOC_ID in refs.index}
        for fut in tqdm(as_completed(futs), total=len(futs)):
            out = fut.result()
            results.append({"RUN_ID": args.run_id, "DOC_ID": futs[fut],
                            "FAITHFULNESS": out.get("faithfulness"), "COVERAGE": out.get("coverage"),
                            "N_HALLUCINATIONS": len(out.get("hallucinations") or [])})
    scores = pd.DataFrame(results)
    print(scores[["FAITHFULNESS", "COVERAGE", "N_HALLUCINATIONS"]].describe())
    session.write_pandas(scores, "JUDGE_SCORES", database="EVAL", schema="SUMMARIZATION", auto_create_table=True)


if __name__ == "__main__":
    main()
