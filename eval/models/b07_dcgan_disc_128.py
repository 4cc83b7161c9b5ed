import torch
from torch.nn import Module, Sequential, Conv2d, BatchNorm2d, LeakyReLU, Flatten, Linear, Sigmoid

ndf = 64


# conv-lint: input-shape=3,128,128
class Discriminator(Module):
    def __init__(self):
        super().__init__()
        self.net = Sequential(
            Conv2d(3, ndf, 4, 2, 1, bias=False),
            LeakyReLU(0.2, inplace=True),
            Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
            BatchNorm2d(ndf * 2),
            LeakyReLU(0.2, inplace=True),
            Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False),
            BatchNorm2d(ndf * 4),
            LeakyReLU(0.2, inplace=True),
            Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False),
            BatchNorm2d(ndf * 8),
            LeakyReLU(0.2, inplace=True),
            Flatten(),
            Linear(ndf * 8 * 4 * 4, 1),
            Sigmoid(),
        )

    def forward(self, img):
        validity = self.net(img)
        return validity
