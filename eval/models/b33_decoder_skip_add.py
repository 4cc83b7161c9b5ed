import torch
import torch.nn as nn


# conv-lint: input-shape=3,64,64
class LinkNetLite(nn.Module):
    def __init__(self, classes=2):
        super().__init__()
        self.enc1 = nn.Sequential(nn.Conv2d(3, 32, 3, stride=2, padding=1), nn.BatchNorm2d(32), nn.ReLU())
        self.enc2 = nn.Sequential(nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.BatchNorm2d(64), nn.ReLU())
        self.enc3 = nn.Sequential(nn.Conv2d(64, 128, 3, stride=2, padding=1), nn.BatchNorm2d(128), nn.ReLU())
        self.dec3 = nn.ConvTranspose2d(128, 64, kernel_size=3, stride=2, padding=1)
        self.dec2 = nn.ConvTranspose2d(64, 32, kernel_size=3, stride=2, padding=1)
        self.dec1 = nn.ConvTranspose2d(32, classes, kernel_size=3, stride=2, padding=1)

    def forward(self, x):
        e1 = self.enc1(x)
        e2 = self.enc2(e1)
        e3 = self.enc3(e2)
        d3 = self.dec3(e3) + e2
        d2 = self.dec2(d3) + e1
        return self.dec1(d2)
