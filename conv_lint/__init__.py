"""conv-lint: a static checker for the shape arithmetic of PyTorch models."""

__version__ = "0.1.0"
