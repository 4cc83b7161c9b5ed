"""A sentence CNN over token ids of any length, annotated `Int64[Tensor, "batch seq"]`: the
embedding gives (N, seq, 64), `transpose(1, 2)` puts the features on the channel axis, and
the max over time leaves 32 features for the head, whatever the length."""
from __future__ import annotations

import torch
import torch.nn as nn
from jaxtyping import Int64
from torch import Tensor


# oracle: input-shape=40
class SentenceCNN(nn.Module):
    def __init__(self, vocab=1000, dim=64, classes=4):
        super().__init__()
        self.embedding = nn.Embedding(vocab, dim)
        self.conv = nn.Conv1d(dim, 32, kernel_size=3, padding=1)
        self.head = nn.Linear(32, classes)

    def forward(self, tokens: Int64[Tensor, "batch seq"]):
        x = self.embedding(tokens).transpose(1, 2)
        x = torch.relu(self.conv(x))
        return self.head(x.amax(dim=2))
