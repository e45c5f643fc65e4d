"""Tabular transformer-lite for credit risk, tracked in MLflow (W&B if present).

MLflow is mandatory (the tracking server URI comes from MLFLOW_TRACKING_URI);
Weights & Biases is optional and silently skipped when not installed.
"""
import argparse
import os

import mlflow
import numpy as np
import pandas as pd
import torch
import torch.nn as nn

try:
    import wandb
except ImportError:
    wandb = None


class FeatureTokenizer(nn.Module):
    def __init__(self, n_features: int, d: int):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_features, d) * 0.02)
        self.bias = nn.Parameter(torch.zeros(n_features, d))

    def forward(self, x):
        return x.unsqueeze(-1) * self.weight + self.bias


class TabTransformer(nn.Module):
    def __init__(self, n_features: int, d: int = 32):
        super().__init__()
        self.tok = FeatureTokenizer(n_features, d)
        layer = nn.TransformerEncoderLayer(d, 4, 4 * d, batch_first=True)
        self.enc = nn.TransformerEncoder(layer, 3)
        self.head = nn.Linear(d, 1)

    def forward(self, x):
        return self.head(self.enc(self.tok(x)).mean(1)).squeeze(-1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", default="credit_train.parquet")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--lr", type=float, default=3e-4)
    args = ap.parse_args()

    mlflow.set_tracking_uri(os.environ["MLFLOW_TRACKING_URI"])
    mlflow.set_experiment("credit-risk-tabtransformer")
    device = "cuda" if torch.cuda.is_available() else "cpu"

    df = pd.read_parquet(args.train)
    y = torch.tensor(df.pop("default").to_numpy(np.float32))
    X = torch.tensor(((df - df.mean()) / (df.std() + 1e-6)).to_numpy(np.float32))
    model = TabTransformer(X.shape[1]).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr)
    run = wandb.init(project="credit-risk", config=vars(args)) if wandb else None

    with mlflow.start_run():
        mlflow.log_params(vars(args))
        for epoch in range(args.epochs):
            perm = torch.randperm(len(X))
            for i in range(0, len(X), 1024):
                idx = perm[i:i + 1024]
                xb, yb = X[idx].to(device), y[idx].to(device)
                loss = nn.functional.binary_cross_entropy_with_logits(model(xb), yb)
                opt.zero_grad()
                loss.backward()
                opt.step()
            mlflow.log_metric("train_loss", loss.item(), step=epoch)
            if run:
                run.log({"train_loss": loss.item(), "epoch": epoch})
        mlflow.pytorch.log_model(model, "model")


if __name__ == "__main__":
    main()
