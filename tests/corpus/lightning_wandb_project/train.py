"""Lightning + W&B training entry point for MNIST.

    python train.py --epochs 5 --project mnist-lightning
"""
import argparse

import lightning as L
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.loggers import WandbLogger
from torch.utils.data import DataLoader, random_split
from torchvision import datasets, transforms

from lit_module import LitConvNet


def dataloaders(root: str, batch_size: int):
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    full = datasets.MNIST(root, train=True, download=True, transform=tf)
    train, val = random_split(full, [55000, 5000])
    return (DataLoader(train, batch_size=batch_size, shuffle=True, num_workers=4),
            DataLoader(val, batch_size=512, num_workers=4))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--project", default="mnist-lightning")
    ap.add_argument("--checkpoint-dir", default="checkpoints")
    args = ap.parse_args()

    L.seed_everything(42)
    train_dl, val_dl = dataloaders("./data", args.batch_size)
    logger = WandbLogger(project=args.project, log_model=False)
    trainer = L.Trainer(
        accelerator="gpu",
        devices=1,
        precision="16-mixed",
        max_epochs=args.epochs,
        logger=logger,
        callbacks=[ModelCheckpoint(dirpath=args.checkpoint_dir, monitor="val/acc", mode="max")],
    )
    trainer.fit(LitConvNet(), train_dl, val_dl)


if __name__ == "__main__":
    main()
