import torch
import torch.nn as nn
import torch.nn.functional as F


class Encoder(nn.Module):
    def __init__(self, emb_dim=128):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 5)
        self.conv2 = nn.Conv2d(32, 64, 5)
        self.fc = nn.Linear(64 * 13 * 13, emb_dim)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        return self.fc(x)


# pairs are stacked on the channel axis: x[:, 0] and x[:, 1]
# conv-lint: input-shape=2,64,64
class SiameseNet(nn.Module):
    def __init__(self, emb_dim=128):
        super().__init__()
        self.encoder = Encoder(emb_dim)
        self.head = nn.Sequential(
            nn.Linear(emb_dim, 64),
            nn.ReLU(),
            nn.Linear(64, 1),
        )

    def forward(self, x):
        a = self.encoder(x[:, 0:1])
        b = self.encoder(x[:, 1:2])
        pair = torch.cat([a, b], dim=1)
        return torch.sigmoid(self.head(pair))
