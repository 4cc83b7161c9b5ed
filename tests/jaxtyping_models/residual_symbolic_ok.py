"""A residual block annotated with symbolic sizes: `h w` on the input, any size runs."""
from __future__ import annotations

import torch.nn as nn
from jaxtyping import Float
from torch import Tensor


# oracle: input-shape=64,20,28
class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(64, 64, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.conv2 = nn.Conv2d(64, 64, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU()

    def forward(self, x: Float[Tensor, "b 64 h w"]) -> Float[Tensor, "b 64 h w"]:
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(x + self.bn2(self.conv2(out)))
