import torch
import torch.nn.functional as F
from torchmetrics.classification import MulticlassF1Score


def _evaluate(model, loader, device, n_classes):
    f1 = MulticlassF1Score(num_classes=n_classes, average="macro").to(device)
    model.eval()
    with torch.no_grad():
        for x, y in loader:
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            f1.update(model(x).argmax(1), y)
    return f1.compute().item()


def fit(model, train_dl, val_dl, cfg, device):
    n_classes = model.backbone.fc[-1].out_features
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg.epochs)
    scaler = torch.cuda.amp.GradScaler(enabled=cfg.amp)
    best = 0.0
    for epoch in range(cfg.epochs):
        model.set_backbone_trainable(epoch >= model.freeze_epochs)
        model.train()
        for x, y in train_dl:
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            with torch.autocast(device_type="cuda", enabled=cfg.amp):
                loss = F.cross_entropy(model(x), y, label_smoothing=0.05)
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        sched.step()
        score = _evaluate(model, val_dl, device, n_classes)
        print(f"epoch {epoch}: loss={loss.item():.4f} f1={score:.4f}")
        if score > best:
            best = score
            torch.save(model.state_dict(), "best.pt")
    return best
