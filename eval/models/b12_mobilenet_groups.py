import torch
import torch.nn as nn


def conv_bn(inp, oup, stride):
    return nn.Sequential(
        nn.Conv2d(inp, oup, 3, stride, 1, bias=False),
        nn.BatchNorm2d(oup),
        nn.ReLU(inplace=True)
    )


def conv_dw(inp, oup, stride):
    return nn.Sequential(
        nn.Conv2d(inp, oup, 3, stride, 1, groups=inp, bias=False),
        nn.BatchNorm2d(oup),
        nn.ReLU(inplace=True),
    )


# conv-lint: input-shape=3,96,96
class TinyMobileNet(nn.Module):
    def __init__(self, n_class=2):
        super(TinyMobileNet, self).__init__()
        self.model = nn.Sequential(
            conv_bn(3, 32, 2),
            conv_dw(32, 64, 1),
            conv_dw(64, 96, 2),
            conv_dw(96, 192, 2),
            conv_dw(192, 384, 2),
            nn.AdaptiveAvgPool2d(1),
        )
        self.fc = nn.Linear(384, n_class)

    def forward(self, x):
        x = self.model(x)
        x = x.view(-1, 384)
        x = self.fc(x)
        return x
