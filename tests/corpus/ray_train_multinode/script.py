"""Distributed image-embedding training with Ray Train (TorchTrainer).

Scales to `--workers` GPU workers spread over the nodes of the Ray cluster
(one worker per GPU node on the Snowflake multi-node job).
"""
import argparse
import tempfile

import numpy as np
import ray
import ray.train
import torch
import torch.nn as nn
from ray.train import Checkpoint, RunConfig, ScalingConfig
from ray.train.torch import TorchTrainer, prepare_data_loader, prepare_model


def make_dataset(n: int = 100_000, dim: int = 256, classes: int = 50):
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(classes, dim))
    y = rng.integers(0, classes, size=n)
    x = centers[y] + rng.normal(scale=2.0, size=(n, dim))
    return torch.utils.data.TensorDataset(torch.tensor(x, dtype=torch.float32), torch.tensor(y))


def train_loop_per_worker(config: dict):
    model = nn.Sequential(nn.Linear(256, 512), nn.GELU(), nn.Linear(512, 128), nn.GELU(), nn.Linear(128, 50))
    model = prepare_model(model)  # moves to this worker's GPU and wraps in DDP
    loader = torch.utils.data.DataLoader(make_dataset(), batch_size=config["batch_size"], shuffle=True)
    loader = prepare_data_loader(loader)
    opt = torch.optim.Adam(model.parameters(), lr=config["lr"])
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(config["epochs"]):
        if ray.train.get_context().get_world_size() > 1:
            loader.sampler.set_epoch(epoch)
        total, correct, running = 0, 0, 0.0
        for x, y in loader:
            logits = model(x)
            loss = loss_fn(logits, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            running += loss.item() * len(y)
            correct += (logits.argmax(1) == y).sum().item()
            total += len(y)
        with tempfile.TemporaryDirectory() as tmp:
            torch.save(model.state_dict(), f"{tmp}/model.pt")
            ray.train.report({"loss": running / total, "acc": correct / total, "epoch": epoch},
                             checkpoint=Checkpoint.from_directory(tmp))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--storage", default="/tmp/ray_results")
    args = ap.parse_args()

    ray.init(address="auto")
    print("cluster resources:", ray.cluster_resources())
    trainer = TorchTrainer(
        train_loop_per_worker,
        train_loop_config={"lr": 1e-3, "batch_size": 512, "epochs": args.epochs},
        scaling_config=ScalingConfig(num_workers=args.workers, use_gpu=True,
                                     resources_per_worker={"GPU": 1, "CPU": 4}),
        run_config=RunConfig(name="embed-train", storage_path=args.storage),
    )
    result = trainer.fit()
    print("final metrics:", result.metrics)
    return result.metrics


if __name__ == "__main__":
    __return__ = main()
