"""A small CIFAR net whose annotation gives the input shape: explain shows torch's shapes."""
from __future__ import annotations

import torch
import torch.nn as nn
from jaxtyping import Float as F


# oracle: input-shape=3,32,32
class CifarNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Linear(64 * 8 * 8, 10)

    def forward(self, images: F[torch.Tensor, "batch 3 32 32"]):
        return self.classifier(self.features(images).flatten(1))
