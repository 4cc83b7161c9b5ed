import torch
import torch.nn as nn


class KerasConv(nn.Module):
    """Conv2D(filters, k, strides, padding='same') + BN + ReLU, as in the Keras original."""

    def __init__(self, in_ch, out_ch, kernel_size=3, stride=1):
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, kernel_size, stride=stride, padding='same', bias=False)
        self.bn = nn.BatchNorm2d(out_ch)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


# conv-lint: input-shape=3,64,64
class KerasPortNet(nn.Module):
    def __init__(self, num_classes=5):
        super().__init__()
        self.block1 = KerasConv(3, 32)
        self.block2 = KerasConv(32, 64, stride=2)
        self.block3 = KerasConv(64, 128, stride=2)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.out = nn.Linear(128, num_classes)

    def forward(self, x):
        x = self.block1(x)
        x = self.block2(x)
        x = self.block3(x)
        x = self.gap(x).flatten(1)
        return self.out(x)
