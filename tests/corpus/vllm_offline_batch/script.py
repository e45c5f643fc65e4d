"""Offline batch generation with vLLM.

Reads prompts from a JSONL file, generates completions with an open-weights
model from the Hugging Face Hub and writes the results next to the input.
vLLM picks up every visible accelerator; tensor_parallel_size splits the model.
"""
import argparse
import json
import time
from pathlib import Path

import pandas as pd
from vllm import LLM, SamplingParams

SYSTEM_PROMPT = "You are a concise assistant. Answer in at most three sentences."


def read_prompts(path: Path) -> list[dict]:
    with path.open() as fh:
        return [json.loads(line) for line in fh if line.strip()]


def to_chat(prompt: str) -> list[dict]:
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": prompt}]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="Qwen/Qwen2.5-7B-Instruct")
    ap.add_argument("--prompts", default="prompts.jsonl")
    ap.add_argument("--output", default="generations.parquet")
    ap.add_argument("--tp", type=int, default=1, help="tensor parallel size")
    ap.add_argument("--max-tokens", type=int, default=256)
    ap.add_argument("--temperature", type=float, default=0.2)
    args = ap.parse_args()

    records = read_prompts(Path(args.prompts))
    llm = LLM(
        model=args.model,
        tensor_parallel_size=args.tp,
        dtype="bfloat16",
        gpu_memory_utilization=0.90,
        max_model_len=8192,
    )
    params = SamplingParams(temperature=args.temperature, top_p=0.95, max_tokens=args.max_tokens)

    t0 = time.time()
    outputs = llm.chat([to_chat(r["prompt"]) for r in records], params)
    elapsed = time.time() - t0

    rows = []
    for rec, out in zip(records, outputs):
        completion = out.outputs[0]
        rows.append({
            "id": rec.get("id"),
            "prompt": rec["prompt"],
            "completion": completion.text,
            "finish_reason": completion.finish_reason,
            "n_tokens": len(completion.token_ids),
        })
    df = pd.DataFrame(rows)
    df.to_parquet(args.output, index=False)
    tokens = int(df["n_tokens"].sum())
    print(f"{len(df)} prompts, {tokens} tokens in {elapsed:.1f}s ({tokens / elapsed:.0f} tok/s)")


if __name__ == "__main__":
    main()
