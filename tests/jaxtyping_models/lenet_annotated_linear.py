"""LeNet's head sized for 32x32 inputs, run on the 64x64 images its annotation promises.

Without the annotation every input size is possible and 32..35 fit: nothing to report. With
it, fc1 receives 16*13*13 = 2704 features.
"""
from __future__ import annotations

import torch
import torch.nn as nn
from jaxtyping import Float
from torch import Tensor


# oracle: input-shape=3,64,64
class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 10)

    def forward(self, x: Float[Tensor, "batch 3 64 64"]) -> Float[Tensor, "batch 10"]:
        x = self.pool(torch.relu(self.conv1(x)))
        x = self.pool(torch.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = torch.relu(self.fc1(x))  # expect: CNV103
        return self.fc2(x)
