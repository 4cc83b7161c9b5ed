import torch
import torch.nn as nn
import torch.nn.functional as F

N_SENSORS = 9
WINDOW = 128
N_ACTIVITIES = 6


# conv-lint: input-shape=9,128
class HARConvNet(nn.Module):
    """Port of the Keras 1D-CNN for UCI-HAR."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv1d(N_SENSORS, 64, kernel_size=3)
        self.conv2 = nn.Conv1d(64, 64, kernel_size=3)
        self.dropout = nn.Dropout(0.5)
        self.pool = nn.MaxPool1d(2)
        self.fc1 = nn.Linear(64 * (WINDOW // 2), 100)
        self.fc2 = nn.Linear(100, N_ACTIVITIES)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = self.pool(self.dropout(x))
        x = torch.flatten(x, start_dim=1)
        x = F.relu(self.fc1(x))
        return self.fc2(x)
