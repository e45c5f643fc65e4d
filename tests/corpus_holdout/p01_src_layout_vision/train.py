"""Entry point: python train.py [--config configs/default.yaml] [key=value overrides]"""
import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "src"))

from omegaconf import OmegaConf  # noqa: E402
import torch  # noqa: E402

from defectnet.data import build_loaders  # noqa: E402
from defectnet.model import DefectClassifier  # noqa: E402
from defectnet import engine  # noqa: E402


def load_cfg():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default=str(ROOT / "configs" / "default.yaml"))
    known, overrides = ap.parse_known_args()
    cfg = OmegaConf.load(known.config)
    return OmegaConf.merge(cfg, OmegaConf.from_dotlist(overrides))


def main():
    cfg = load_cfg()
    print(OmegaConf.to_yaml(cfg))
    torch.manual_seed(cfg.seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    train_dl, val_dl, classes = build_loaders(cfg.data)
    model = DefectClassifier(len(classes), cfg.model).to(device)
    best = engine.fit(model, train_dl, val_dl, cfg.optim, device)
    print(f"best val f1: {best:.4f}")


if __name__ == "__main__":
    main()
