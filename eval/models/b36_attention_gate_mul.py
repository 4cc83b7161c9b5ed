import torch
import torch.nn as nn


class AttentionBlock(nn.Module):
    def __init__(self, F_g, F_l, F_int):
        super(AttentionBlock, self).__init__()
        self.W_g = nn.Sequential(
            nn.Conv2d(F_g, F_int, kernel_size=1, stride=1, padding=0, bias=True),
            nn.BatchNorm2d(F_int)
        )
        self.W_x = nn.Sequential(
            nn.Conv2d(F_l, F_int, kernel_size=1, stride=1, padding=0, bias=True),
            nn.BatchNorm2d(F_int)
        )
        self.psi = nn.Sequential(
            nn.Conv2d(F_int, F_int, kernel_size=1, stride=1, padding=0, bias=True),
            nn.BatchNorm2d(F_int),
            nn.Sigmoid()
        )
        self.relu = nn.ReLU(inplace=True)

    def forward(self, g, x):
        g1 = self.W_g(g)
        x1 = self.W_x(x)
        psi = self.relu(g1 + x1)
        psi = self.psi(psi)
        return x * psi


# conv-lint: input-shape=3,64,64
class AttnUNetLevel(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Sequential(nn.Conv2d(3, 64, 3, padding=1), nn.ReLU(inplace=True))
        self.down = nn.Sequential(nn.MaxPool2d(2), nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(inplace=True))
        self.up = nn.ConvTranspose2d(128, 64, 2, stride=2)
        self.att = AttentionBlock(F_g=64, F_l=64, F_int=32)
        self.dec = nn.Conv2d(128, 64, 3, padding=1)
        self.out = nn.Conv2d(64, 1, 1)

    def forward(self, x):
        skip = self.enc(x)
        g = self.up(self.down(skip))
        skip = self.att(g=g, x=skip)
        x = torch.cat((skip, g), dim=1)
        return self.out(torch.relu(self.dec(x)))
