import torch
import torch.nn as nn


class ResNeXtBlock(nn.Module):
    def __init__(self, in_ch, out_ch, cardinality=32, base_width=4, stride=1):
        super().__init__()
        width = cardinality * base_width
        self.conv1 = nn.Conv2d(in_ch, width, 1, bias=False)
        self.gn1 = nn.GroupNorm(32, width)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=1, groups=cardinality, bias=False)
        self.gn2 = nn.GroupNorm(32, width)
        self.conv3 = nn.Conv2d(width, out_ch, 1, bias=False)
        self.gn3 = nn.GroupNorm(32, out_ch)
        self.relu = nn.ReLU(inplace=True)
        if stride != 1 or in_ch != out_ch:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_ch, out_ch, 1, stride=stride, bias=False),
                nn.GroupNorm(32, out_ch),
            )
        else:
            self.shortcut = nn.Identity()

    def forward(self, x):
        out = self.relu(self.gn1(self.conv1(x)))
        out = self.relu(self.gn2(self.conv2(out)))
        out = self.gn3(self.conv3(out))
        return self.relu(out + self.shortcut(x))


# conv-lint: input-shape=3,64,64
class ResNeXtTiny(nn.Module):
    def __init__(self, num_classes=200):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 64, 3, stride=1, padding=1, bias=False),
            nn.GroupNorm(32, 64),
            nn.ReLU(inplace=True),
        )
        stages = []
        in_ch = 64
        for out_ch, stride in [(256, 1), (512, 2), (1024, 2)]:
            stages.append(ResNeXtBlock(in_ch, out_ch, stride=stride))
            in_ch = out_ch
        self.stages = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(in_ch, num_classes)

    def forward(self, x):
        x = self.stages(self.stem(x))
        x = torch.flatten(self.pool(x), 1)
        return self.fc(x)
