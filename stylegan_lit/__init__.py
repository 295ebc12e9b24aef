"""StyleGAN on PyTorch Lightning."""
