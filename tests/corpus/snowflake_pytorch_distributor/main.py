"""Train TabularNet across several GPU nodes with Snowflake's PyTorchDistributor.

Each worker receives a shard of the Snowflake table through a DataConnector
and trains with DDP; the distributor handles process groups across nodes.
"""
import argparse

import torch
import torch.distributed as dist
from snowflake.ml.data.data_connector import DataConnector
from snowflake.ml.modeling.distributors.pytorch import (
    PyTorchDistributor,
    PyTorchScalingConfig,
    WorkerResourceConfig,
    get_context,
)
from snowflake.snowpark import Session

from netlib.model import TabularNet

FEATURES = ["F_%02d" % i for i in range(32)]
LABEL = "TARGET"


def train_func():
    ctx = get_context()
    rank, local_rank = ctx.get_rank(), ctx.get_local_rank()
    dist.init_process_group(backend="nccl")
    device = torch.device(f"cuda:{local_rank}")
    hp = ctx.get_hyper_params()

    shard = ctx.get_dataset_map()["train"].get_shard().to_torch_dataset(batch_size=int(hp["batch_size"]))
    model = torch.nn.parallel.DistributedDataParallel(TabularNet(len(FEATURES)).to(device),
                                                      device_ids=[local_rank])
    opt = torch.optim.AdamW(model.parameters(), lr=float(hp["lr"]))
    for epoch in range(int(hp["epochs"])):
        for batch in shard:
            x = torch.stack([batch[f] for f in FEATURES], dim=1).float().to(device)
            y = batch[LABEL].float().to(device)
            loss = torch.nn.functional.mse_loss(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        if rank == 0:
            print(f"epoch {epoch} loss {loss.item():.4f}")
    if rank == 0:
        torch.save(model.module.state_dict(), "/tmp/tabularnet.pt")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--table", default="ML.RISK.FEATURES_WIDE")
    ap.add_argument("--nodes", type=int, default=4)
    ap.add_argument("--epochs", type=int, default=5)
    args = ap.parse_args()

    session = Session.builder.getOrCreate()
    df = session.table(args.table).select(*FEATURES, LABEL)
    distributor = PyTorchDistributor(
        train_func=train_func,
        scaling_config=PyTorchScalingConfig(
            num_nodes=args.nodes,
            num_workers_per_node=1,
            resource_requirements_per_worker=WorkerResourceConfig(num_cpus=4, num_gpus=1),
        ),
    )
    response = distributor.run(
        dataset_map={"train": DataConnector.from_dataframe(df)},
        hyper_params={"lr": "1e-3", "batch_size": "1024", "epochs": str(args.epochs)},
    )
    print(response)


if __name__ == "__main__":
    main()
