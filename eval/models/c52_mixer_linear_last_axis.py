import torch
import torch.nn as nn


class MixerBlock(nn.Module):
    def __init__(self, num_patches, dim, token_hidden=32, channel_hidden=128):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.token_mlp = nn.Sequential(
            nn.Linear(num_patches, token_hidden), nn.GELU(), nn.Linear(token_hidden, num_patches)
        )
        self.norm2 = nn.LayerNorm(dim)
        self.channel_mlp = nn.Sequential(
            nn.Linear(dim, channel_hidden), nn.GELU(), nn.Linear(channel_hidden, dim)
        )

    def forward(self, x):
        # x: (batch, patches, dim)
        y = self.norm1(x).transpose(1, 2)
        x = x + self.token_mlp(y).transpose(1, 2)
        x = x + self.channel_mlp(self.norm2(x))
        return x


# conv-lint: input-shape=3,32,32
class MLPMixer(nn.Module):
    def __init__(self, patch=8, dim=64, depth=2, num_classes=10):
        super().__init__()
        num_patches = (32 // patch) ** 2
        self.stem = nn.Conv2d(3, dim, kernel_size=patch, stride=patch)
        self.blocks = nn.Sequential(*[MixerBlock(num_patches, dim) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, x):
        x = self.stem(x)                      # (N, dim, 4, 4)
        x = x.flatten(2).transpose(1, 2)      # (N, 16, dim)
        x = self.blocks(x)
        x = self.norm(x)
        return self.head(x.mean(dim=1))
