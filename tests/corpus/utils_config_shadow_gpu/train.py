"""Train the toy CharGPT on a text corpus.

    python train.py --config config.yaml --corpus input.txt --device cuda
"""
import argparse
import os

import numpy as np
import torch

from config import load_config
from model import CharGPT
from utils import count_params, set_seed


def batches(data: np.ndarray, seq_len: int, batch_size: int, device: str):
    while True:
        ix = np.random.randint(0, len(data) - seq_len - 1, size=batch_size)
        x = torch.from_numpy(np.stack([data[i:i + seq_len] for i in ix])).long()
        y = torch.from_numpy(np.stack([data[i + 1:i + 1 + seq_len] for i in ix])).long()
        yield x.to(device, non_blocking=True), y.to(device, non_blocking=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="config.yaml")
    ap.add_argument("--corpus", default="input.txt")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--output-dir", default="ckpt")
    args = ap.parse_args()

    cfg = load_config(args.config)
    set_seed(0)
    text = open(args.corpus, encoding="utf-8").read()
    vocab = sorted(set(text))
    stoi = {c: i for i, c in enumerate(vocab)}
    data = np.array([stoi[c] for c in text], dtype=np.int64)

    model = CharGPT(len(vocab), cfg.model["d_model"], cfg.model["n_layers"], cfg.model["n_heads"]).to(args.device)
    print(f"{count_params(model) / 1e6:.1f}M parameters on {args.device}")
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.train["lr"])
    gen = batches(data, cfg.train["seq_len"], cfg.train["batch_size"], args.device)
    for step in range(cfg.train["steps"]):
        x, y = next(gen)
        with torch.autocast(device_type="cuda", dtype=torch.bfloat16):
            logits = model(x)
            loss = torch.nn.functional.cross_entropy(logits.view(-1, logits.size(-1)), y.view(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % 250 == 0:
            print(f"step {step} loss {loss.item():.3f}")
    os.makedirs(args.output_dir, exist_ok=True)
    torch.save({"model": model.state_dict(), "vocab": vocab}, os.path.join(args.output_dir, "chargpt.pt"))


if __name__ == "__main__":
    main()
