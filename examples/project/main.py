"""Churn model training: a multi-file project (local package + requirements.txt) for submit_directory."""

from __future__ import annotations

import argparse
from pathlib import Path

from churn.features import build_features
from churn.model import train_model


def main() -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--output-dir", default="outputs")
    args = parser.parse_args()

    frame = build_features(Path(__file__).with_name("data") / "customers.csv")
    metrics = train_model(frame, Path(args.output_dir))
    return metrics


if __name__ == "__main__":
    __return__ = main()
