#!/usr/bin/env python
"""Binary building-footprint segmentation with a U-Net (segmentation_models_pytorch).

Tiles are PNG pairs under --data-dir (image/, mask/), mounted from a stage.
Encoder is trained from scratch (no internet in the job).
"""
import argparse
import glob
import os
import random
import time

import cv2
import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, Dataset
import albumentations as A
from albumentations.pytorch import ToTensorV2
import segmentation_models_pytorch as smp


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)
    torch.backends.cudnn.benchmark = True


class TileDataset(Dataset):
    def __init__(self, root, split, transform=None):
        self.images = sorted(glob.glob(os.path.join(root, split, "image", "*.png")))
        self.transform = transform

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        path = self.images[i]
        img = cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2RGB)
        mask = cv2.imread(path.replace("/image/", "/mask/"), cv2.IMREAD_GRAYSCALE)
        mask = (mask > 127).astype(np.float32)
        if self.transform:
            out = self.transform(image=img, mask=mask)
            img, mask = out["image"], out["mask"]
        return img, mask.unsqueeze(0)


def build_transforms(size):
    train = A.Compose([
        A.RandomResizedCrop(size=(size, size), scale=(0.5, 1.0)),
        A.HorizontalFlip(), A.VerticalFlip(), A.RandomRotate90(),
        A.ColorJitter(0.2, 0.2, 0.2, 0.05, p=0.5),
        A.Normalize(), ToTensorV2(),
    ])
    val = A.Compose([A.Resize(size, size), A.Normalize(), ToTensorV2()])
    return train, val


@torch.no_grad()
def evaluate(model, loader, device):
    model.eval()
    tp = fp = fn = 0
    for x, y in loader:
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        with torch.autocast("cuda", dtype=torch.float16):
            pred = (model(x).sigmoid() > 0.5).float()
        tp += (pred * y).sum().item()
        fp += (pred * (1 - y)).sum().item()
        fn += ((1 - pred) * y).sum().item()
    return tp / max(tp + fp + fn, 1)


def main(args):
    seed_everything(args.seed)
    device = torch.device("cuda")
    t_train, t_val = build_transforms(args.size)
    dl_train = DataLoader(TileDataset(args.data_dir, "train", t_train), batch_size=args.bs,
                          shuffle=True, num_workers=8, pin_memory=True, drop_last=True)
    dl_val = DataLoader(TileDataset(args.data_dir, "val", t_val), batch_size=args.bs,
                        num_workers=8, pin_memory=True)

    model = smp.Unet(encoder_name=args.encoder, encoder_weights=None, in_channels=3, classes=1)
    model = model.to(device).to(memory_format=torch.channels_last)
    dice = smp.losses.DiceLoss(mode="binary", from_logits=True)
    bce = nn.BCEWithLogitsLoss()
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=args.epochs * len(dl_train))
    scaler = torch.cuda.amp.GradScaler()

    best = 0.0
    for epoch in range(args.epochs):
        model.train()
        t0 = time.time()
        for x, y in dl_train:
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            opt.zero_grad(set_to_none=True)
            with torch.autocast("cuda", dtype=torch.float16):
                logits = model(x)
                loss = dice(logits, y) + bce(logits, y)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            sched.step()
        iou = evaluate(model, dl_val, device)
        print(f"epoch {epoch} loss {loss.item():.4f} iou {iou:.4f} ({time.time() - t0:.0f}s)")
        if iou > best:
            best = iou
            torch.save(model.state_dict(), os.path.join(args.out_dir, "unet_best.pt"))


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--data-dir", default="/mnt/data/tiles")
    p.add_argument("--out-dir", default="/mnt/job_stage/output")
    p.add_argument("--encoder", default="resnet34")
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--bs", type=int, default=16)
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--seed", type=int, default=42)
    main(p.parse_args())
