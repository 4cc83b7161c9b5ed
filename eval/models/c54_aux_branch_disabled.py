import torch
import torch.nn as nn
import torch.nn.functional as F


# conv-lint: input-shape=3,32,32
class NetWithAux(nn.Module):
    def __init__(self, num_classes=10, aux_logits=False):
        super().__init__()
        self.aux_logits = aux_logits
        self.conv1 = nn.Conv2d(3, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.conv3 = nn.Conv2d(64, 128, 3, padding=1)
        self.fc = nn.Linear(128 * 4 * 4, num_classes)
        if aux_logits:
            self.aux_fc = nn.Linear(64 * 8 * 8, num_classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        aux = None
        if self.aux_logits:
            aux = self.aux_fc(torch.flatten(x, 1))
        x = F.max_pool2d(F.relu(self.conv3(x)), 2)
        out = self.fc(torch.flatten(x, 1))
        if aux is not None:
            return out, aux
        return out
