"""Two views of one image, one branch strided by mistake, concatenated on the channels.

The annotation names the sizes of both inputs `h w`: the same symbols, so the maps differ for
every input size (h against floor((h - 3)/2) + 1). Unannotated, the inputs are two unrelated
sizes and the cat may fit.
"""
from __future__ import annotations

import torch
import torch.nn as nn
from jaxtyping import Float
from torch import Tensor


# oracle: input-shape=3,32,32
class Siamese(nn.Module):
    def __init__(self):
        super().__init__()
        self.left = nn.Conv2d(3, 16, 3, padding=1)
        self.right = nn.Conv2d(3, 16, 3, stride=2)
        self.head = nn.Conv2d(32, 8, 1)

    def forward(self, x: Float[Tensor, "b 3 h w"], y: Float[Tensor, "b 3 h w"]):
        both = torch.cat([self.left(x), self.right(y)], dim=1)  # expect: CNV107
        return self.head(both)
