"""timm backbones with a fresh classification head."""
import timm
import torch.nn as nn


def build_backbone(name: str, num_classes: int, pretrained: bool = True, drop_rate: float = 0.2) -> nn.Module:
    # pretrained weights are fetched from the Hugging Face Hub by timm>=0.9
    return timm.create_model(name, pretrained=pretrained, num_classes=num_classes, drop_rate=drop_rate)
