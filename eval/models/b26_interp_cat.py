import torch
import torch.nn as nn
import torch.nn.functional as F


class Down(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, stride=2, padding=1)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


# conv-lint: input-shape=3,60,60
class SegNetLite(nn.Module):
    def __init__(self, num_classes=4):
        super().__init__()
        self.d1 = Down(3, 32)
        self.d2 = Down(32, 64)
        self.d3 = Down(64, 128)
        self.fuse2 = nn.Conv2d(128 + 64, 64, 3, padding=1)
        self.fuse1 = nn.Conv2d(64 + 32, 32, 3, padding=1)
        self.cls = nn.Conv2d(32, num_classes, 1)

    def forward(self, x):
        f1 = self.d1(x)
        f2 = self.d2(f1)
        f3 = self.d3(f2)
        up = F.interpolate(f3, scale_factor=2, mode='bilinear', align_corners=False)
        x = torch.cat([up, f2], dim=1)
        x = F.relu(self.fuse2(x))
        up = F.interpolate(x, scale_factor=2, mode='bilinear', align_corners=False)
        x = torch.cat([up, f1], dim=1)
        x = F.relu(self.fuse1(x))
        return self.cls(x)
