import torch
from torch.nn import Module, Sequential, Conv1d, BatchNorm1d, ReLU, MaxPool1d, Linear, AdaptiveAvgPool1d


# conv-lint: input-shape=1,16000
class KeywordSpotter(Module):
    def __init__(self, n_input=1, n_output=35, stride=16, n_channel=32):
        super().__init__()
        self.features = Sequential(
            Conv1d(n_input, n_channel, kernel_size=80, stride=stride),
            BatchNorm1d(n_channel),
            ReLU(),
            MaxPool1d(4),
            Conv1d(n_channel, n_channel, kernel_size=3),
            BatchNorm1d(n_channel),
            ReLU(),
            MaxPool1d(4),
            Conv1d(n_channel, 2 * n_channel, kernel_size=3),
            BatchNorm1d(2 * n_channel),
            ReLU(),
            MaxPool1d(4),
            Conv1d(n_channel, 2 * n_channel, kernel_size=3),
            BatchNorm1d(2 * n_channel),
            ReLU(),
            AdaptiveAvgPool1d(1),
        )
        self.fc1 = Linear(2 * n_channel, n_output)

    def forward(self, x):
        x = self.features(x)
        x = x.squeeze(-1)
        return self.fc1(x)
