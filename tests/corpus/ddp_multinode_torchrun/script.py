"""Multi-node DistributedDataParallel training, launched with torchrun.

    torchrun --nnodes=$NNODES --node_rank=$NODE_RANK --nproc_per_node=4 \
             --master_addr=$MASTER_ADDR --master_port=29500 script.py

Each process reads RANK / LOCAL_RANK / WORLD_SIZE from the environment that
torchrun sets; NODE_RANK and MASTER_ADDR identify the node in the cluster.
"""
import argparse
import os

import numpy as np
import torch
import torch.distributed as dist
import torch.nn as nn
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, Dataset
from torch.utils.data.distributed import DistributedSampler


class RandomTokens(Dataset):
    """Synthetic language-model data so the script is self contained."""

    def __init__(self, n: int, seq_len: int, vocab: int, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.data = torch.from_numpy(rng.integers(0, vocab, size=(n, seq_len + 1)))

    def __len__(self):
        return len(self.data)

    def __getitem__(self, i):
        row = self.data[i]
        return row[:-1], row[1:]


class TinyTransformer(nn.Module):
    def __init__(self, vocab: int, d: int = 512, layers: int = 6, heads: int = 8):
        super().__init__()
        self.emb = nn.Embedding(vocab, d)
        block = nn.TransformerEncoderLayer(d, heads, 4 * d, batch_first=True, norm_first=True)
        self.body = nn.TransformerEncoder(block, layers)
        self.head = nn.Linear(d, vocab)

    def forward(self, x):
        mask = nn.Transformer.generate_square_subsequent_mask(x.size(1), device=x.device)
        return self.head(self.body(self.emb(x), mask=mask, is_causal=True))


def setup() -> tuple[int, int, int]:
    dist.init_process_group(backend="nccl")
    local_rank = int(os.environ["LOCAL_RANK"])
    torch.cuda.set_device(local_rank)
    rank, world = dist.get_rank(), dist.get_world_size()
    if rank == 0:
        print(f"world={world} nodes={os.environ.get('NNODES', '?')} master={os.environ['MASTER_ADDR']} "
              f"node_rank={os.environ.get('NODE_RANK', '0')}")
    return rank, local_rank, world


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--vocab", type=int, default=32000)
    ap.add_argument("--checkpoint", default="ckpt.pt")
    args = ap.parse_args()

    rank, local_rank, world = setup()
    ds = RandomTokens(200_000, 256, args.vocab)
    sampler = DistributedSampler(ds, num_replicas=world, rank=rank, shuffle=True)
    loader = DataLoader(ds, batch_size=args.batch_size, sampler=sampler, num_workers=4, pin_memory=True)

    model = TinyTransformer(args.vocab).cuda(local_rank)
    model = DDP(model, device_ids=[local_rank])
    opt = torch.optim.AdamW(model.parameters(), lr=3e-4)
    scaler = torch.cuda.amp.GradScaler()
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)
        for step, (x, y) in enumerate(loader):
            x, y = x.cuda(local_rank, non_blocking=True), y.cuda(local_rank, non_blocking=True)
            with torch.autocast("cuda", dtype=torch.float16):
                loss = nn.functional.cross_entropy(model(x).flatten(0, 1), y.flatten())
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            if rank == 0 and step % 100 == 0:
                print(f"epoch {epoch} step {step} loss {loss.item():.3f}")
        if rank == 0:
            torch.save(model.module.state_dict(), args.checkpoint)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
