import torch
import torch.nn as nn
import torch.nn.functional as F


# conv-lint: input-shape=1,256
class SignalDenoiser(nn.Module):
    def __init__(self, taps=15):
        super().__init__()
        # like np.convolve(x, h, mode='full')
        self.fir = nn.Conv1d(1, 8, kernel_size=taps, padding='full')
        self.mix = nn.Conv1d(8, 1, kernel_size=1)

    def forward(self, x):
        return self.mix(F.relu(self.fir(x)))
