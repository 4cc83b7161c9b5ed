import torch


# conv-lint: input-shape=3,48,48
class FaceExpressionNet(torch.nn.Module):
    def __init__(self):
        super(FaceExpressionNet, self).__init__()
        self.conv1 = torch.nn.Conv2d(3, 32, kernel_size=3, stride=1, padding=1)
        self.conv2 = torch.nn.Conv2d(32, 64, kernel_size=3, stride=2, padding=1)
        self.conv3 = torch.nn.Conv2d(64, 128, kernel_size=3, stride=2, padding=1)
        self.pool = torch.nn.MaxPool2d(kernel_size=2, stride=2)
        self.dropout = torch.nn.Dropout(p=0.25)
        self.fc1 = torch.nn.Linear(128 * 12 * 12, 512)
        self.fc2 = torch.nn.Linear(512, 7)

    def forward(self, x):
        x = torch.nn.functional.relu(self.conv1(x))
        x = torch.nn.functional.relu(self.conv2(x))
        x = self.pool(torch.nn.functional.relu(self.conv3(x)))
        x = self.dropout(x)
        x = x.reshape(x.shape[0], -1)
        x = torch.nn.functional.relu(self.fc1(x))
        return self.fc2(x)
