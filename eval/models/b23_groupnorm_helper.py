import torch
import torch.nn as nn

GN_GROUPS = 32


def conv3x3_gn(in_ch, out_ch, stride=1):
    return nn.Sequential(
        nn.Conv2d(in_ch, out_ch, kernel_size=3, stride=stride, padding=1, bias=False),
        nn.GroupNorm(GN_GROUPS, out_ch),
        nn.ReLU(inplace=True),
    )


# conv-lint: input-shape=3,64,64
class GNNet(nn.Module):
    def __init__(self, num_classes=200):
        super().__init__()
        widths = [32, 48, 96, 192]
        layers = []
        in_ch = 3
        for i, w in enumerate(widths):
            layers.append(conv3x3_gn(in_ch, w, stride=1 if i == 0 else 2))
            in_ch = w
        self.body = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(in_ch, num_classes)

    def forward(self, x):
        x = self.body(x)
        x = self.pool(x)
        x = torch.flatten(x, 1)
        return self.fc(x)
