import torch
from torch import nn

cfg = [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M']


# conv-lint: input-shape=3,32,32
class VGG(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.features = self._make_layers(cfg)
        self.classifier = nn.Linear(512 * 2 * 2, num_classes)

    def _make_layers(self, cfg):
        layers = []
        in_channels = 3
        for v in cfg:
            if v == 'M':
                layers += [nn.MaxPool2d(kernel_size=2, stride=2)]
            else:
                conv2d = nn.Conv2d(in_channels, v, kernel_size=3, padding=1)
                layers += [conv2d, nn.BatchNorm2d(in_channels), nn.ReLU(inplace=True)]
                in_channels = v
        return nn.Sequential(*layers)

    def forward(self, x):
        out = self.features(x)
        out = out.view(out.size(0), -1)
        out = self.classifier(out)
        return out
