from collections import OrderedDict

import torch
import torch.nn as nn


def make_stage(in_c, out_c, n_convs):
    layers = []
    for _ in range(n_convs):
        layers.append(nn.Conv2d(in_c, out_c, kernel_size=3, padding=1))
        layers.append(nn.ReLU(inplace=True))
        in_c = out_c
    layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
    return nn.Sequential(*layers)


# conv-lint: input-shape=3,224,224
class VGG11(nn.Module):
    def __init__(self, num_classes=1000):
        super().__init__()
        self.features = nn.Sequential(
            make_stage(3, 64, 1),
            make_stage(64, 128, 1),
            make_stage(128, 256, 2),
            make_stage(256, 512, 2),
            make_stage(512, 512, 2),
        )
        # global pooling to make the head input-size independent
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.classifier = nn.Sequential(OrderedDict([
            ('fc6', nn.Linear(512 * 7 * 7, 4096)),
            ('relu6', nn.ReLU(inplace=True)),
            ('drop6', nn.Dropout()),
            ('fc7', nn.Linear(4096, 4096)),
            ('relu7', nn.ReLU(inplace=True)),
            ('drop7', nn.Dropout()),
            ('fc8', nn.Linear(4096, num_classes)),
        ]))

    def forward(self, x):
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        x = self.classifier(x)
        return x
