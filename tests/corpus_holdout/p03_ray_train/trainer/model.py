import torch
import torch.nn as nn


class FTTransformer(nn.Module):
    def __init__(self, n_num, cards, d=64, depth=4, heads=8, dropout=0.1):
        super().__init__()
        self.num_w = nn.Parameter(torch.randn(n_num, d) * 0.02)
        self.num_b = nn.Parameter(torch.zeros(n_num, d))
        self.cat_emb = nn.ModuleList([nn.Embedding(c, d) for c in cards])
        self.cls = nn.Parameter(torch.zeros(1, 1, d))
        layer = nn.TransformerEncoderLayer(d, heads, 4 * d, dropout, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, depth)
        self.head = nn.Sequential(nn.LayerNorm(d), nn.ReLU(), nn.Linear(d, 1))

    def forward(self, x_num, x_cat):
        tok = x_num.unsqueeze(-1) * self.num_w + self.num_b
        cats = torch.stack([emb(x_cat[:, i]) for i, emb in enumerate(self.cat_emb)], dim=1)
        h = torch.cat([self.cls.expand(len(x_num), -1, -1), tok, cats], dim=1)
        return self.head(self.encoder(h)[:, 0]).squeeze(-1)
