"""Continued MLM pre-training of a BERT-style encoder on in-domain text, multi-node DDP.

Launch on every node with torchrun --nnodes=$NNODES --nproc_per_node=$GPUS \
    --rdzv_endpoint=$MASTER_ADDR:29500 pretrain_mlm.py
"""
import argparse
import os
from contextlib import nullcontext

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader
from torch.utils.data.distributed import DistributedSampler
from datasets import load_dataset
from transformers import (AutoModelForMaskedLM, AutoTokenizer,
                          DataCollatorForLanguageModeling, get_linear_schedule_with_warmup)


def setup():
    dist.init_process_group(backend="nccl")
    local_rank = int(os.environ["LOCAL_RANK"])
    torch.cuda.set_device(local_rank)
    return dist.get_rank(), dist.get_world_size(), local_rank


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", default="microsoft/deberta-v3-base")
    ap.add_argument("--text-glob", default="/mnt/data/corpus/*.txt")
    ap.add_argument("--seq-len", type=int, default=512)
    ap.add_argument("--bs", type=int, default=16)
    ap.add_argument("--accum", type=int, default=4)
    ap.add_argument("--steps", type=int, default=50_000)
    ap.add_argument("--out", default="/mnt/job_stage/output/mlm")
    args = ap.parse_args()

    rank, world, local_rank = setup()
    is_main = rank == 0
    tok = AutoTokenizer.from_pretrained(args.base)
    ds = load_dataset("text", data_files={"train": args.text_glob}, split="train")
    ds = ds.map(lambda b: tok(b["text"], truncation=True, max_length=args.seq_len),
                batched=True, remove_columns=["text"], num_proc=8)
    collator = DataCollatorForLanguageModeling(tok, mlm_probability=0.15)
    sampler = DistributedSampler(ds, num_replicas=world, rank=rank, shuffle=True, seed=17)
    dl = DataLoader(ds, batch_size=args.bs, sampler=sampler, collate_fn=collator, num_workers=4, pin_memory=True)

    model = AutoModelForMaskedLM.from_pretrained(args.base).cuda(local_rank)
    model = DDP(model, device_ids=[local_rank])
    opt = torch.optim.AdamW(model.parameters(), lr=5e-5, weight_decay=0.01, fused=True)
    sched = get_linear_schedule_with_warmup(opt, 1000, args.steps)

    step, epoch = 0, 0
    model.train()
    while step < args.steps:
        sampler.set_epoch(epoch)
        for i, batch in enumerate(dl):
            batch = {k: v.cuda(local_rank, non_blocking=True) for k, v in batch.items()}
            sync = (i + 1) % args.accum == 0
            with (nullcontext() if sync else model.no_sync()):
                with torch.autocast("cuda", dtype=torch.bfloat16):
                    loss = model(**batch).loss / args.accum
                loss.backward()
            if not sync:
                continue
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            step += 1
            if is_main and step % 100 == 0:
                print(f"step {step} loss {loss.item() * args.accum:.4f}", flush=True)
            if step >= args.steps:
                break
        epoch += 1

    if is_main:
        model.module.save_pretrained(args.out)
        tok.save_pretrained(args.out)
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
