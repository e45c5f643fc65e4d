import os
import tempfile

import torch
import torch.nn.functional as F
import ray.train
from ray.train import Checkpoint
from ray.train.torch import prepare_model, get_device
from sklearn.metrics import roc_auc_score

from trainer.model import FTTransformer
from trainer.data import LABEL


def _tensors(batch, cfg, device):
    x_num = torch.as_tensor(batch[cfg["num_cols"]].to_numpy(), device=device)
    x_cat = torch.as_tensor(batch[cfg["cat_cols"]].to_numpy().astype("int64"), device=device)
    y = torch.as_tensor(batch[LABEL].to_numpy().astype("float32"), device=device)
    return x_num, x_cat, y


def train_loop_per_worker(cfg):
    device = get_device()
    model = prepare_model(FTTransformer(len(cfg["num_cols"]), cfg["cards"]))
    opt = torch.optim.AdamW(model.parameters(), lr=cfg["lr"], weight_decay=1e-5)
    train_shard = ray.train.get_dataset_shard("train")
    val_shard = ray.train.get_dataset_shard("val")
    for epoch in range(cfg["epochs"]):
        model.train()
        for batch in train_shard.iter_batches(batch_size=cfg["batch_size"], batch_format="pandas"):
            x_num, x_cat, y = _tensors(batch, cfg, device)
            loss = F.binary_cross_entropy_with_logits(model(x_num, x_cat), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        model.eval()
        ys, ps = [], []
        with torch.no_grad():
            for batch in val_shard.iter_batches(batch_size=8192, batch_format="pandas"):
                x_num, x_cat, y = _tensors(batch, cfg, device)
                ps.append(torch.sigmoid(model(x_num, x_cat)).cpu())
                ys.append(y.cpu())
        auc = roc_auc_score(torch.cat(ys).numpy(), torch.cat(ps).numpy())
        with tempfile.TemporaryDirectory() as d:
            ckpt = None
            if ray.train.get_context().get_world_rank() == 0:
                torch.save(model.state_dict(), os.path.join(d, "model.pt"))
                ckpt = Checkpoint.from_directory(d)
            ray.train.report({"epoch": epoch, "loss": loss.item(), "val_auc": auc}, checkpoint=ckpt)
