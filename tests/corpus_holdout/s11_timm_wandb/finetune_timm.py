"""Fine-tune a timm ConvNeXt on a folder-structured image dataset, logging to W&B."""
import argparse
import math
import os

import timm
import torch
import torch.nn.functional as F
import wandb
from timm.data import resolve_data_config, create_transform
from timm.loss import SoftTargetCrossEntropy
from timm.data.mixup import Mixup
from torch.utils.data import DataLoader
from torchvision.datasets import ImageFolder


def get_args():
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="convnext_small.fb_in22k_ft_in1k")
    p.add_argument("--data", default="/mnt/data/plant_disease")
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--project", default="plant-disease")
    return p.parse_args()


def cosine_lr(step, total, warmup, base):
    if step < warmup:
        return base * step / warmup
    return 0.5 * base * (1 + math.cos(math.pi * (step - warmup) / (total - warmup)))


def main():
    args = get_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    run = wandb.init(project=args.project, config=vars(args))

    n_classes = len(os.listdir(os.path.join(args.data, "train")))
    model = timm.create_model(args.model, pretrained=True, num_classes=n_classes, drop_path_rate=0.2)
    model.to(device)
    cfg = resolve_data_config({}, model=model)
    train_ds = ImageFolder(os.path.join(args.data, "train"), create_transform(**cfg, is_training=True, auto_augment="rand-m9-mstd0.5"))
    val_ds = ImageFolder(os.path.join(args.data, "val"), create_transform(**cfg))
    train_dl = DataLoader(train_ds, args.batch_size, shuffle=True, num_workers=8, pin_memory=True, drop_last=True)
    val_dl = DataLoader(val_ds, args.batch_size * 2, num_workers=8, pin_memory=True)

    mixup = Mixup(mixup_alpha=0.8, cutmix_alpha=1.0, label_smoothing=0.1, num_classes=n_classes)
    crit = SoftTargetCrossEntropy()
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.05)
    scaler = torch.cuda.amp.GradScaler()
    total = args.epochs * len(train_dl)
    step = 0
    for epoch in range(args.epochs):
        model.train()
        for x, y in train_dl:
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            x, y = mixup(x, y)
            for g in opt.param_groups:
                g["lr"] = cosine_lr(step, total, len(train_dl), args.lr)
            with torch.autocast(device_type="cuda", dtype=torch.bfloat16):
                loss = crit(model(x), y)
            opt.zero_grad()
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            if step % 50 == 0:
                wandb.log({"train/loss": loss.item(), "lr": opt.param_groups[0]["lr"]}, step=step)
            step += 1

        model.eval()
        correct = n = 0
        with torch.no_grad():
            for x, y in val_dl:
                pred = model(x.to(device)).argmax(1).cpu()
                correct += (pred == y).sum().item()
                n += len(y)
        wandb.log({"val/acc": correct / n, "epoch": epoch}, step=step)

    torch.save(model.state_dict(), "model.pt")
    art = wandb.Artifact("convnext-plant", type="model")
    art.add_file("model.pt")
    run.log_artifact(art)
    run.finish()


if __name__ == "__main__":
    main()
