"""Apply a LoRA adapter to a small seq2seq model and summarise tickets on CPU.

The adapter was trained elsewhere and published to the Hub; inference volume
is small, so we keep to the CPU pool (device="cpu", float32).
"""
import argparse
import json

import torch
from peft import PeftModel
from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

BASE = "google/flan-t5-base"
ADAPTER = "acme-ml/flan-t5-base-ticket-summaries-lora"
DEVICE = "cpu"


def load(adapter: str):
    tok = AutoTokenizer.from_pretrained(BASE)
    base = AutoModelForSeq2SeqLM.from_pretrained(BASE, torch_dtype=torch.float32)
    model = PeftModel.from_pretrained(base, adapter)
    model = model.merge_and_unload().to(DEVICE).eval()
    return tok, model


def summarise(tok, model, texts: list[str], max_new_tokens: int) -> list[str]:
    inputs = tok(["summarize: " + t for t in texts], return_tensors="pt", padding=True,
                 truncation=True, max_length=512).to(DEVICE)
    with torch.inference_mode():
        out = model.generate(**inputs, max_new_tokens=max_new_tokens, num_beams=4)
    return tok.batch_decode(out, skip_special_tokens=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--input", default="tickets.jsonl")
    ap.add_argument("--output", default="summaries.jsonl")
    ap.add_argument("--adapter", default=ADAPTER)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--max-new-tokens", type=int, default=64)
    args = ap.parse_args()

    torch.set_num_threads(8)
    tok, model = load(args.adapter)
    rows = [json.loads(l) for l in open(args.input)]
    with open(args.output, "w") as fh:
        for i in range(0, len(rows), args.batch_size):
            batch = rows[i:i + args.batch_size]
            for row, summary in zip(batch, summarise(tok, model, [r["body"] for r in batch], args.max_new_tokens)):
                fh.write(json.dumps({"id": row["id"], "summary": summary}) + "\n")
    print("done:", len(rows))


if __name__ == "__main__":
    main()
