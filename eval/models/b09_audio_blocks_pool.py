import torch
import torch.nn as nn
import torch.nn.functional as F


class ConvBlock(nn.Module):
    def __init__(self, in_ch, out_ch, pool=4):
        super().__init__()
        self.conv = nn.Conv1d(in_ch, out_ch, kernel_size=3, padding=1)
        self.bn = nn.BatchNorm1d(out_ch)
        self.pool = nn.MaxPool1d(pool)

    def forward(self, x):
        return self.pool(F.relu(self.bn(self.conv(x))))


# conv-lint: input-shape=1,1000
class RawAudioNet(nn.Module):
    def __init__(self, n_classes=35):
        super().__init__()
        channels = [1, 16, 32, 64, 128, 128]
        self.blocks = nn.ModuleList(
            [ConvBlock(channels[i], channels[i + 1]) for i in range(len(channels) - 1)]
        )
        self.fc = nn.Linear(128, n_classes)

    def forward(self, x):
        for blk in self.blocks:
            x = blk(x)
        x = x.mean(dim=-1)
        return self.fc(x)
