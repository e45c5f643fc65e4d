"""Distributed training of a tabular transformer with Ray Train across the job's nodes."""
import argparse

import ray
from ray.train import RunConfig, ScalingConfig, CheckpointConfig
from ray.train.torch import TorchTrainer

from trainer.data import load_ray_datasets
from trainer.loop import train_loop_per_worker


def parse():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=8, help="total GPU workers across nodes")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--batch-size", type=int, default=2048)
    ap.add_argument("--storage", default="/mnt/job_stage/output/ray")
    return ap.parse_args()


def main():
    args = parse()
    ray.init(address="auto")
    print("cluster resources:", ray.cluster_resources())
    train_ds, val_ds, meta = load_ray_datasets("ML.FEATURES.TXN_TRAIN", "ML.FEATURES.TXN_VAL")

    trainer = TorchTrainer(
        train_loop_per_worker,
        train_loop_config={"epochs": args.epochs, "batch_size": args.batch_size, "lr": 1e-3, **meta},
        scaling_config=ScalingConfig(num_workers=args.workers, use_gpu=True,
                                     resources_per_worker={"GPU": 1, "CPU": 6}),
        datasets={"train": train_ds, "val": val_ds},
        run_config=RunConfig(name="ft-transformer", storage_path=args.storage,
                             checkpoint_config=CheckpointConfig(num_to_keep=2,
                                                                checkpoint_score_attribute="val_auc",
                                                                checkpoint_score_order="max")),
    )
    result = trainer.fit()
    print("final metrics:", result.metrics)
    print("best checkpoint:", result.best_checkpoints[0][0].path)


if __name__ == "__main__":
    main()
