import torch
import torch.nn as nn
import torch.nn.functional as F


# conv-lint: input-shape=3,16,16
class TinyImageNet16(nn.Module):
    def __init__(self, deep=True, num_classes=10):
        super().__init__()
        self.deep = deep
        self.conv1 = nn.Conv2d(3, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.conv3 = nn.Conv2d(64, 128, 3, padding=1)
        self.conv4 = nn.Conv2d(128, 128, 3, padding=1)
        self.fc = nn.Linear(128, num_classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.max_pool2d(F.relu(self.conv3(x)), 2)
        x = F.max_pool2d(F.relu(self.conv4(x)), 2)
        if self.deep:
            x = F.max_pool2d(x, 2)
        else:
            x = F.adaptive_max_pool2d(x, 1)
        x = x.view(x.size(0), -1)
        return self.fc(x)
