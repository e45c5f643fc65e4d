import torch.nn as nn
from torchvision.models import resnet50, ResNet50_Weights


class DefectClassifier(nn.Module):
    def __init__(self, n_classes, cfg):
        super().__init__()
        self.backbone = resnet50(weights=ResNet50_Weights.IMAGENET1K_V2)
        feat = self.backbone.fc.in_features
        self.backbone.fc = nn.Sequential(nn.Dropout(cfg.dropout), nn.Linear(feat, n_classes))
        self.freeze_epochs = cfg.freeze_epochs

    def set_backbone_trainable(self, flag: bool):
        for name, p in self.backbone.named_parameters():
            if not name.startswith("fc."):
                p.requires_grad = flag

    def forward(self, x):
        return self.backbone(x)
