import torch
import torch.nn as nn
import torch.nn.functional as F


# conv-lint: input-shape=1,28,28
class VAE(nn.Module):
    def __init__(self, latent_dim=20):
        super(VAE, self).__init__()
        self.enc_conv1 = nn.Conv2d(1, 16, 4, stride=2, padding=1)   # 14x14
        self.enc_conv2 = nn.Conv2d(16, 32, 4, stride=2, padding=1)  # 7x7
        self.fc_mu = nn.Linear(32 * 7 * 7, latent_dim)
        self.fc_logvar = nn.Linear(32 * 7 * 7, latent_dim)
        self.dec_fc = nn.Linear(latent_dim, 32 * 7 * 7)
        self.dec_conv1 = nn.ConvTranspose2d(32, 16, 4, stride=2, padding=1)
        self.dec_conv2 = nn.ConvTranspose2d(16, 1, 4, stride=2, padding=1)

    def encode(self, x):
        h = F.relu(self.enc_conv1(x))
        h = F.relu(self.enc_conv2(h))
        h = h.view(h.size(0), -1)
        return self.fc_mu(h), self.fc_logvar(h)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        eps = torch.randn_like(std)
        return mu + eps * std

    def decode(self, z):
        h = F.relu(self.dec_fc(z))
        h = h.view(-1, 32, 8, 8)
        h = F.relu(self.dec_conv1(h))
        return torch.sigmoid(self.dec_conv2(h))

    def forward(self, x):
        mu, logvar = self.encode(x)
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar
