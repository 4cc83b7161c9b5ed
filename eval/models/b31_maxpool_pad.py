import torch
import torch.nn as nn


# conv-lint: input-shape=3,64,64
class OverlapPoolNet(nn.Module):
    def __init__(self, num_classes=10):
        super(OverlapPoolNet, self).__init__()
        self.conv1 = nn.Conv2d(3, 48, kernel_size=5, padding=2)
        self.pool1 = nn.MaxPool2d(kernel_size=3, stride=2, padding=2)
        self.conv2 = nn.Conv2d(48, 96, kernel_size=3, padding=1)
        self.pool2 = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(96, num_classes)

    def forward(self, x):
        x = self.pool1(torch.relu(self.conv1(x)))
        x = self.pool2(torch.relu(self.conv2(x)))
        x = self.gap(x).view(x.size(0), -1)
        return self.fc(x)
