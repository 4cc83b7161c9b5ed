"""An MLP on flattened MNIST digits, annotated through a module alias with a variadic batch.

The first Linear takes 1000 features where the annotation promises 784.
"""
from __future__ import annotations

import jaxtyping as jt
import torch
import torch.nn as nn


# oracle: input-shape=784
class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(1000, 256), nn.ReLU(), nn.Linear(256, 10))

    def forward(self, x: jt.Shaped[torch.Tensor, "*batch 784"]):
        return self.net(x)  # expect: CNV103
