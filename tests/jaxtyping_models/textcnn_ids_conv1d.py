"""A sentence CNN whose token ids are annotated `Int[Tensor, "b 50"]`: the embedding gives
(N, 50, 64), and the Conv1d after `transpose(1, 2)` was sized for 50 channels, the sequence
length, where the embedding puts its 64 features."""
from __future__ import annotations

import torch
import torch.nn as nn
from jaxtyping import Int
from torch import Tensor


# oracle: input-shape=50
class SentenceCNN(nn.Module):
    def __init__(self, vocab=1000, dim=64, classes=4):
        super().__init__()
        self.embedding = nn.Embedding(vocab, dim)
        self.conv = nn.Conv1d(50, 32, kernel_size=3, padding=1)
        self.head = nn.Linear(32, classes)

    def forward(self, tokens: Int[Tensor, "b 50"]):
        x = self.embedding(tokens).transpose(1, 2)
        x = torch.relu(self.conv(x))  # expect: CNV101
        return self.head(x.amax(dim=2))
