import torch
import torch.nn as nn
import torch.nn.functional as F


class GridAttention(nn.Module):
    def __init__(self, in_channels, gating_channels, inter_channels):
        super().__init__()
        self.theta = nn.Conv2d(in_channels, inter_channels, kernel_size=2, stride=2, bias=False)
        self.phi = nn.Conv2d(gating_channels, inter_channels, kernel_size=1)
        self.psi = nn.Conv2d(inter_channels, 1, kernel_size=1)

    def forward(self, x, g):
        theta_x = self.theta(x)
        phi_g = F.interpolate(self.phi(g), size=theta_x.shape[2:], mode='bilinear', align_corners=False)
        f = F.relu(theta_x + phi_g)
        att = torch.sigmoid(self.psi(f))
        att = F.interpolate(att, size=x.shape[2:], mode='bilinear', align_corners=False)
        return x * att


# conv-lint: input-shape=1,96,96
class AttnSegNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc1 = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU())
        self.enc2 = nn.Sequential(nn.MaxPool2d(2), nn.Conv2d(32, 64, 3, padding=1), nn.ReLU())
        self.enc3 = nn.Sequential(nn.MaxPool2d(2), nn.Conv2d(64, 128, 3, padding=1), nn.ReLU())
        self.gate = GridAttention(64, 128, 32)
        self.up = nn.Upsample(scale_factor=2, mode='bilinear', align_corners=False)
        self.dec = nn.Conv2d(128 + 64, 64, 3, padding=1)
        self.final = nn.Conv2d(64, 2, 1)

    def forward(self, x):
        x1 = self.enc1(x)
        x2 = self.enc2(x1)
        x3 = self.enc3(x2)
        gated = self.gate(x2, x3)
        d = torch.cat([self.up(x3), gated], dim=1)
        d = F.relu(self.dec(d))
        return F.interpolate(self.final(d), scale_factor=2, mode='bilinear', align_corners=False)
