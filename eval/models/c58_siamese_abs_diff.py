import torch
import torch.nn as nn
import torch.nn.functional as F


# conv-lint: input-shape=2,105,105
class SiameseOmniglot(nn.Module):
    """Koch et al. siamese network; the two images arrive stacked on the channel axis."""

    def __init__(self):
        super(SiameseOmniglot, self).__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(1, 64, 10),      # 64 x 96 x 96
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),           # 64 x 48 x 48
            nn.Conv2d(64, 128, 7),     # 128 x 42 x 42
            nn.ReLU(),
            nn.MaxPool2d(2),           # 128 x 21 x 21
            nn.Conv2d(128, 128, 4),    # 128 x 18 x 18
            nn.ReLU(),
            nn.MaxPool2d(2),           # 128 x 9 x 9
            nn.Conv2d(128, 256, 4),    # 256 x 6 x 6
            nn.ReLU(),
        )
        self.liner = nn.Sequential(nn.Linear(9216, 4096), nn.Sigmoid())
        self.out = nn.Linear(4096, 1)

    def forward_one(self, x):
        x = self.conv(x)
        x = x.view(x.size()[0], -1)
        x = self.liner(x)
        return x

    def forward(self, x):
        out1 = self.forward_one(x[:, :1])
        out2 = self.forward_one(x[:, 1:])
        dis = torch.abs(out1 - out2)
        return self.out(dis)
