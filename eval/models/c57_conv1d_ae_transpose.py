import torch
import torch.nn as nn


# conv-lint: input-shape=2,256
class ECGAutoencoder(nn.Module):
    def __init__(self, in_ch=2, base=16):
        super().__init__()
        self.enc1 = nn.Sequential(nn.Conv1d(in_ch, base, 7, stride=2, padding=3), nn.GroupNorm(4, base), nn.ReLU())
        self.enc2 = nn.Sequential(nn.Conv1d(base, base * 2, 5, stride=2, padding=2), nn.GroupNorm(8, base * 2), nn.ReLU())
        self.enc3 = nn.Sequential(nn.Conv1d(base * 2, base * 4, 3, stride=2, padding=1), nn.GroupNorm(8, base * 4), nn.ReLU())
        self.dec3 = nn.ConvTranspose1d(base * 4, base * 2, 3, stride=2, padding=1, output_padding=1)
        self.dec2 = nn.ConvTranspose1d(base * 2, base, 4, stride=2, padding=1)
        self.dec1 = nn.ConvTranspose1d(base, in_ch, 4, stride=2, padding=1)

    def forward(self, x):
        e1 = self.enc1(x)     # 128
        e2 = self.enc2(e1)    # 64
        e3 = self.enc3(e2)    # 32
        d = torch.relu(self.dec3(e3)) + e2
        d = torch.relu(self.dec2(d)) + e1
        return self.dec1(d)
