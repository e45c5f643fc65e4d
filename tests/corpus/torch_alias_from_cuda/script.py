"""Sequence autoencoder for sensor anomaly detection.

Written against an aliased torch import (``import torch as t``) and the
``from torch import cuda, nn`` form, the way the original notebook did it.
"""
import argparse
import math

import numpy as np
import torch as t
from torch import cuda, nn
from torch.utils.data import DataLoader, TensorDataset


class LSTMAutoencoder(nn.Module):
    def __init__(self, n_features: int, hidden: int = 64, latent: int = 16):
        super().__init__()
        self.encoder = nn.LSTM(n_features, hidden, batch_first=True)
        self.to_latent = nn.Linear(hidden, latent)
        self.from_latent = nn.Linear(latent, hidden)
        self.decoder = nn.LSTM(hidden, n_features, batch_first=True)

    def forward(self, x):
        _, (h, _) = self.encoder(x)
        z = self.to_latent(h[-1])
        rep = self.from_latent(z).unsqueeze(1).repeat(1, x.size(1), 1)
        out, _ = self.decoder(rep)
        return out


def synthetic_windows(n: int, length: int, features: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = np.sin(np.linspace(0, 8 * math.pi, length))[None, :, None]
    noise = rng.normal(scale=0.1, size=(n, length, features))
    return (base + noise).astype("float32")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--windows", type=int, default=20000)
    args = ap.parse_args()

    x = t.from_numpy(synthetic_windows(args.windows, 128, 8, seed=0))
    loader = DataLoader(TensorDataset(x), batch_size=args.batch_size, shuffle=True, num_workers=2)

    model = LSTMAutoencoder(8)
    if cuda.is_available():
        model = model.cuda()
        print("training on", cuda.get_device_name(0))
    opt = t.optim.AdamW(model.parameters(), lr=2e-3)
    loss_fn = nn.MSELoss()

    for epoch in range(args.epochs):
        total = 0.0
        for (batch,) in loader:
            if cuda.is_available():
                batch = batch.cuda(non_blocking=True)
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(batch), batch)
            loss.backward()
            opt.step()
            total += loss.item() * batch.size(0)
        print(f"epoch {epoch:03d} loss {total / len(x):.5f}")

    t.save(model.state_dict(), "lstm_ae.pt")


if __name__ == "__main__":
    main()
