"""Small tabular MLP for demand forecasting, deliberately pinned to CPU.

Bit-for-bit reproducibility matters more than speed for this model (it feeds
a regulated report), so we never use CUDA even when a GPU is present.
"""
import argparse
import logging
import random

import numpy as np
import pandas as pd
import torch
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

log = logging.getLogger("demand_mlp")

DEVICE = torch.device("cpu")


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)


class MLP(torch.nn.Module):
    def __init__(self, d_in: int, hidden: int = 128):
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Linear(d_in, hidden), torch.nn.ReLU(), torch.nn.Dropout(0.1),
            torch.nn.Linear(hidden, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 1),
        )

    def forward(self, x):
        return self.net(x).squeeze(-1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", default="demand_features.csv")
    ap.add_argument("--epochs", type=int, default=200)
    ap.add_argument("--threads", type=int, default=4)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO)

    if torch.cuda.is_available():
        log.warning("CUDA is available but this job intentionally runs on CPU")
    torch.set_num_threads(args.threads)
    seed_everything(1234)

    df = pd.read_csv(args.csv)
    y = df.pop("units_sold").to_numpy(dtype="float32")
    X = StandardScaler().fit_transform(df.to_numpy(dtype="float32")).astype("float32")
    X_tr, X_va, y_tr, y_va = train_test_split(X, y, test_size=0.2, random_state=0)
    X_tr, y_tr = torch.tensor(X_tr, device=DEVICE), torch.tensor(y_tr, device=DEVICE)
    X_va, y_va = torch.tensor(X_va, device=DEVICE), torch.tensor(y_va, device=DEVICE)

    model = MLP(X.shape[1]).to(DEVICE)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(len(X_tr))
        for i in range(0, len(perm), 512):
            idx = perm[i:i + 512]
            loss = torch.nn.functional.mse_loss(model(X_tr[idx]), y_tr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        if epoch % 20 == 0:
            model.eval()
            with torch.no_grad():
                val = torch.nn.functional.mse_loss(model(X_va), y_va).item()
            log.info("epoch %d val_mse %.4f", epoch, val)
    torch.save(model.state_dict(), "demand_mlp.pt")


if __name__ == "__main__":
    main()
