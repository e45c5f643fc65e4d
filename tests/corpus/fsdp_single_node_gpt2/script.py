"""Continue pre-training GPT-2 medium with FSDP on one 4-GPU node.

    torchrun --standalone --nproc_per_node=4 script.py --steps 2000

Only LOCAL_RANK is used: everything stays on a single machine.
"""
import argparse
import functools
import os

import torch
import torch.distributed as dist
from datasets import load_dataset
from torch.distributed.fsdp import FullyShardedDataParallel as FSDP
from torch.distributed.fsdp import MixedPrecision
from torch.distributed.fsdp.wrap import transformer_auto_wrap_policy
from transformers import AutoModelForCausalLM, AutoTokenizer
from transformers.models.gpt2.modeling_gpt2 import GPT2Block


def get_batches(tokenizer, seq_len: int, batch_size: int, rank: int, world: int):
    ds = load_dataset("wikitext", "wikitext-103-raw-v1", split="train", streaming=True)
    ds = ds.shard(num_shards=world, index=rank) if hasattr(ds, "shard") else ds
    buf = []
    for row in ds:
        buf.extend(tokenizer(row["text"])["input_ids"])
        while len(buf) >= seq_len * batch_size:
            chunk = torch.tensor(buf[: seq_len * batch_size]).view(batch_size, seq_len)
            buf = buf[seq_len * batch_size:]
            yield chunk


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="gpt2-medium")
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--seq-len", type=int, default=1024)
    ap.add_argument("--batch-size", type=int, default=4)
    ap.add_argument("--output-dir", default="fsdp-gpt2")
    args = ap.parse_args()

    dist.init_process_group("nccl")
    local_rank = int(os.environ["LOCAL_RANK"])
    torch.cuda.set_device(local_rank)
    rank, world = dist.get_rank(), dist.get_world_size()

    tokenizer = AutoTokenizer.from_pretrained(args.model)
    model = AutoModelForCausalLM.from_pretrained(args.model)
    wrap = functools.partial(transformer_auto_wrap_policy, transformer_layer_cls={GPT2Block})
    model = FSDP(
        model,
        auto_wrap_policy=wrap,
        mixed_precision=MixedPrecision(param_dtype=torch.bfloat16, reduce_dtype=torch.bfloat16),
        device_id=torch.cuda.current_device(),
    )
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.1)
    model.train()
    for step, batch in enumerate(get_batches(tokenizer, args.seq_len, args.batch_size, rank, world)):
        if step >= args.steps:
            break
        batch = batch.to(local_rank)
        loss = model(input_ids=batch, labels=batch).loss
        loss.backward()
        model.clip_grad_norm_(1.0)
        opt.step()
        opt.zero_grad()
        if rank == 0 and step % 50 == 0:
            print(f"step {step} loss {loss.item():.4f}")

    dist.barrier()
    if rank == 0:
        os.makedirs(args.output_dir, exist_ok=True)
    with FSDP.state_dict_type(model, torch.distributed.fsdp.StateDictType.FULL_STATE_DICT):
        state = model.state_dict()
    if rank == 0:
        torch.save(state, os.path.join(args.output_dir, "model.pt"))
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
