import torch
import torch.nn as nn
import torch.nn.functional as F


def conv3x3(cin, cout, stride=1):
    return nn.Conv2d(cin, cout, kernel_size=3, stride=stride, padding=1, bias=False)


# conv-lint: input-shape=3,100,100
class FPNHead(nn.Module):
    def __init__(self, fpn_dim=128, num_classes=21):
        super().__init__()
        self.stage1 = nn.Sequential(conv3x3(3, 64, 2), nn.BatchNorm2d(64), nn.ReLU(inplace=True))
        self.stage2 = nn.Sequential(conv3x3(64, 128, 2), nn.BatchNorm2d(128), nn.ReLU(inplace=True))
        self.stage3 = nn.Sequential(conv3x3(128, 256, 2), nn.BatchNorm2d(256), nn.ReLU(inplace=True))
        self.stage4 = nn.Sequential(conv3x3(256, 512, 2), nn.BatchNorm2d(512), nn.ReLU(inplace=True))
        self.lateral = nn.ModuleList([nn.Conv2d(c, fpn_dim, 1) for c in (64, 128, 256, 512)])
        self.classifier = nn.Conv2d(fpn_dim, num_classes, 1)

    def forward(self, x):
        c1 = self.stage1(x)
        c2 = self.stage2(c1)
        c3 = self.stage3(c2)
        c4 = self.stage4(c3)
        p4 = self.lateral[3](c4)
        p3 = self.lateral[2](c3) + F.interpolate(p4, size=c3.shape[-2:], mode='nearest')
        p2 = self.lateral[1](c2) + F.interpolate(p3, size=c2.shape[-2:], mode='nearest')
        p1 = self.lateral[0](c1) + F.interpolate(p2, size=c1.shape[-2:], mode='nearest')
        out = self.classifier(p1)
        return F.interpolate(out, size=x.shape[-2:], mode='bilinear', align_corners=False)
