import torch
import torch.nn


# conv-lint: input-shape=3,32,32
class MLP(torch.nn.Module):
    def __init__(self, hidden=512, num_classes=10):
        super().__init__()
        self.layers = torch.nn.Sequential(
            torch.nn.Flatten(),
            torch.nn.Linear(28 * 28, hidden),
            torch.nn.ReLU(),
            torch.nn.Linear(hidden, hidden),
            torch.nn.ReLU(),
            torch.nn.Linear(hidden, num_classes),
        )

    def forward(self, x):
        return self.layers(x)
