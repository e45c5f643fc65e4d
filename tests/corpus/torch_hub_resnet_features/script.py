"""Extract 2048-d ResNet-50 features for a folder of images (for a k-NN index).

The model comes from torch.hub (pytorch/vision), images are read with PIL.
"""
import argparse
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torchvision import transforms

PREPROCESS = transforms.Compose([
    transforms.Resize(256),
    transforms.CenterCrop(224),
    transforms.ToTensor(),
    transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]),
])


def iter_batches(paths, size):
    for i in range(0, len(paths), size):
        chunk = paths[i:i + size]
        yield chunk, torch.stack([PREPROCESS(Image.open(p).convert("RGB")) for p in chunk])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--image-dir", default="images")
    ap.add_argument("--output", default="features.npz")
    ap.add_argument("--batch-size", type=int, default=64)
    args = ap.parse_args()

    model = torch.hub.load("pytorch/vision:v0.17.0", "resnet50", weights="IMAGENET1K_V2")
    model.fc = torch.nn.Identity()
    model = model.eval().to("cuda")

    paths = sorted(p for p in Path(args.image_dir).rglob("*") if p.suffix.lower() in {".jpg", ".jpeg", ".png"})
    feats, names = [], []
    with torch.inference_mode(), torch.autocast("cuda", dtype=torch.float16):
        for chunk, batch in iter_batches(paths, args.batch_size):
            out = model(batch.to("cuda", non_blocking=True)).float()
            feats.append(torch.nn.functional.normalize(out, dim=1).cpu().numpy())
            names.extend(str(p) for p in chunk)
    np.savez_compressed(args.output, features=np.concatenate(feats), paths=np.array(names))
    print(f"saved {len(names)} feature vectors to {args.output}")


if __name__ == "__main__":
    main()
