import math
import torch
import torch.nn as nn


class ECALayer(nn.Module):
    """Efficient channel attention with an adaptive 1-d kernel."""

    def __init__(self, channels, gamma=2, b=1):
        super(ECALayer, self).__init__()
        t = int(abs((math.log(channels, 2) - b) / gamma))
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.conv = nn.Conv1d(1, 1, kernel_size=t, padding=(t - 1) // 2, bias=False)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        y = self.avg_pool(x)
        y = self.conv(y.squeeze(-1).transpose(-1, -2)).transpose(-1, -2).unsqueeze(-1)
        return x * self.sigmoid(y)


# conv-lint: input-shape=3,32,32
class ECANet(nn.Module):
    def __init__(self):
        super(ECANet, self).__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, padding=1)
        self.eca1 = ECALayer(4)
        self.conv2 = nn.Conv2d(4, 16, 3, padding=1)
        self.eca2 = ECALayer(16)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = self.eca1(torch.relu(self.conv1(x)))
        x = self.eca2(torch.relu(self.conv2(x)))
        x = torch.mean(x, dim=(2, 3))
        return self.fc(x)
