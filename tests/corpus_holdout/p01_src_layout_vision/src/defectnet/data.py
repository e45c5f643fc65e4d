from pathlib import Path

import torch
from torch.utils.data import DataLoader, WeightedRandomSampler
from torchvision import datasets, transforms as T


def _tfms(size, train):
    norm = T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    if train:
        return T.Compose([T.RandomResizedCrop(size, scale=(0.6, 1.0)), T.RandomHorizontalFlip(),
                          T.RandomVerticalFlip(), T.ColorJitter(0.2, 0.2), T.ToTensor(), norm])
    return T.Compose([T.Resize(size), T.CenterCrop(size), T.ToTensor(), norm])


def build_loaders(cfg):
    root = Path(cfg.root)
    train_ds = datasets.ImageFolder(root / "train", _tfms(cfg.img_size, True))
    val_ds = datasets.ImageFolder(root / "val", _tfms(cfg.img_size, False))
    counts = torch.bincount(torch.tensor(train_ds.targets))
    weights = (1.0 / counts.float())[train_ds.targets]
    sampler = WeightedRandomSampler(weights, num_samples=len(train_ds), replacement=True)
    train_dl = DataLoader(train_ds, cfg.batch_size, sampler=sampler, num_workers=cfg.num_workers,
                          pin_memory=True, drop_last=True, persistent_workers=True)
    val_dl = DataLoader(val_ds, cfg.batch_size * 2, num_workers=cfg.num_workers, pin_memory=True)
    return train_dl, val_dl, train_ds.classes
