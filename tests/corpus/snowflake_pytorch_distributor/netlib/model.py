"""Residual MLP for tabular regression."""
from torch import nn

from .layers import ResidualBlock


class TabularNet(nn.Module):
    def __init__(self, n_features: int, width: int = 256, depth: int = 4):
        super().__init__()
        self.inp = nn.Linear(n_features, width)
        self.blocks = nn.Sequential(*[ResidualBlock(width) for _ in range(depth)])
        self.out = nn.Linear(width, 1)

    def forward(self, x):
        return self.out(self.blocks(self.inp(x))).squeeze(-1)
