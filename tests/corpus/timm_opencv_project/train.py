"""Train a steel-surface defect classifier (timm backbone, OpenCV loading, AMP on CUDA)."""
import argparse
import os

import torch
from torch.utils.data import DataLoader

from dataset import DefectDataset
from models import build_backbone


def run_epoch(model, loader, opt, scaler, train: bool):
    model.train(train)
    total, correct, loss_sum = 0, 0, 0.0
    for x, y in loader:
        x, y = x.cuda(non_blocking=True), y.cuda(non_blocking=True)
        with torch.set_grad_enabled(train), torch.autocast(device_type="cuda", dtype=torch.float16):
            logits = model(x)
            loss = torch.nn.functional.cross_entropy(logits, y)
        if train:
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        loss_sum += loss.item() * y.size(0)
        correct += (logits.argmax(1) == y).sum().item()
        total += y.size(0)
    return loss_sum / total, correct / total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train-manifest", default="data/train.csv")
    ap.add_argument("--val-manifest", default="data/val.csv")
    ap.add_argument("--backbone", default="convnext_tiny.fb_in22k")
    ap.add_argument("--classes", type=int, default=6)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--output-dir", default="runs/defects")
    args = ap.parse_args()

    train_dl = DataLoader(DefectDataset(args.train_manifest), batch_size=64, shuffle=True, num_workers=8)
    val_dl = DataLoader(DefectDataset(args.val_manifest, train=False), batch_size=128, num_workers=8)
    model = build_backbone(args.backbone, args.classes).cuda()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.05)
    scaler = torch.cuda.amp.GradScaler()
    os.makedirs(args.output_dir, exist_ok=True)
    best = 0.0
    for epoch in range(args.epochs):
        tr = run_epoch(model, train_dl, opt, scaler, True)
        va = run_epoch(model, val_dl, opt, scaler, False)
        print(f"epoch {epoch}: train {tr} val {va}")
        if va[1] > best:
            best = va[1]
            torch.save(model.state_dict(), os.path.join(args.output_dir, "best.pt"))


if __name__ == "__main__":
    main()
