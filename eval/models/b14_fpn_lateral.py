import torch
import torch.nn as nn
import torch.nn.functional as F


class Backbone(nn.Module):
    def __init__(self):
        super().__init__()
        self.c2 = nn.Sequential(nn.Conv2d(3, 64, 3, 2, 1), nn.ReLU())
        self.c3 = nn.Sequential(nn.Conv2d(64, 128, 3, 2, 1), nn.ReLU())
        self.c4 = nn.Sequential(nn.Conv2d(128, 256, 3, 2, 1), nn.ReLU())
        self.c5 = nn.Sequential(nn.Conv2d(256, 512, 3, 2, 1), nn.ReLU())

    def forward(self, x):
        c2 = self.c2(x)
        c3 = self.c3(c2)
        c4 = self.c4(c3)
        c5 = self.c5(c4)
        return c2, c3, c4, c5


# conv-lint: input-shape=3,128,128
class FPN(nn.Module):
    def __init__(self, out_channels=256):
        super().__init__()
        self.backbone = Backbone()
        # lateral 1x1 convs (ResNet-50 channel counts)
        self.lat5 = nn.Conv2d(2048, out_channels, 1)
        self.lat4 = nn.Conv2d(256, out_channels, 1)
        self.lat3 = nn.Conv2d(128, out_channels, 1)
        self.lat2 = nn.Conv2d(64, out_channels, 1)
        self.smooth = nn.Conv2d(out_channels, out_channels, 3, padding=1)

    def forward(self, x):
        c2, c3, c4, c5 = self.backbone(x)
        p5 = self.lat5(c5)
        p4 = self.lat4(c4) + F.interpolate(p5, scale_factor=2, mode="nearest")
        p3 = self.lat3(c3) + F.interpolate(p4, scale_factor=2, mode="nearest")
        p2 = self.lat2(c2) + F.interpolate(p3, scale_factor=2, mode="nearest")
        return self.smooth(p2)
